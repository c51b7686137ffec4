"""``mhhs-workbench``: generate, convert, validate and verify MHHS test data from the command line.

Each command imports the package's machinery when it runs, not when the module loads: the
command line is the one place where start-up time is the user's waiting time (``--help``, a
refused file or a bad option answer in a tenth of a second instead of the seconds the whole
package takes to import). Everywhere else imports sit at the top of the module.
"""

from __future__ import annotations

import contextlib
import errno
import io
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mhhs_workbench import __version__

if TYPE_CHECKING:
    import pandas as pd

    from mhhs_workbench.dataset import DatasetSummary
    from mhhs_workbench.scenario.document import Scenario


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


#: What the running command has done that stays done (``published DIR``): named in the error
#: line when its output then cannot be written.
_DONE: list[str] = []


class OutputFailed(BaseException):
    """Standard output or standard error could not be written (a full disk, a closed pipe).

    A ``BaseException`` like ``KeyboardInterrupt``, so that no ``except OSError`` or ``except
    Exception`` on the way (a publication's cleanup, a check per file) takes it for a failure of
    its own: it ends the command, and :func:`console` words it.

    Parameters
    ----------
    stream : str
        ``stdout`` or ``stderr``.
    error : OSError
        The failure of the write.
    """

    def __init__(self, stream: str, error: OSError) -> None:
        super().__init__(stream, error)
        self.stream = stream
        self.error = error


class _GuardedWriter(io.BufferedIOBase):
    """The binary writer under a standard stream that turns a failed write into :class:`OutputFailed`.

    After the first failure whatever follows is discarded, so that the final flush of a command
    that is ending does not fail again.

    Parameters
    ----------
    raw : binary file
        The stream's own writer (``sys.stdout.buffer``).
    stream : str
        ``stdout`` or ``stderr``.
    """

    def __init__(self, raw: Any, stream: str) -> None:
        super().__init__()
        self._raw = raw
        self.stream = stream
        self.failure: OSError | None = None

    @property
    def name(self) -> Any:
        """The name of the stream's own writer (``<stdout>``)."""
        return getattr(self._raw, "name", f"<{self.stream}>")

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._raw.fileno()

    def isatty(self) -> bool:
        return self._raw.isatty()

    def write(self, data: Any) -> int:
        if self.failure is None:
            try:
                return self._raw.write(data)
            except OSError as exc:
                self._failed(exc)
        return memoryview(data).nbytes

    def flush(self) -> None:
        if self.failure is None:
            try:
                self._raw.flush()
            except OSError as exc:
                self._failed(exc)

    def _failed(self, exc: OSError) -> None:
        self.failure = exc
        raise OutputFailed(self.stream, exc) from None


def _guard_streams() -> None:
    """Put :class:`_GuardedWriter` under ``sys.stdout`` and ``sys.stderr`` (same encoding and buffering)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None or not hasattr(stream, "buffer"):
            continue
        stream.flush()
        guarded = io.TextIOWrapper(_GuardedWriter(stream.buffer, name), encoding=stream.encoding,
                                   errors=stream.errors, line_buffering=stream.line_buffering,
                                   write_through=True)
        guarded.mode = "w"  # type: ignore[misc]  # as open() sets it: click reads it
        setattr(sys, name, guarded)


def _output_failed(exc: OutputFailed) -> int:
    """Word a standard stream that could not be written; return the exit status.

    A closed pipe (``mhhs-workbench validate ... | head -1``) ends the command quietly with
    status 141, which is 128 + SIGPIPE: what a shell shows for a command that a closed pipe ended
    (``yes | head -1``), in line with 130 and 143 for SIGINT and SIGTERM, and apart from the 1
    of an invalid message. Python's own convention (status 1, also click's) would be taken for
    that. Any other failure (a full disk) is one ``error:`` line on standard error, when that can
    still be written, naming what was already done (``published DIR; but ...``), and status 2.
    """
    if exc.error.errno == errno.EPIPE:
        return 141
    line = f"cannot write the output to {exc.stream}: {exc.error.strerror or exc.error}"
    if _DONE:
        line = f"{' and '.join(_DONE)}; but {line}"
    if exc.stream != "stderr":
        with contextlib.suppress(OutputFailed):
            click.echo(f"error: {line}", err=True)
    return 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mhhs-workbench")
def main() -> None:
    """Realistic, valid test data for GB Market-wide Half-Hourly Settlement (IF-021, IF-041)."""
    import warnings

    _DONE.clear()

    # a warning is a note to the user: one line, without the source line Python would add
    warnings.formatwarning = lambda message, *args, **kwargs: f"warning: {message}\n"


def _generate(scenario: Scenario, out: Path, **options: Any) -> None:
    """Generate and publish a scenario's data set (see :func:`_publish`)."""
    from mhhs_workbench.dataset import generate_dataset

    _publish(lambda: generate_dataset(scenario, out, **options), out)


