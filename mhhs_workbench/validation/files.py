"""Check message files: each read a message at a time, every message against schemas and rules.

:func:`validate_files` finds the files (walking folders, leaving out a data set's reports and
catalogues of labelled invalid messages) and reads each a message at a time
(:mod:`mhhs_workbench.validation.json_stream`: regular files within a size limit, UTF-8 without
BOM, no duplicate keys), so memory is bounded by a message, not a file. Each message is checked
against the schemas of the run and the business rules
(:mod:`mhhs_workbench.validation.payload_rules`); an IF-021 message is first tried column by
column (:mod:`mhhs_workbench.validation.period_checks`), the exact check locating errors only
when that is not sure. Then the message feeds the rules across messages and files
(:mod:`mhhs_workbench.validation.cross_message`, through
:mod:`mhhs_workbench.validation.cross_records`). What is found goes into a
:class:`~mhhs_workbench.validation.problems.ValidationReport`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mhhs_workbench.codes.messages import INTERFACE_IDS
from mhhs_workbench.codes.rules import DUP_KEY, ENVELOPE, FILE, SCHEMA_ELEXON
from mhhs_workbench.validation.cross_message import CrossChecks, CrossFinding, register_digits
from mhhs_workbench.validation.cross_records import feed_cross
from mhhs_workbench.validation.json_stream import (
    StreamError,
    duplicate_keys,
    iter_items,
    max_file_bytes,
    open_message_file,
)
from mhhs_workbench.validation.json_values import as_dict, short, value_at
from mhhs_workbench.validation.payload_rules import common_rules, if021_rules, validate_payload
from mhhs_workbench.validation.period_checks import (
    DayColumns,
    SplitSchema,
    day_columns,
    split_schema,
)
from mhhs_workbench.validation.problems import FileReport, Problem, ValidationReport
from mhhs_workbench.validation.schema import PayloadValidator
from mhhs_workbench.validation.settlement_reports import REPORT_IDS, report_errors
from mhhs_workbench.validation.spec_choice import choose_spec, run_validators
from mhhs_workbench.validation.spec_versions import SchemaError, Spec, check_nullable

__all__ = ["validate_files"]

_SPLITS: dict[int, tuple[PayloadValidator, SplitSchema | None]] = {}
_PERIOD_KEYS_NEEDED = frozenset({"sp", "v", "q"})


def _split(validator: PayloadValidator) -> SplitSchema | None:
    """The validator's schema split for the column checks (once per validator)."""
    entry = _SPLITS.get(id(validator))
    if entry is None or entry[0] is not validator:
        split = split_schema(validator.schema) if validator.interface_id == "IF-021" else None
        if split is not None and not _PERIOD_KEYS_NEEDED <= set(split.keys):
            split = None
        entry = _SPLITS[id(validator)] = (validator, split)
    return entry[1]


def _fast_if021(
    payload: dict[str, Any],
    validators: Sequence[PayloadValidator],
    splits: Sequence[SplitSchema],
) -> list[DayColumns] | None:
    """The days of a payload as columns when it satisfies every schema; ``None`` when that is
    not sure (then the exact check decides and locates the errors)."""
    keys = splits[0].keys
    if any(s.keys != keys for s in splits):
        return None
    if not all(s.skeleton_valid(payload) for s in splits):
        return None
    days = payload["CustomBlock"]["B900"]["settlementDayConsumptionPeriods"]
    columns = []
    for day in days:
        found = day_columns(day["consumptionPeriods"], keys)
        if found is None:
            return None
        columns.append(found)
    # each key's distinct values over the whole message, judged once per schema
    for key in keys:
        values = set().union(*(c.distinct[key] for c in columns))
        if not all(s.values_valid(key, values) for s in splits):
            return None
    return columns


@dataclass
class _Run:
    """What a run shares across files: schemas, references seen, cross-message state."""

    choose: Callable[[str], list[PayloadValidator]]
    business_rules: bool
    max_bytes: int
    cross: CrossChecks | None
    validators: dict[str, list[PayloadValidator]] = field(default_factory=dict)
    seen_references: dict[str, str] = field(default_factory=dict)

    def validators_of(self, interface_id: str) -> list[PayloadValidator]:
        """The schemas of ``interface_id``, chosen on first use."""
        if interface_id not in self.validators:
            self.validators[interface_id] = self.choose(interface_id)
        return self.validators[interface_id]


