"""Test evidence: what an executed notebook shows about the data it made or checked.

The notebooks call these helpers so each of their cells stays a one-liner: the scenario, the
counts, the validation result, sample messages, plots and checksums. Each helper returns an
object that a notebook displays as rich output (Markdown, a table or a PNG), so an executed
notebook is a self-contained record of the run, naming the release of Elexon's DIP API the
messages were checked against and its sha256. :func:`verdict` records that validation in the data
set's manifest (:func:`record_validation`) and :func:`record_in_manifest` adds the executed
notebook to it afterwards.

The helpers speak the notebook's language: :func:`generate` and :func:`convert` publish into a
fresh workspace folder when ``out`` is empty and turn a refusal (a data set already there) into
one line naming the parameter to set; warnings are printed as ``Note: ...`` lines.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
from IPython.display import Image, Markdown
from matplotlib.figure import Figure

from mhhs_workbench.csv_input.reader import CsvInputError
from mhhs_workbench.csv_input.reader import read_csv_input as read
from mhhs_workbench.dataset import convert_csv, generate_dataset
from mhhs_workbench.notebook.notes import NotebookStop, as_parameters, notes
from mhhs_workbench.notebook.plots import figure_png
from mhhs_workbench.notebook.run_identity import run_identity, sha256_text
from mhhs_workbench.notebook.scenario_parameters import build_scenario
from mhhs_workbench.notebook.workspace import fresh_folder
from mhhs_workbench.publish.budget import BudgetError
from mhhs_workbench.publish.manifest import (
    MANIFEST,
    MANIFEST_CHECKSUM,
    PublicationError,
    find_dataset_root,
    manifest_checksum,
    sha256_file,
    verify,
    write_manifest,
)
from mhhs_workbench.scenario.document import Scenario
from mhhs_workbench.scenario.errors import ScenarioError
from mhhs_workbench.validation.files import validate_files
from mhhs_workbench.validation.problems import ValidationReport, format_report
from mhhs_workbench.validation.spec_choice import AUTO_SPEC
from mhhs_workbench.validation.spec_versions import Spec

__all__ = [
    "NotebookStop",
    "ValidationEvidence",
    "build_scenario",
    "checksums",
    "convert",
    "counts_table",
    "describe",
    "figure",
    "find_dataset_root",
    "generate",
    "message_file_counts",
    "notes",
    "record_in_manifest",
    "read_csv_input",
    "record_validation",
    "run_identity",
    "sample_messages",
    "scenario_checksum",
    "scenario_markdown",
    "validation",
    "verdict",
]

#: Text that starts the validation result when every message is valid (tests look for it).
VALID_TEXT = "Validation OK"


# --------------------------------------------------------------------------- scenario


def scenario_markdown(scenario: Scenario) -> Markdown:
    """The scenario as a YAML block that ``mhhs-workbench generate`` can re-run."""
    text = scenario.to_yaml()
    return Markdown(f"Scenario `{scenario.name}` (seed {scenario.seed}, sha256 `{sha256_text(text)}`), "
                    f"as YAML:\n\n```yaml\n{text}```")


def scenario_checksum(scenario: Scenario) -> str:
    """sha256 of the scenario's YAML (as the data set's ``scenario.yaml`` holds it), as hex."""
    return sha256_text(scenario.to_yaml())


# --------------------------------------------------------------------------- counts


def counts_table(summary: Any) -> pd.DataFrame:
    """Counts of a generation run as a two-column table.

    Parameters
    ----------
    summary : DatasetSummary or mapping or path
        A :class:`~mhhs_workbench.dataset.DatasetSummary`, a manifest, or a data set folder.
    """
    if isinstance(summary, (str, os.PathLike)):
        manifest = orjson.loads((Path(summary) / MANIFEST).read_bytes())
    else:
        manifest = getattr(summary, "manifest", summary)
    counts = {count_label(k): v for k, v in manifest["counts"].items()}
    counts["files checksummed in manifest.json"] = len(manifest["files"])
    return pd.DataFrame({"count": counts}).rename_axis("what")


#: Words for the manifest's count keys; others are spelt out by :func:`count_label`.
COUNT_LABELS: dict[str, str] = {
    "meters": "meters (sites)",
    "days": "UTC days",
    "consumption_rows": "consumption table rows (half hours)",
    "reading_rows": "register reads",
    "settlement_rows": "settlement table rows",
}

_INTERFACES = {"if021": "IF-021", "if041": "IF-041", "rep002b": "REP-002B", "rep002": "REP-002"}


def count_label(key: str) -> str:
    """A manifest count key in words: ``if021_files`` is "IF-021 message files"."""
    if key in COUNT_LABELS:
        return COUNT_LABELS[key]
    head, _, rest = key.partition("_")
    if head in _INTERFACES:
        what = {"files": "message files", "messages": "messages"}.get(rest, rest.replace("_", " "))
        return f"{_INTERFACES[head]} {what}"
    return key.replace("_", " ")


def describe(summary: Any) -> str:
    """Where a data set was written (absolute path) and its counts in words, for a notebook."""
    counts = summary.manifest["counts"]
    lines = [f"data set written to {Path(summary.path).absolute()}"]
    lines += [f"  {count_label(k)}: {v}" for k, v in counts.items()]
    lines.append(f"  files checksummed in manifest.json: {len(summary.manifest['files'])}")
    return "\n".join(lines)


def _publishing(make: Any, out: str | os.PathLike[str]) -> Any:
    """Run ``make()`` (which publishes at ``out``), with notes for warnings and a one-line stop
    naming the parameter to set when publishing is refused."""

    try:
        with notes():
            return make()
    except (PublicationError, ScenarioError, BudgetError) as exc:  # the user's to fix: one line
        raise NotebookStop(as_parameters(exc)) from None


def read_csv_input(*args: Any, **kwargs: Any) -> Any:
    """:func:`mhhs_workbench.csv_input.reader.read_csv_input` for a notebook: a problem in the input is a
    one-line stop listing the ``file:line`` problems, warnings are notes."""

    try:
        with notes():
            return read(*args, **kwargs)
    except CsvInputError as exc:
        raise NotebookStop(as_parameters(exc)) from None


def _resolve_out(out: str | os.PathLike[str], default_name: str) -> Path:
    """``out`` as an absolute path; a fresh workspace folder when empty (printed)."""
    if str(out or ""):
        return Path(out).absolute()

    target = fresh_folder(default_name)
    print(f"`out` is empty: publishing into a fresh workspace folder, {target}")
    return target


def generate(scenario: Scenario, out: str | os.PathLike[str] = "", *, overwrite: bool = False,
             **options: Any) -> Any:
    """Generate and publish a data set for a notebook (see :func:`mhhs_workbench.dataset.generate_dataset`).

    Parameters
    ----------
    scenario : Scenario
        What to generate.
    out : path
        Folder to publish as; empty: a fresh folder of the workspace
        (:mod:`~mhhs_workbench.notebook.workspace`), so running again never collides.
    overwrite : bool
        Replace an existing data set at ``out``.
    **options
        Passed on (``chunk_size``, ``progress``, ``workers``, ...).

    Returns
    -------
    DatasetSummary
        Its ``path`` is absolute.

    Raises
    ------
    NotebookStop
        If ``out`` exists and ``overwrite`` is false, or publishing there is refused: one line
        naming the parameter to set, shown without a traceback.
    """

    target = _resolve_out(out, "demo-data")
    return _publishing(lambda: generate_dataset(scenario, target, overwrite=overwrite, **options), target)


def convert(supplied: Any, out: str | os.PathLike[str] = "", *, scenario: Scenario | None = None,
            overwrite: bool = False, **options: Any) -> Any:
    """Publish a data set from supplied consumption for a notebook, as :func:`generate` does
    (see :func:`mhhs_workbench.dataset.convert_csv`); empty ``out``: a fresh workspace folder
    ``converted-data``, ``converted-data-2`` ..."""

    target = _resolve_out(out, "converted-data")
    return _publishing(lambda: convert_csv(supplied, target, scenario=scenario, overwrite=overwrite,
                                           **options), target)


def _message_files(path: Path, interface: str) -> list[Path]:
    if path.is_file():
        return [path] if path.name.startswith(interface) else []
    return sorted(path.rglob(f"{interface}_*.json"))


def message_file_counts(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Files, messages and MPANs per interface found under ``path``.

    Parameters
    ----------
    path : path
        A message file or a folder searched recursively (e.g. a data set).
    """
    root = Path(path)
    rows = {}
    for interface in ("IF-021", "IF-041"):
        files = _message_files(root, interface)
        messages = 0
        mpans: set[str] = set()
        for file in files:
            items = orjson.loads(file.read_bytes())
            messages += len(items)
            mpans.update(i["payload"]["CommonBlock"]["M0"]["MPANCore"] for i in items)
        rows[interface] = {"files": len(files), "messages": messages, "MPANs": len(mpans)}
    return pd.DataFrame(rows).T.rename_axis("interface")


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True, repr=False)
class ValidationEvidence:
    """A validation result and how it was obtained, shown as Markdown in a notebook.

    Attributes
    ----------
    report : ValidationReport
        The result; it also says what was checked (:attr:`ValidationReport.spec` is the release
        of Elexon's specification, with its sha256, and the ``nullable`` reading).
    schemas : str
        Which schemas were used, in words: the package's own, and Elexon's official one with
        its release and checksum if one was checked.
    business_rules : bool
        Whether the business rules were applied.
    """

    report: ValidationReport
    schemas: str
    business_rules: bool

    @property
    def ok(self) -> bool:
        """Whether every message is valid."""
        return self.report.ok

    @property
    def spec(self) -> Spec | None:
        """Elexon's specification checked against (version, sha256), or ``None``."""
        return self.report.spec

    @property
    def headline(self) -> str:
        """One line: verdict, what was checked and how."""
        r = self.report
        rules = "schema and business rules" if self.business_rules else "schema only"
        verdict = VALID_TEXT if self.ok else "Validation FAILED"
        return (f"{verdict}: {len(r.files)} files, {r.messages} messages, {r.invalid} invalid "
                f"({rules}; {self.schemas})")

    @property
    def text(self) -> str:
        """The headline and the full per-file report."""
        return f"{self.headline}\n\n{format_report(self.report)}"

    def _repr_markdown_(self) -> str:
        lines = format_report(self.report, group_ok=True).splitlines()
        shown = "\n".join(lines[:60] + ([f"... {len(lines) - 60} more lines"] if len(lines) > 60 else []))
        return f"**{self.headline}**\n\n```text\n{shown}\n```"

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<ValidationEvidence: {self.headline}>"


