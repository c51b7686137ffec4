"""What a validation run finds and how it is told: problems, per-file and run reports, the summary.

A :class:`Problem` is one broken rule at one JSON path. A :class:`FileReport` counts a file's
messages and problems and keeps the first of them; a :class:`ValidationReport` gathers the files
of one run with what they were checked against; :func:`format_report` writes the terminal
summary. The other reports (JSON, JUnit XML, HTML) are in :mod:`mhhs_workbench.validation.outputs`.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mhhs_workbench.codes.rules import RULES, SCHEMA_ELEXON_NULL, Rule
from mhhs_workbench.validation.spec_versions import Spec

__all__ = [
    "MAX_FINDINGS",
    "MAX_LISTED_FAILURES",
    "FileReport",
    "Problem",
    "ValidationReport",
    "format_report",
]

_INDEX = re.compile(r"\$\[(\d+)\]")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a message or file.

    Attributes
    ----------
    code : str
        Code of the broken rule (a key of :data:`RULES`).
    path : str
        JSON path of the offending value, e.g. ``$[3].payload.CustomBlock.B900``.
    message : str
        What is wrong, naming the offending key or value.
    value : str or None
        The offending value, shortened (``None`` when there is none, e.g. a missing key).
    """

    code: str
    path: str
    message: str
    value: str | None = None

    @property
    def index(self) -> int | None:
        """Index of the message in its file (``$[3]...`` -> 3), ``None`` for the file itself."""
        match = _INDEX.match(self.path)
        return int(match.group(1)) if match else None

    @property
    def rule(self) -> Rule:
        """The broken rule."""
        return RULES[self.code]

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.code}]"


#: How many invalid messages a file report lists (all are counted).
MAX_LISTED_FAILURES = 20
#: How many findings a file report keeps for the reports (all are counted).
MAX_FINDINGS = 1000


@dataclass
class FileReport:
    """Outcome of checking one message file.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    messages : int
        Messages (array items) in the file.
    invalid : int
        Messages with at least one problem.
    failures : list of Problem
        First problem of each invalid message, for the first :data:`MAX_LISTED_FAILURES` of them.
    problem_counts : collections.Counter
        Number of problems per rule code over the whole file.
    error : Problem or None
        Why the file as a whole is unusable (not JSON, not an array, empty), if it is.
    strict_null_only : int
        Invalid messages whose only problems are nulls refused by the strict reading of OpenAPI
        ``nullable`` (``SCHEMA-ELEXON-NULL``): valid under the lenient reading.
    findings : list of Problem
        Every problem, in the order found, for the first :data:`MAX_FINDINGS` of them.
    """

    path: Path
    messages: int = 0
    invalid: int = 0
    failures: list[Problem] = field(default_factory=list)
    problem_counts: Counter[str] = field(default_factory=Counter)
    error: Problem | None = None
    strict_null_only: int = 0
    findings: list[Problem] = field(default_factory=list)
    _invalid_at: set[int] = field(default_factory=set, repr=False)
    _strict_only_at: set[int] = field(default_factory=set, repr=False)

    @property
    def ok(self) -> bool:
        """Whether the file is a valid message file and every message in it is valid."""
        return self.error is None and self.invalid == 0

    def add(self, index: int, problems: Sequence[Problem]) -> None:
        """Record the ``problems`` of message ``index`` (more may come for the same message)."""
        if not problems:
            return
        self.problem_counts.update(p.code for p in problems)
        room = MAX_FINDINGS - len(self.findings)
        if room > 0:
            self.findings.extend(problems[:room])
        strict_only = all(p.code == SCHEMA_ELEXON_NULL for p in problems)
        if index not in self._invalid_at:
            self._invalid_at.add(index)
            self.invalid += 1
            if len(self.failures) < MAX_LISTED_FAILURES:
                self.failures.append(problems[0])
            if strict_only:
                self._strict_only_at.add(index)
                self.strict_null_only += 1
        elif not strict_only and index in self._strict_only_at:
            self._strict_only_at.discard(index)
            self.strict_null_only -= 1

    def set_error(self, error: Problem) -> None:
        """Record why the file (or the rest of it) cannot be read."""
        self.error = error
        self.problem_counts[error.code] += 1
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(error)