def _check_item(text: bytes, item: Any, index: int, run: _Run, file_no: int,
                report: FileReport) -> None:
    """Record every problem of array item ``index`` of a file, then feed the cross-message
    rules (whose findings on this item come after its own)."""
    source = str(report.path)
    item_path = f"$[{index}]"
    problems = [
        Problem(DUP_KEY, item_path + where[1:],
                f"key {key!r} appears more than once in this object; a parser keeps one silently",
                short(key))
        for where, key in duplicate_keys(text, item)
    ]
    if not isinstance(item, dict) or set(item) != {"payload"}:
        found = sorted(item) if isinstance(item, dict) else short(item)
        problems.append(
            Problem(ENVELOPE, item_path, f'item must be {{"payload": {{...}}}}, found {found}')
        )
        report.add(index, problems)
        return
    payload = item["payload"]
    path = f"{item_path}.payload"
    interface_id = as_dict(payload, "CommonBlock", "S0").get("interfaceID")
    if interface_id in REPORT_IDS:  # a settlement report: Elexon's schemas of payload and report
        spec = next((v.spec for v in run.validators_of("IF-021") if v.spec is not None), None)
        problems.extend(Problem(SCHEMA_ELEXON, path + where[1:], message)
                        for where, message in report_errors(payload, spec))
        report.add(index, problems)
        return
    known = isinstance(interface_id, str) and interface_id in INTERFACE_IDS
    chosen = run.validators_of(interface_id) if known else None
    columns: list[DayColumns] | None = None
    if interface_id == "IF-021" and chosen:
        splits = [_split(v) for v in chosen]
        if all(s is not None for s in splits):
            columns = _fast_if021(payload, chosen, splits)  # type: ignore[arg-type]
    if columns is not None:
        if run.business_rules:
            problems.extend(common_rules(payload, path, run.seen_references, source))
            problems.extend(if021_rules(payload, path, columns))
    else:
        problems.extend(validate_payload(
            payload, interface_id if known else None, chosen,
            business_rules=run.business_rules, path=path,
            seen_references=run.seen_references, source=source,
        ))
    for k, problem in enumerate(problems):
        if problem.value is None:
            value = value_at(item, item_path, problem.path)
            if value is not None:
                problems[k] = replace(problem, value=value)
    report.add(index, problems)
    if run.cross is not None and known and isinstance(payload, dict):
        feed_cross(run.cross, file_no, index, payload, path, interface_id, columns)


def _discover(paths: Iterable[str | os.PathLike[str]]) -> Iterator[tuple[Path, bool]]:
    """Files to check, each with whether it was named explicitly.

    A folder is walked for ``*.json`` files, with two exceptions that keep ``validate DATASET``
    about the data set's messages: in a data set (a folder with ``manifest.json`` and
    ``messages/``) only ``messages/`` is walked, so the uncompressed reports and the labelled
    invalid messages beside it are not taken for messages; and a folder below the one named that
    holds ``expected.csv`` (a catalogue of labelled invalid messages) is left out. Name such a
    folder directly to check it.
    """
    for given in paths:
        path = Path(given)
        if not path.is_dir():
            yield path, True
            continue
        root = path / "messages" if _is_dataset(path) else path
        for found in sorted(root.rglob("*.json")):
            if found.is_file() and not _in_catalogue(found.parent, path):
                yield found, False


def _is_dataset(folder: Path) -> bool:
    return (folder / "manifest.json").is_file() and (folder / "messages").is_dir()


def _in_catalogue(folder: Path, root: Path) -> bool:
    """Whether ``folder`` (below ``root``) lies in a catalogue of labelled invalid messages."""
    while folder != root and root in folder.parents:
        if (folder / "expected.csv").is_file():
            return True
        folder = folder.parent
    return False


def _check_file(report: FileReport, explicit: bool, run: _Run, file_no: int) -> str | None:
    """Check one file into ``report``; the reason to skip it instead (found in a folder, not a
    message file), or ``None``."""
    try:
        handle = open_message_file(report.path, run.max_bytes)
    except StreamError as exc:
        report.set_error(Problem(exc.code, exc.path, exc.message))
        return None
    with handle:
        try:
            for index, (text, item) in enumerate(iter_items(handle)):
                if index == 0 and not explicit and not (isinstance(item, dict) and "payload" in item):
                    return "not a message file"
                report.messages = index + 1
                _check_item(text, item, index, run, file_no, report)
        except StreamError as exc:
            if not explicit and report.messages == 0 and exc.code == ENVELOPE:
                return "not a message file"
            report.set_error(Problem(exc.code, exc.path, exc.message))
        except OSError as exc:
            report.set_error(Problem(FILE, "$", f"cannot read file: {exc.strerror or exc}"))
    if report.messages == 0 and report.error is None:
        if not explicit:
            return "not a message file"
        report.set_error(Problem(
            ENVELOPE, "$", "the array is empty; a message file holds at least one message"))
    return None