def _schemas_text(report: ValidationReport) -> str:
    """The schemas a report checked, in words, naming Elexon's release and its sha256."""
    text = "package schema"
    if report.spec is not None:
        strict = ", nullable read strictly" if report.nullable == "strict" else ""
        text += (f" and Elexon's official DIP API schema {report.spec.version or '(unrecognised)'} "
                 f"(sha256 {report.spec.sha256}{strict})")
    elif report.spec_note:
        text += f"; {report.spec_note}"
    return text


def validation(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    spec: str | os.PathLike[str] | Spec | None = None,
    business_rules: bool = True,
    *,
    nullable: str = "lenient",
    spec_dir: str | os.PathLike[str] | None = None,
) -> ValidationEvidence:
    """Validate message files and keep the result as evidence.

    Parameters
    ----------
    paths : path or iterable of paths
        Message files or folders (a data set folder is searched recursively).
    spec : str, path or Spec, optional
        Elexon's DIP API release to check against as well as the package's schema: a known
        version (``'2.1.0'``, ``'2.2.1'``, found on ``$MHHS_WORKBENCH_SPEC_PATH``), a folder of
        its YAML or its resolved JSON file. Empty or None: the data set's own ``spec_version``
        (else the newest known) when it is found there; the package's schema alone, saying
        so, when it is not.
    business_rules : bool
        Also apply the business rules.
    nullable : {'lenient', 'strict'}
        Reading of OpenAPI ``nullable`` beside an enum in Elexon's schema.
    spec_dir : path, optional
        Older name of ``spec`` (a folder of Elexon's YAML); used when ``spec`` is empty.

    Returns
    -------
    ValidationEvidence
        Its headline and report name the release checked and its sha256.

    Raises
    ------
    ValueError
        If no path is given, or ``nullable`` is not a known reading.
    mhhs_workbench.validation.spec_versions.SchemaError
        If a specification given explicitly cannot be found or identified.
    """
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not items or any(not str(p) for p in items):
        raise ValueError("no message file or folder given (set the notebook's `path` parameter)")
    given = spec if (isinstance(spec, Spec) or str(spec or "")) else (spec_dir or None)
    report = validate_files(items, spec=given if given else AUTO_SPEC, business_rules=business_rules,
                            nullable=nullable)
    return ValidationEvidence(report, _schemas_text(report), business_rules)