def _publish(make: Callable[[], DatasetSummary], out: Path,
             then: Callable[[], list[str]] | None = None) -> None:
    """Run ``make`` (which checks the size, writes and publishes); every failure is one ``error:`` line.

    Exit status 2 for a refusal or failure, 128 + the signal number (130, 143) when interrupted.
    ``then`` writes what goes with the data set (the pseudonym mapping) and returns the lines it
    has to say: it runs before anything is printed, so that an output that cannot be written
    (a full disk, a closed pipe) loses nothing of it.
    """
    from mhhs_workbench.model.profiles import TemperatureDataError
    from mhhs_workbench.model.readings import RegisterCapacityError
    from mhhs_workbench.pipeline.cluster import ScaleUnavailable
    from mhhs_workbench.publish.budget import BudgetError
    from mhhs_workbench.publish.publication import Interrupted, PublicationError
    from mhhs_workbench.scenario.errors import ScenarioError

    try:
        summary = make()
    except (BudgetError, PublicationError, TemperatureDataError, RegisterCapacityError, ScenarioError,
            ScaleUnavailable) as exc:
        _fail(str(exc))
    except OSError as exc:  # outside the publication (which words its own): e.g. the size check
        _fail(f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc))
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM turned into Interrupted by Publication
        if isinstance(exc, Interrupted):
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_status)
        click.echo(f"error: interrupted; nothing was published at {out}", err=True)
        sys.exit(130)
    _DONE.append(f"published {out}")
    notes = then() if then is not None else []
    click.echo(summary.describe())
    for line in notes:
        click.echo(line)


def _check_output(path: Path, **options: Any) -> None:
    """Refuse an output path before any work starts (see :mod:`mhhs_workbench.publish.outputs`)."""
    from mhhs_workbench.publish.outputs import OutputRefused, check_output

    try:
        check_output(path, **options)
    except OutputRefused as exc:
        _fail(" ".join(str(exc).split()))


