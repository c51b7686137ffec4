"""``mhhs-workbench``: generate, validate and verify MHHS test data from the command line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import __version__

if TYPE_CHECKING:
    from .scenario import Scenario


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mhhs-workbench")
def main() -> None:
    """Realistic, valid test data for GB Market-wide Half-Hourly Settlement (IF-021, IF-041)."""


def _generate(scenario: Scenario, out: Path, *, overwrite: bool, overwrite_extra_files: bool,
              allow_large: bool, chunk_size: int, progress: bool, workers: int | None = None,
              scheduler: str | None = None) -> None:
    """Check the size, generate and publish; every failure is one ``error:`` line.

    Exit status 2 for a refusal or failure, 128 + the signal number (130, 143) when interrupted.
    """
    from .budget import BudgetError
    from .dataset import generate_dataset
    from .profiles import TemperatureDataError
    from .publication import Interrupted, PublicationError
    from .readings import RegisterCapacityError
    from .scale import ScaleUnavailable
    from .scenario import ScenarioError

    try:
        summary = generate_dataset(scenario, out, overwrite=overwrite or overwrite_extra_files,
                                   overwrite_extra_files=overwrite_extra_files, allow_large=allow_large,
                                   chunk_size=chunk_size, progress=progress, workers=workers,
                                   scheduler=scheduler)
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
    click.echo(summary.describe())


def _scale_options(command: Callable[..., None]) -> Callable[..., None]:
    """``--workers`` and ``--scheduler`` of demo and generate."""
    options = [
        click.option("--workers", type=click.IntRange(min=1), default=None,
                     help="Write chunks on a local Dask cluster of N single-threaded worker processes "
                     "(needs the scale extra); the output is byte-identical to one process."),
        click.option("--scheduler", metavar="ADDRESS", default=None,
                     help="Write chunks on a running Dask cluster (e.g. tcp://host:8786); its workers "
                     "must see --out at the same path."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _publication_options(command: Callable[..., None]) -> Callable[..., None]:
    """``--overwrite``, ``--overwrite-extra-files`` and ``--allow-large`` of demo and generate."""
    options = [
        click.option("--overwrite", is_flag=True,
                     help="Replace an existing data set of this tool at --out (once the new one is "
                     "complete); refused if it holds files not in its manifest."),
        click.option("--overwrite-extra-files", is_flag=True,
                     help="Like --overwrite, and also delete files in the old data set that its "
                     "manifest does not list."),
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
def demo(out: Path, overwrite: bool, overwrite_extra_files: bool, allow_large: bool, chunk_size: int,
         no_progress: bool, workers: int | None, scheduler: str | None) -> None:
    """Generate the built-in demo data set: 200 mixed meters x 14 days over the October clock change."""
    from .scenario import demo_scenario

    _generate(demo_scenario(), out, overwrite=overwrite, overwrite_extra_files=overwrite_extra_files,
              allow_large=allow_large, chunk_size=chunk_size, progress=not no_progress, workers=workers,
              scheduler=scheduler)


@main.command()
@click.argument("scenario_file", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder to publish the data set as.")
@_publication_options
@click.option("--chunk-size", type=click.IntRange(min=1), default=500, show_default=True,
              help="Meters generated at once (memory vs speed; output is the same).")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@_scale_options
def generate(scenario_file: Path, out: Path, overwrite: bool, overwrite_extra_files: bool, allow_large: bool,
             chunk_size: int, no_progress: bool, workers: int | None, scheduler: str | None) -> None:
    """Generate the data set a SCENARIO_FILE (YAML) describes."""
    from .scenario import Scenario, ScenarioError

    try:
        scenario = Scenario.from_yaml(scenario_file)
    except ScenarioError as exc:
        _fail(str(exc))
    _generate(scenario, out, overwrite=overwrite, overwrite_extra_files=overwrite_extra_files,
              allow_large=allow_large, chunk_size=chunk_size, progress=not no_progress, workers=workers,
              scheduler=scheduler)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--spec-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Validate against Elexon's official DIP API YAML in this folder instead of the "
              "package's own schemas.")
@click.option("--no-rules", is_flag=True, help="Check the schema only, not the business rules.")
def validate(paths: tuple[Path, ...], spec_dir: Path | None, no_rules: bool) -> None:
    """Validate IF-021 / IF-041 message files (or folders of them)."""
    from .validation import format_report, validate_files

    report = validate_files(list(paths), spec_dir=spec_dir, business_rules=not no_rules)
    click.echo(format_report(report))
    sys.exit(0 if report.ok else 1)


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def verify(folder: Path) -> None:
    """Re-check a published data set against its manifest of checksums (and the manifest itself)."""
    from .export import verify as verify_folder

    problems = verify_folder(folder)
    for line in problems:
        click.echo(f"FAIL {line}")
    if problems:
        # one error line however many problems; the FAIL lines above say which
        click.echo(f"error: {folder}: {len(problems)} problem(s), see the FAIL lines", err=True)
        sys.exit(1)
    click.echo(f"OK  {folder}: every file matches manifest.json")


@main.command()
@click.argument("notebook")
@click.option("-p", "--parameter", "parameters", nargs=2, multiple=True, metavar="NAME VALUE",
              help="Set a notebook parameter; VALUE is read as YAML (8, true, null, 2025-03-01 as text).")
@click.option("-f", "--parameters-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML file of parameters; -p values override it.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the executed notebook (default: evidence/ in the data set it documents).")
@click.option("--log-output", is_flag=True, help="Echo the notebook's output while it runs.")
def run(notebook: str, parameters: tuple[tuple[str, str], ...], parameters_file: Path | None,
        out: Path | None, log_output: bool) -> None:
    """Run NOTEBOOK headless (a path, or generate_dataset, validate_messages, profile_designer)."""
    try:
        from .notebook_runner import (
            NotebookFailed,
            RunError,
            load_parameter_file,
            parse_parameter_value,
            run_notebook,
        )
    except ImportError as exc:
        _fail(f"running notebooks needs the notebook extra ({exc.name} is missing): "
              "pip install 'mhhs-workbench[notebook]'")

    try:
        values = load_parameter_file(parameters_file) if parameters_file else {}
        values.update({name: parse_parameter_value(value) for name, value in parameters})
        result = run_notebook(notebook, values, out=out, log_output=log_output)
    except RunError as exc:
        _fail(str(exc))
    except NotebookFailed as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"executed notebook: {result.notebook}")
    if result.dataset is not None:
        click.echo(f"recorded in {result.dataset / 'manifest.json'}")


if __name__ == "__main__":  # pragma: no cover
    main()