# --------------------------------------------------------------------------- samples and plots


def _shorten(payload: dict[str, Any], periods: int) -> tuple[dict[str, Any], str]:
    """An IF-021 payload cut to its first day and first ``periods`` periods, and a note."""
    payload = copy.deepcopy(payload)
    b900 = payload.get("CustomBlock", {}).get("B900")
    if not b900:
        return payload, ""
    days = b900["settlementDayConsumptionPeriods"]
    total = len(days[0]["consumptionPeriods"])
    note = f"first of {len(days)} days, first {min(periods, total)} of its {total} periods shown"
    b900["settlementDayConsumptionPeriods"] = days[:1]
    days[0]["consumptionPeriods"] = days[0]["consumptionPeriods"][:periods]
    return payload, note


def sample_messages(path: str | os.PathLike[str], n: int = 1, periods: int = 4) -> Markdown:
    """The first messages of each interface under ``path``, as JSON.

    Parameters
    ----------
    path : path
        A message file or a folder searched recursively (e.g. a data set).
    n : int
        Messages per interface.
    periods : int
        Consumption periods shown per IF-021 message (the rest are cut for readability).
    """
    root = Path(path)
    parts = []
    for interface in ("IF-021", "IF-041"):
        files = _message_files(root, interface)
        if not files:
            continue
        items = orjson.loads(files[0].read_bytes())[:n]
        for item in items:
            payload, note = _shorten(item["payload"], periods) if interface == "IF-021" else (item["payload"], "")
            where = files[0].relative_to(root).as_posix() if root.is_dir() else files[0].name
            heading = f"**{interface}** sample from `{where}`" + (f" ({note})" if note else "")
            text = json.dumps({"payload": payload}, indent=2)
            parts.append(f"{heading}\n\n```json\n{text}\n```")
    return Markdown("\n\n".join(parts) or "no IF-021 or IF-041 message files found")