def _scale_options(command: Callable[..., None]) -> Callable[..., None]:
    """``--workers``, ``--scheduler`` and ``--timeout`` of demo, generate and from-csv."""
    options = [
        click.option("--workers", type=click.IntRange(min=1), default=None,
                     help="Write chunks on a local Dask cluster of N single-threaded worker processes "
                     "(needs the scale extra); the output is byte-identical to one process."),
        click.option("--scheduler", metavar="ADDRESS", default=None,
                     help="Write chunks on a running Dask cluster (e.g. tcp://host:8786); its workers "
                     "must see --out at the same path."),
        click.option("--timeout", "scheduler_timeout", type=click.FloatRange(min=0, min_open=True),
                     default=30.0, show_default=True, metavar="SECONDS",
                     help="With --scheduler: give up (exit status 2, nothing published) when the "
                     "scheduler does not answer, or no worker joins it, within SECONDS."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _publication_options(command: Callable[..., None]) -> Callable[..., None]:
    """``--overwrite``, ``--overwrite-extra-files``, ``--overwrite-modified`` and ``--allow-large``
    of demo, generate and from-csv."""
    options = [
        click.option("--overwrite", is_flag=True,
                     help="Replace an existing data set of this tool at --out (once the new one is "
                     "complete): only a generated or converted one, whose files match its manifest "
                     "and which holds no files the manifest does not list."),
        click.option("--overwrite-extra-files", is_flag=True,
                     help="Like --overwrite, and also delete files in the old data set that its "
                     "manifest does not list."),
        click.option("--overwrite-modified", is_flag=True,
                     help="Like --overwrite, and also replace a data set whose files were edited "
                     "since it was published (verify reports them; the edits are lost)."),
        click.option("--allow-large", is_flag=True,
                     help="Generate even if the size estimate is over the output limit "
                     "(MHHS_WORKBENCH_MAX_OUTPUT_GB, default 50), the free space or the memory."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@main.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("demo-data"), show_default=True,
              help="Folder to publish the data set as.")
@_publication_options
@click.option("--chunk-size", type=click.IntRange(min=1), default=500, show_default=True,
              help="Meters generated at once (memory vs speed; output is the same).")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@_scale_options
def demo(out: Path, overwrite: bool, overwrite_extra_files: bool, overwrite_modified: bool, allow_large: bool,
         chunk_size: int, no_progress: bool, workers: int | None, scheduler: str | None,
         scheduler_timeout: float) -> None:
    """Generate the built-in demo data set: 200 mixed meters x 14 days over the October clock change."""
    from mhhs_workbench.publish.replacing import DATASET_KIND
    from mhhs_workbench.scenario.demo import demo_scenario

    _check_output(out, kind=DATASET_KIND, overwrite=overwrite, overwrite_extra_files=overwrite_extra_files,
                  overwrite_modified=overwrite_modified)
    _generate(demo_scenario(), out, overwrite=overwrite, overwrite_extra_files=overwrite_extra_files,
              overwrite_modified=overwrite_modified, allow_large=allow_large, chunk_size=chunk_size, progress=not no_progress, workers=workers,
              scheduler=scheduler, scheduler_timeout=scheduler_timeout)


@main.command()
@click.argument("scenario_file", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder to publish the data set as.")
@_publication_options
@click.option("--chunk-size", type=click.IntRange(min=1), default=500, show_default=True,
              help="Meters generated at once (memory vs speed; output is the same).")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@_scale_options
def generate(scenario_file: Path, out: Path, overwrite: bool, overwrite_extra_files: bool,
             overwrite_modified: bool, allow_large: bool, chunk_size: int, no_progress: bool,
             workers: int | None, scheduler: str | None, scheduler_timeout: float) -> None:
    """Generate the data set a SCENARIO_FILE (YAML) describes."""
    from mhhs_workbench.publish.replacing import DATASET_KIND
    from mhhs_workbench.scenario.document import Scenario
    from mhhs_workbench.scenario.errors import ScenarioError

    try:
        scenario = Scenario.from_yaml(scenario_file)
    except ScenarioError as exc:
        _fail(str(exc))
    _check_output(out, kind=DATASET_KIND, inputs=[scenario_file, scenario.temperature_csv or None],
                  overwrite=overwrite, overwrite_extra_files=overwrite_extra_files,
                  overwrite_modified=overwrite_modified)
    _generate(scenario, out, overwrite=overwrite, overwrite_extra_files=overwrite_extra_files,
              overwrite_modified=overwrite_modified, allow_large=allow_large, chunk_size=chunk_size, progress=not no_progress, workers=workers,
              scheduler=scheduler, scheduler_timeout=scheduler_timeout)


@main.command("from-csv")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder to publish the data set as.")
@click.option("--scenario", "scenario_file", type=click.Path(path_type=Path),
              help="Scenario YAML giving participants, environment tag, messages per file, register "
              "settings and seed (default: the demo's); its dates and meters come from the CSV.")
@click.option("--layout", type=click.Choice(["long", "local", "wide"]),
              help="Force the layout instead of detecting it from the header.")
@click.option("--max-kwh", type=click.FloatRange(min=0, min_open=True), default=10_000.0, show_default=True,
              help="Largest plausible value of one half hour [kWh]; larger ones are errors.")
@click.option("--fill-missing", is_flag=True,
              help="Estimate half hours missing inside the data (E0/E5, reason 2) instead of refusing them.")
@click.option("--drop-incomplete-days", is_flag=True,
              help="Drop a first or last UTC day the data covers in part instead of completing it.")
@click.option("--register-csv", type=click.Path(path_type=Path),
              help="CSV of mpan,register_start_kwh: each MPAN's register at its first half hour.")
@click.option("--pseudonymise", "pseudonymise_key", metavar="KEY", envvar="MHHS_WORKBENCH_PSEUDONYMISE_KEY",
              help="Replace MPANs and meter IDs by synthetic valid ones derived from KEY (or from "
              "$MHHS_WORKBENCH_PSEUDONYMISE_KEY, which keeps the key out of the shell history).")
@click.option("--mapping-out", type=click.Path(path_type=Path),
              help="With --pseudonymise: write the real -> pseudonym mapping to this CSV, outside --out.")
@_publication_options
@click.option("--chunk-size", type=click.IntRange(min=1), default=500, show_default=True,
              help="Meters converted at once (memory vs speed; output is the same).")
@click.option("--no-progress", is_flag=True, help="Hide the progress bars.")
@_scale_options
def from_csv(files: tuple[Path, ...], out: Path, scenario_file: Path | None, layout: str | None,
             max_kwh: float, fill_missing: bool, drop_incomplete_days: bool, register_csv: Path | None,
             pseudonymise_key: str | None, mapping_out: Path | None, overwrite: bool,
             overwrite_extra_files: bool, overwrite_modified: bool, allow_large: bool, chunk_size: int,
             no_progress: bool, workers: int | None, scheduler: str | None,
             scheduler_timeout: float) -> None:
    """Convert consumption CSV FILES (long, local or wide layout) into a data set of IF-021 and IF-041
    messages; every problem in the files is listed as file:line: column: value: rule."""
    from mhhs_workbench.csv_input.reader import CsvInputError, read_csv_input
    from mhhs_workbench.publish.replacing import DATASET_KIND
    from mhhs_workbench.scenario.document import Scenario
    from mhhs_workbench.scenario.errors import ScenarioError

    pseudonymise_key = _pseudonymisation_key(pseudonymise_key)
    try:
        scenario = Scenario.from_yaml(scenario_file) if scenario_file is not None else None
    except ScenarioError as exc:
        _fail(str(exc))
    inputs = [*files, register_csv, scenario_file]
    _check_output(out, kind=DATASET_KIND, inputs=inputs, overwrite=overwrite, overwrite_extra_files=overwrite_extra_files,
                  overwrite_modified=overwrite_modified)
    if mapping_out is not None:
        _check_mapping_out(mapping_out, out, pseudonymise_key, inputs,
                           overwrite or overwrite_extra_files or overwrite_modified)
    try:
        read = read_csv_input(list(files), layout=layout, max_kwh=max_kwh, fill_missing=fill_missing,
                              drop_incomplete_days=drop_incomplete_days, pseudonymise_key=pseudonymise_key,
                              register_csv=register_csv, progress=not no_progress)
    except CsvInputError as exc:
        for line in exc.problems:
            click.echo(line, err=True)
        _fail(exc.summary)
    except ValueError as exc:  # an argument no input could satisfy (an empty key, ...)
        _fail(str(exc))
    except KeyboardInterrupt:  # Ctrl-C while reading: nothing was written yet
        click.echo("error: interrupted while reading the input; nothing was converted", err=True)
        sys.exit(130)
    from mhhs_workbench.dataset import convert_csv

    _publish(lambda: convert_csv(read.supplied, out, scenario=scenario, overwrite=overwrite,
                                 overwrite_extra_files=overwrite_extra_files,
                                 overwrite_modified=overwrite_modified, allow_large=allow_large,
                                 chunk_size=chunk_size, progress=not no_progress, workers=workers,
                                 scheduler=scheduler, scheduler_timeout=scheduler_timeout), out,
             then=lambda: _write_mapping(read.mapping, mapping_out))
    actions = [note["action"] for note in read.supplied.notes]
    changes = "; ".join(f"{a}: {actions.count(a)}" for a in sorted(set(actions)))
    click.echo(f"  from {read.rows} input rows ({read.values} half hours); "
               + (f"changes ({changes}) listed in inputs/conversion_report.csv" if actions else "no changes"))


_KEY_ENV = "MHHS_WORKBENCH_PSEUDONYMISE_KEY"


def _pseudonymisation_key(option: str | None) -> str | None:
    """The key from --pseudonymise or the environment; an empty or undecodable one is an error.

    Click takes an empty environment variable for an unset one, which would quietly publish the
    real MPANs: the environment is read here directly.
    """
    import os

    if option is None and os.environ.get(_KEY_ENV) == "":
        _fail(f"${_KEY_ENV} is set but empty; an empty key would publish the real MPANs: set a key, "
              "or unset the variable to convert without pseudonymising")
    if option == "":
        _fail("--pseudonymise needs a non-empty KEY; an empty key would publish the real MPANs")
    try:
        if option is not None:
            option.encode("utf-8")
    except UnicodeEncodeError:
        _fail(f"the pseudonymisation key (--pseudonymise or ${_KEY_ENV}) is not valid UTF-8 text "
              "(the environment's encoding could not decode it); use a key of UTF-8 characters")
    return option


def _check_mapping_out(mapping_out: Path, out: Path, key: str | None, inputs: list[Path | None],
                       overwrite: bool) -> None:
    """Refuse a mapping file that could not be written safely, before anything is converted."""
    import os

    from mhhs_workbench.publish.outputs import FILE

    if not key:
        _fail("--mapping-out needs --pseudonymise KEY")
    target, folder = Path(os.path.realpath(mapping_out)), Path(os.path.realpath(out))
    if target == folder or folder in target.parents:
        _fail(f"--mapping-out {mapping_out} is inside --out {out}: the mapping re-identifies the data, "
              "keep it outside the data set")
    # nor inside any other data set, nor on an input (hard links and bind mounts included)
    _check_output(mapping_out, kind=FILE, option="--mapping-out", inputs=inputs, others=[("--out", out)])
    if os.path.lexists(mapping_out) and not overwrite:
        _fail(f"--mapping-out {mapping_out} exists; give --overwrite to replace it")


def _write_mapping(mapping: pd.DataFrame | None, path: Path | None) -> list[str]:
    """Write the pseudonym mapping atomically, readable by its owner only; the line to print."""
    import os
    import tempfile

    if mapping is None or path is None:
        return []
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.resolve().parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            mapping.to_csv(fh, index=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        _fail(f"the data set was published, but the mapping could not be written to {path}: "
              f"{exc.strerror or exc}")
    _DONE.append(f"wrote the pseudonym mapping to {path}")
    return [f"  pseudonym mapping written to {path} (keep it apart from the data set)"]


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--spec", metavar="VERSION|DIR|FILE",
              help="Elexon's DIP API release to check against as well as the package's schema: a "
              "known version (2.1.0, 2.2.1; found on $MHHS_WORKBENCH_SPEC_PATH), a folder of its "
              "unresolved YAML or its resolved JSON file. Default: the data set's spec_version, "
              "else the newest known, when found.")
@click.option("--spec-dir", metavar="DIR",
              help="Older name of --spec for a folder of Elexon's YAML.")
@click.option("--nullable", type=click.Choice(["lenient", "strict"]), default="lenient",
              show_default=True,
              help="Reading of OpenAPI 3.0 'nullable' beside an enum: strict (OpenAPI 3.0.3) "
              "refuses null where the enum does not list it.")
@click.option("--no-rules", is_flag=True, help="Check the schemas only, not the business rules.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Terminal summary, or the findings as JSON.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a JUnit XML report here (one test case per file).")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a self-contained HTML report here (counts, chart, findings).")
@click.option("--max-file-gb", type=click.FloatRange(min=0, min_open=True),
              help="Largest file read [GB]; larger ones are reported unread. Default: "
              "$MHHS_WORKBENCH_VALIDATE_MAX_GB, else 20.")
def validate(paths: tuple[Path, ...], spec: str | None, spec_dir: str | None, nullable: str,
             no_rules: bool, output_format: str, junit: Path | None, html_out: Path | None,
             max_file_gb: float | None) -> None:
    """Validate IF-021 / IF-041 message files (or folders of them).

    One run checks the package's JSON Schema, Elexon's schema of one DIP API release and the
    business rules, within messages and across all of them. Exit status 0 when every message
    is valid, 1 when one is not, 2 when the specification cannot be found.
    """
    from mhhs_workbench.publish.outputs import FILE
    from mhhs_workbench.validation.files import validate_files
    from mhhs_workbench.validation.outputs import report_json, write_html, write_junit
    from mhhs_workbench.validation.problems import format_report
    from mhhs_workbench.validation.spec_choice import AUTO_SPEC
    from mhhs_workbench.validation.spec_versions import SchemaError

    if spec is not None and spec_dir is not None:
        _fail("give --spec or --spec-dir, not both (--spec-dir is the older name of --spec)")
    for option, report_path, other in (("--junit", junit, ("--html", html_out)),
                                       ("--html", html_out, ("--junit", junit))):
        if report_path is not None:
            _check_output(report_path, kind=FILE, option=option, inputs=paths, others=[other])
    given = spec if spec is not None else spec_dir
    try:
        report = validate_files(list(paths), spec=AUTO_SPEC if given is None else given,
                                business_rules=not no_rules, nullable=nullable,
                                max_file_gb=max_file_gb)
    except (SchemaError, ValueError) as exc:  # unknown version, unreadable spec, bad limit
        _fail(" ".join(str(exc).split()))  # one line, whatever the message holds
    click.echo(report_json(report) if output_format == "json" else format_report(report))
    for report_path, write in ((junit, write_junit), (html_out, write_html)):
        if report_path is not None:
            try:  # a failed write() names no file: the path is the one given
                write(report, report_path)
            except OSError as exc:
                _fail(f"cannot write the report {report_path}: {exc.strerror or exc}")
    sys.exit(0 if report.ok else 1)


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def verify(folder: Path) -> None:
    """Re-check a published data set against its manifest of checksums (and the manifest itself)."""
    from mhhs_workbench.publish.manifest import verify as verify_folder

    problems = verify_folder(folder)
    for line in problems:
        click.echo(f"FAIL {line}")
    if problems:
        # one error line however many problems; the FAIL lines above say which
        click.echo(f"error: {folder}: {len(problems)} problem(s), see the FAIL lines", err=True)
        sys.exit(1)
    click.echo(f"OK  {folder}: every file matches manifest.json")


@main.command()
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Folder to publish the labelled invalid messages as.")
@click.option("--rules", metavar="CODE,...",
              help="Rule codes to break, comma-separated (default: every rule the catalogue breaks).")
@click.option("--per-rule", type=click.IntRange(min=1), default=1, show_default=True,
              help="Cases per rule (per schema class for SCHEMA).")
@click.option("--overwrite", is_flag=True,
              help="Replace an earlier output of this command (negative test data) at --out; refused "
              "if its files differ from its manifest or it holds files not in its manifest.")
@click.option("--overwrite-extra-files", is_flag=True,
              help="Like --overwrite, and also delete files the old output's manifest does not list.")
@click.option("--overwrite-modified", is_flag=True,
              help="Like --overwrite, and also replace an output whose files were edited since it was "
              "published (the edits are lost).")
def negative(dataset: Path, out: Path, rules: str | None, per_rule: int, overwrite: bool,
             overwrite_extra_files: bool, overwrite_modified: bool) -> None:
    """Derive labelled invalid messages from the valid DATASET, one broken rule each, listed with
    their rule code in expected.csv."""
    from mhhs_workbench.negative.cases import NegativeError, check_rules, generate_negative
    from mhhs_workbench.publish.replacing import NEGATIVE_KIND

    _check_output(out, kind=NEGATIVE_KIND, inputs=[dataset], overwrite=overwrite,
                  overwrite_extra_files=overwrite_extra_files, overwrite_modified=overwrite_modified)
    try:
        codes = check_rules(rules.split(",") if rules else None)
        _publish(lambda: generate_negative(dataset, out, rules=codes, per_rule=per_rule,
                                           overwrite=overwrite, overwrite_extra_files=overwrite_extra_files,
                                           overwrite_modified=overwrite_modified), out)
    except NegativeError as exc:
        _fail(str(exc))


@main.command()
@click.argument("notebook")
@click.option("-p", "--parameter", "parameters", nargs=2, multiple=True, metavar="NAME VALUE",
              help="Set a notebook parameter; VALUE is read as YAML (8, true, null, 2025-03-01 as text).")
@click.option("-f", "--parameters-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML file of parameters; -p values override it.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the executed notebook (default: evidence/ in the data set it documents).")
@click.option("--log-output", is_flag=True, help="Echo the notebook's output while it runs.")
@click.option("--overwrite", is_flag=True,
              help="Set the notebook's overwrite parameter (replace the data set it publishes).")
def run(notebook: str, parameters: tuple[tuple[str, str], ...], parameters_file: Path | None,
        out: Path | None, log_output: bool, overwrite: bool) -> None:
    """Run NOTEBOOK headless (a path, or generate_dataset, convert_csv, validate_messages,
    explore_dataset, profile_designer)."""
    try:  # the runner needs the optional notebook extra (jupyter_client, papermill, nbformat)
        from mhhs_workbench.notebook.runner import (
            NotebookFailed,
            RunError,
            find_notebook,
            load_parameter_file,
            parse_parameter_value,
            run_notebook,
        )
    except ImportError as exc:
        _fail(f"running notebooks needs the notebook extra ({exc.name} is missing): "
              "pip install 'mhhs-workbench[notebook]'")

    from mhhs_workbench.publish.outputs import EVIDENCE

    if out is not None:
        try:
            source = find_notebook(notebook)
        except RunError as exc:
            _fail(str(exc))
        _check_output(out, kind=EVIDENCE, inputs=[source, parameters_file], file_name=source.name)
    try:
        values = load_parameter_file(parameters_file) if parameters_file else {}
        values.update({name: parse_parameter_value(value) for name, value in parameters})
        command = shlex.join(["mhhs-workbench", "run", notebook,
                              *(["-f", str(parameters_file)] if parameters_file else []),
                              *(part for pair in parameters for part in ("-p", *pair)),
                              *(["--out", str(out)] if out else []), *(["--overwrite"] if overwrite else [])])
        result = run_notebook(notebook, values, out=out, log_output=log_output, overwrite=overwrite,
                              command=command)
    except RunError as exc:
        _fail(str(exc))
    except NotebookFailed as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"executed notebook: {result.notebook}")
    if result.dataset is not None:
        click.echo(f"recorded in {result.dataset / 'manifest.json'}")


def console() -> None:
    """The ``mhhs-workbench`` console command: :func:`main`, then a hard process exit.

    The command runs to its end as usual (Python's ``atexit`` handlers included); only the C++
    teardown that follows is skipped: Arrow's thread pools can abort an exiting interpreter with
    "terminate called without an active exception" (apache/arrow#34314), which turned a finished
    command's exit status into a crash now and then on a loaded machine.

    Standard output and error are guarded: one that cannot be written ends the command without
    a traceback, quietly with status 141 for a closed pipe, else with one ``error:`` line and
    status 2 (see :func:`_output_failed`).
    """
    import atexit
    import os

    _guard_streams()
    try:
        try:
            main()
            status: object = 0
        except SystemExit as exc:
            status = exc.code
        if status is None:
            status = 0
        elif not isinstance(status, int):  # sys.exit("message") prints the message, status 1
            click.echo(status, err=True)
            status = 1
        sys.stdout.flush()
        sys.stderr.flush()
    except OutputFailed as exc:
        status = _output_failed(exc)
    atexit._run_exitfuncs()
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    console()