def validate_files(
    paths: Iterable[str | os.PathLike[str]],
    spec: str | os.PathLike[str] | Spec | None = None,
    business_rules: bool = True,
    *,
    nullable: str = "lenient",
    package_schema: bool = True,
    spec_dir: str | os.PathLike[str] | None = None,
    max_file_gb: float | None = None,
) -> ValidationReport:
    """Check message files: each a DIP request body, a JSON array of ``{"payload": {...}}``.

    One run checks the package's own schema, Elexon's official schema of one release of the
    DIP API (when ``spec`` is given) and the business rules, within each message and across
    all the messages and files together; every message is checked against each schema, and
    each schema is compiled once per release and reading. Files are read one message at a time
    (memory is bounded by a message, not a file); duplicate keys, a byte order mark, files that
    are not regular files (FIFOs, devices) and files over the size limit are reported.

    Parameters
    ----------
    paths : iterable of path
        Message files, or folders searched recursively for ``*.json`` message files
        (``manifest.json`` and JSON files that are not arrays of ``{"payload": ...}`` items
        are skipped and listed in :attr:`ValidationReport.skipped`).
    spec : str, path or Spec, optional
        Elexon's specification: a known version (``'2.1.0'``, ``'2.2.1'``, looked up on the
        search path of :func:`mhhs_workbench.validation.spec_versions.search_path`), a folder of its YAML,
        one resolved JSON document, or :data:`~mhhs_workbench.validation.spec_choice.AUTO_SPEC` (see
        :func:`~mhhs_workbench.validation.spec_choice.choose_spec`). Problems
        against it carry the code ``SCHEMA-ELEXON`` (``SCHEMA-ELEXON-NULL`` for nulls only the
        strict reading refuses) and name the release. ``None``: the package's schema only.
    business_rules : bool
        Also apply the business rules, and the rules across messages: ``senderUniqueReference``
        unique over all files, resent days only as later revisions (``WB-DAY-RESENT``),
        register reads that never go back (``WB-READ-BACK``) and reconcile with the IF-021
        consumption between them (``WB-READ-RECONCILE``).
    nullable : {'lenient', 'strict'}
        Reading of OpenAPI ``nullable`` beside an enum in Elexon's schema.
    package_schema : bool
        Also check the package's own (stricter) schema.
    spec_dir : path, optional
        Older name of ``spec`` (a folder of YAML); give one or the other.
    max_file_gb : float, optional
        Largest file read [GB]; larger ones are reported (``FILE-SIZE``) unread. Default:
        ``$MHHS_WORKBENCH_VALIDATE_MAX_GB``, else 20.

    Returns
    -------
    ValidationReport
        Per-file counts, findings and first failures, and what was checked (release and
        checksum); ``report.ok`` says whether everything is valid.

    Raises
    ------
    SchemaError
        If ``spec`` cannot be found or identified, or both ``spec`` and ``spec_dir`` are given.
    ValueError
        If ``nullable`` is not one of the two readings, or the size limit is not positive.
    """
    paths = list(paths)
    check_nullable(nullable)
    max_bytes = max_file_bytes(max_file_gb)
    if spec_dir is not None and spec is not None:
        raise SchemaError("give spec or spec_dir, not both (spec_dir is the older name)")
    chosen_spec, note = choose_spec(paths, spec if spec_dir is None else spec_dir)
    report = ValidationReport(
        spec=chosen_spec,
        nullable=nullable,
        package_schema=package_schema,
        business_rules=business_rules,
        spec_note=note,
    )
    _check_paths(paths, report, max_bytes)
    return report


def _check_paths(
    paths: list[str | os.PathLike[str]], report: ValidationReport, max_bytes: int
) -> None:
    """Check the files at ``paths`` into ``report``, against what it says is checked (schemas,
    reading of ``nullable``, business rules); files of at most ``max_bytes`` are read."""

    def choose(interface_id: str) -> list[PayloadValidator]:
        return run_validators(interface_id, report.spec, report.nullable, report.package_schema)

    checked: list[FileReport] = []  # the files so far, the one being read last

    def sink(found: CrossFinding) -> None:
        checked[found.file].add(
            found.index, [Problem(found.code, found.path, found.message, found.value)]
        )

    cross = (
        CrossChecks(sink, register_digits([Path(p) for p in paths]))
        if report.business_rules
        else None
    )
    run = _Run(choose, report.business_rules, max_bytes, cross)
    for path, explicit in _discover(paths):
        if not explicit and path.name == "manifest.json":
            report.skipped.append((path, "manifest"))
            continue
        file_report = FileReport(path)
        file_no = len(checked)
        checked.append(file_report)
        if cross is not None:
            cross.add_file(str(path))
        skip = _check_file(file_report, explicit, run, file_no)
        if skip is not None:
            report.skipped.append((path, skip))
            checked.pop()
            if cross is not None:
                cross.drop_last_file()
    if cross is not None:
        cross.finish()
    report.files = checked