def figure(fig: Figure, dpi: int = 80) -> Image:
    """A matplotlib figure as a PNG image output (the same bytes in every front end)."""
    return Image(data=figure_png(fig, dpi=dpi), format="png")


# --------------------------------------------------------------------------- checksums and verdict


def checksums(path: str | os.PathLike[str]) -> pd.DataFrame:
    """sha256 of the files that make up a data set, or of the message files under ``path``.

    For a data set the manifest's entries are listed, with whether each file still matches;
    otherwise every IF-021 and IF-041 message file is checksummed now.
    """
    root = Path(path)
    if (root / MANIFEST).is_file():
        manifest = orjson.loads((root / MANIFEST).read_bytes())
        broken = {line.split(":", 1)[0] for line in verify(root)}
        rows = [{"path": f["path"], "bytes": f["bytes"], "sha256": f["sha256"],
                 "matches": f["path"] not in broken} for f in manifest["files"]]
        columns = ["path", "bytes", "sha256", "matches"]
    else:
        files = sorted({*_message_files(root, "IF-021"), *_message_files(root, "IF-041")})
        base = root if root.is_dir() else root.parent
        rows = [{"path": f.relative_to(base).as_posix(), "bytes": f.stat().st_size,
                 "sha256": sha256_file(f)} for f in files]
        columns = ["path", "bytes", "sha256"]
    return pd.DataFrame(rows, columns=columns)


def verdict(result: ValidationEvidence, dataset: str | os.PathLike[str] | None = None, *,
            fail: bool = True) -> Markdown:
    """The run's conclusion; raises if the data is not valid (so a headless run fails).

    Parameters
    ----------
    result : ValidationEvidence
        What :func:`validation` returned.
    dataset : path, optional
        A published data set whose files must also match its manifest. When they do, the
        validation (release, sha256, reading, counts) is recorded in its manifest
        (:func:`record_validation`), whatever its outcome.
    fail : bool
        Raise :class:`AssertionError` when something is wrong, instead of only reporting it.
    """
    problems = [] if result.ok else [result.headline]
    if dataset is not None:
        broken = verify(dataset)
        if not broken:  # never seal a manifest over files that no longer match it
            record_validation(dataset, result)
        problems += broken
    if problems and fail:
        raise AssertionError("the data is not valid:\n" + "\n".join(problems[:20]))
    if problems:
        return Markdown("**Not valid**:\n\n" + "\n".join(f"- {p}" for p in problems[:20]))
    intact = " and every file matches the manifest" if dataset is not None else ""
    return Markdown(f"**{result.headline}**{intact}.")