@dataclass
class ValidationReport:
    """Outcome of :func:`~mhhs_workbench.validation.files.validate_files`.

    Attributes
    ----------
    files : list of FileReport
        One per message file checked, in the order found.
    skipped : list of (pathlib.Path, str)
        Files in the given folders that were not checked, with the reason.
    spec : Spec or None
        Elexon's specification checked against (version and sha256); ``None`` when only the
        package's schema was.
    nullable : {'lenient', 'strict'}
        Reading of OpenAPI ``nullable`` applied to Elexon's schema.
    package_schema : bool
        Whether the package's own schema was checked.
    business_rules : bool
        Whether the business rules were applied (with the cross-message rules).
    spec_note : str
        Why Elexon's schema was not checked, when a default release was looked for and not
        found (empty otherwise).
    """

    files: list[FileReport] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    spec: Spec | None = None
    nullable: str = "lenient"
    package_schema: bool = True
    business_rules: bool = True
    spec_note: str = ""

    @property
    def messages(self) -> int:
        """Messages checked, all files together."""
        return sum(f.messages for f in self.files)

    @property
    def invalid(self) -> int:
        """Invalid messages, all files together."""
        return sum(f.invalid for f in self.files)

    @property
    def ok(self) -> bool:
        """Whether at least one file was checked and every file is valid."""
        return bool(self.files) and all(f.ok for f in self.files)

    @property
    def strict_null_only(self) -> int:
        """Messages invalid only because the strict ``nullable`` reading refused their nulls."""
        return sum(f.strict_null_only for f in self.files)

    @property
    def rule_counts(self) -> Counter[str]:
        """Problems per rule code, all files together (file errors included)."""
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.problem_counts)
        return total

    def findings(self) -> Iterator[tuple[FileReport, Problem]]:
        """Each kept finding with its file, file by file."""
        for f in self.files:
            for problem in f.findings:
                yield f, problem

    @property
    def spec_version(self) -> str | None:
        """The known release checked against (``'2.2.1'``), or ``None``."""
        return self.spec.version if self.spec is not None else None

    @property
    def spec_sha256(self) -> str | None:
        """sha256 of the specification checked against, or ``None``."""
        return self.spec.sha256 if self.spec is not None else None

    @property
    def checked_against(self) -> str:
        """What was checked, in words: schemas (with release, checksum and reading) and rules."""
        parts = ["package JSON Schema"] if self.package_schema else []
        if self.spec is not None:
            parts.append(f"Elexon {self.spec.describe()}, nullable read {self.nullable}ly")
        if self.business_rules:
            parts.append("business rules")
        text = ", ".join(parts) or "nothing"
        return f"{text} ({self.spec_note})" if self.spec_note else text

    def record(self) -> dict[str, Any]:
        """The outcome as plain data for a manifest: what was checked and the counts.

        Deterministic (no times, no local paths): the same files checked the same way give the
        same record.
        """
        return {
            "spec": None if self.spec is None else {**self.spec.record(), "nullable": self.nullable},
            "package_schema": self.package_schema,
            "business_rules": self.business_rules,
            "files": len(self.files),
            "messages": self.messages,
            "invalid": self.invalid,
            "ok": self.ok,
        }


def format_report(report: ValidationReport, *, group_ok: bool = False) -> str:
    """A per-file summary of a :class:`ValidationReport`, with the first failures indented.

    The first line says what was checked (``checked against: ...``, naming Elexon's release
    and its sha256); then lines like ``OK    path  (n messages)`` or ``FAIL  path  (k of n
    invalid)``, each followed by the first problem of each invalid message; then a total line
    that names the release again. With ``group_ok`` the valid files of each folder take one
    line, ``OK    folder/  (k files, n messages)``, so a data set of thousands of files reads in
    a screen while every failing file is still named.
    """
    lines: list[str] = [f"checked against: {report.checked_against}"]
    ok_by_folder: dict[str, list[int]] = {}
    for file in report.files:
        if file.error is not None:
            lines.append(f"FAIL  {file.path}  ({file.error.message})")
            continue
        plural = "" if file.messages == 1 else "s"
        if file.ok and group_ok:
            folder = ok_by_folder.setdefault(str(Path(file.path).parent), [0, 0])
            folder[0] += 1
            folder[1] += file.messages
            continue
        if file.ok:
            lines.append(f"OK    {file.path}  ({file.messages} message{plural})")
            continue
        lines.append(f"FAIL  {file.path}  ({file.invalid} of {file.messages} invalid)")
        lines.extend(f"      {problem}" for problem in file.failures)
        if file.invalid > len(file.failures):
            lines.append(f"      ... and {file.invalid - len(file.failures)} more invalid messages")
        counts = ", ".join(f"{code} x{n}" for code, n in sorted(file.problem_counts.items()))
        lines.append(f"      problems by rule: {counts}")
    for folder, (files, messages) in ok_by_folder.items():
        lines.append(f"OK    {folder}{os.sep}  ({files} file{'' if files == 1 else 's'} valid, "
                     f"{messages} message{'' if messages == 1 else 's'})")
    for path, reason in report.skipped:
        lines.append(f"SKIP  {path}  ({reason})")
    if not report.files:
        lines.append("no message files found")
    if report.strict_null_only:
        lines.append(
            f"note: {report.strict_null_only} of the invalid messages fail only because the "
            "strict reading of OpenAPI 3.0 nullable (it does not add null to an enum) refuses "
            f"their nulls [{SCHEMA_ELEXON_NULL}]; under the lenient reading they are valid"
        )
    bad_files = sum(not f.ok for f in report.files)
    verdict = "OK" if report.ok else "FAIL"
    against = ""
    if report.spec is not None:
        against = f"; Elexon {report.spec.label}, nullable {report.nullable}"
    lines.append(
        f"{verdict}: {len(report.files)} files, {report.messages} messages, "
        f"{report.invalid} invalid messages, {bad_files} files failed{against}"
    )
    return "\n".join(lines)