# --------------------------------------------------------------------------- manifest


def record_in_manifest(root: str | os.PathLike[str], paths: Iterable[str | os.PathLike[str]]) -> dict[str, Any]:
    """Add files written into a published data set after publication to its manifest.

    The entries of the given files are added or replaced (path, size [bytes], sha256); the
    other entries are kept as they are, so a file changed since publication still fails
    :func:`mhhs_workbench.publish.manifest.verify`. A manifest whose ``manifest_sha256`` matched before is
    sealed again (one edited by hand is not, so the edit stays visible), and it is replaced
    atomically: written to a temporary file in the same folder, flushed, then renamed over the old.

    Parameters
    ----------
    root : path
        The data set folder (holding ``manifest.json``).
    paths : iterable of path
        Files inside ``root`` to record.

    Returns
    -------
    dict
        The new manifest.

    Raises
    ------
    ValueError
        If a file is not inside ``root``.
    FileNotFoundError
        If ``root`` has no manifest or a file does not exist.
    """
    root = Path(root).absolute()
    manifest_path = root / MANIFEST
    manifest = orjson.loads(manifest_path.read_bytes())
    intact = manifest.get(MANIFEST_CHECKSUM) == manifest_checksum(manifest)
    entries = {f["path"]: f for f in manifest["files"]}
    for given in paths:
        file = Path(given).absolute()
        if not file.is_file():
            raise FileNotFoundError(f"{file}: no such file to record in {manifest_path}")
        try:
            rel = file.relative_to(root).as_posix()
        except ValueError:
            raise ValueError(f"{file} is not inside the data set {root}") from None
        entries[rel] = {"path": rel, "bytes": file.stat().st_size, "sha256": sha256_file(file)}
    manifest["files"] = [entries[k] for k in sorted(entries)]
    _replace_manifest(root, manifest, intact)
    return manifest


def _replace_manifest(root: Path, manifest: dict[str, Any], intact: bool) -> None:
    """Write a changed manifest: sealed again if it was intact, left unsealed if not."""
    # sealed again when intact (the new entries are the tool's own); a manifest already edited by
    # hand stays unsealed, so verify keeps reporting it
    write_manifest(root, manifest, seal=intact)


#: Manifest field listing the validations recorded with :func:`record_validation`.
VALIDATIONS = "validations"


def record_validation(root: str | os.PathLike[str], result: ValidationEvidence | ValidationReport) -> dict[str, Any]:
    """Record in a data set's manifest what a validation checked and found.

    The manifest's ``validations`` list gets the run's :meth:`ValidationReport.record`: Elexon's
    release (``version``, ``sha256``, ``kind``) and ``nullable`` reading (``spec`` is null when
    only the package's schema was checked), whether the package's schema and the business rules
    were applied, and the counts. A record of the same checks (same release, checksum, reading,
    schemas and rules) replaces the earlier one, so checking twice does not grow the list. It
    holds no times and no local paths and the list is sorted, so the manifest stays
    deterministic; it is sealed again as :func:`record_in_manifest` does.

    Parameters
    ----------
    root : path
        The data set folder (holding ``manifest.json``).
    result : ValidationEvidence or ValidationReport
        The validation.

    Returns
    -------
    dict
        The new manifest.
    """
    root = Path(root).absolute()
    report = result.report if isinstance(result, ValidationEvidence) else result
    manifest = orjson.loads((root / MANIFEST).read_bytes())
    intact = manifest.get(MANIFEST_CHECKSUM) == manifest_checksum(manifest)
    record = report.record()

    def checks(entry: dict[str, Any]) -> bytes:
        return orjson.dumps({k: entry.get(k) for k in ("spec", "package_schema", "business_rules")},
                            option=orjson.OPT_SORT_KEYS)

    kept = [e for e in manifest.get(VALIDATIONS, []) if isinstance(e, dict) and checks(e) != checks(record)]
    manifest[VALIDATIONS] = sorted([*kept, record], key=lambda e: orjson.dumps(e, option=orjson.OPT_SORT_KEYS))
    _replace_manifest(root, manifest, intact)
    return manifest
