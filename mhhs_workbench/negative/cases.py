"""Labelled invalid messages derived from a valid data set: one broken rule per message.

Every case starts from a real message of the data set and changes one thing, so that it breaks
exactly one rule, the one its row of ``expected.csv`` names (the row also says where a schema,
stricter than the rule, refuses the message as well). The catalogue covers

- every schema class of the package's JSON Schema (:data:`~mhhs_workbench.negative.schema_breaks.SCHEMA_CLASSES`,
  rule ``SCHEMA``; each also refused by Elexon's schema),
- every business rule, one message each (:mod:`~mhhs_workbench.negative.rules`),
- rules across messages and whole files, each as its own small file set
  (:mod:`~mhhs_workbench.negative.cross`).

Layout of the output (a published folder of its own, or ``negative/`` inside a data set)::

    expected.csv                      one row per case: file, message index, rule, JSON path, ...
    cases/0001-SCHEMA-missing-field.json           a case of one file
    cases/0042-WB-SUR-DUP-duplicate-reference/     a case that needs partner messages
        1-partner.json  2-broken.json
    manifest.json                     (standalone output only) sha256 of every file

Validate a case on its own (``mhhs-workbench validate cases/0042-...``): cases are independent
of each other, and several of them derive from the same valid message, so checked together
they would also break the rules across messages. The output is deterministic: the same data set
and options give the same bytes.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from mhhs_workbench import __version__
from mhhs_workbench.codes.identifiers import SENDER_UNIQUE_REFERENCE_PATTERN
from mhhs_workbench.codes.rules import INTERFACE, NOT_ALONE, SCHEMA
from mhhs_workbench.negative.cross import CROSS_BREAKERS, FILE_BREAKERS, FileSet, Sources, body
from mhhs_workbench.negative.rules import ALSO_REPORTED, ELEXON_REJECTS, RULE_BREAKERS
from mhhs_workbench.negative.schema_breaks import SCHEMA_CLASSES, json_path, schema_breaks
from mhhs_workbench.publish.manifest import MANIFEST
from mhhs_workbench.publish.publication import Publication
from mhhs_workbench.publish.replacing import NEGATIVE_KIND
from mhhs_workbench.validation.json_stream import StreamError, iter_items
from mhhs_workbench.validation.schema import validator_for

__all__ = [
    "CODES",
    "EXPECTED_COLUMNS",
    "NEGATIVE_FOLDER",
    "NegativeCase",
    "NegativeError",
    "NegativeSummary",
    "build_cases",
    "check_rules",
    "expected_csv",
    "generate_negative",
    "read_sources",
    "write_cases",
]

#: Rule codes the catalogue breaks, in the order cases are numbered.
CODES: tuple[str, ...] = (
    *FILE_BREAKERS,
    INTERFACE,
    SCHEMA,
    *(code for code in RULE_BREAKERS if code != INTERFACE),
    *CROSS_BREAKERS,
)  # fmt: skip


#: Columns of ``expected.csv``.
EXPECTED_COLUMNS: tuple[str, ...] = (
    "file", "message_index", "rule", "breakage", "interface", "json_path", "description",
    "elexon_schema_rejects", "package_schema_rejects", "also_reported",
)  # fmt: skip

EXPECTED = "expected.csv"
CASES = "cases"
#: Folder of a generated data set holding its negative cases (scenario option ``negative``).
NEGATIVE_FOLDER = "negative"
#: Messages of each interface read from the data set to break (from its first files).
SOURCE_MESSAGES = 400


class NegativeError(ValueError):
    """A user mistake: no such data set, a data set without messages, an unknown rule code."""


@dataclass(frozen=True)
class NegativeCase:
    """One labelled invalid case.

    Attributes
    ----------
    number : int
        Running number (1, 2, ...), the start of its file or folder name.
    rule : str
        The one rule broken (a validator code).
    breakage : str
        How it is broken: the schema class, or the way the rule is broken.
    fileset : FileSet
        Its files and where the broken message is.
    elexon_schema_rejects : bool or None
        Whether Elexon's schema alone refuses the broken payload (the validator then reports
        ``SCHEMA-ELEXON`` beside the rule when it checks Elexon's schema); ``None`` for a file
        that is not JSON.
    package_schema_rejects : bool or None
        Whether the package's schema refuses it (``SCHEMA`` beside the rule): it is stricter
        than Elexon's and states some rules as types (negative values, UTC midnight).
    also_reported : tuple of str
        Rule codes the validator reports beside ``rule`` however the rule is broken (see
        :data:`~mhhs_workbench.negative.rules.ALSO_REPORTED`); usually empty.
    """

    number: int
    rule: str
    breakage: str
    fileset: FileSet
    elexon_schema_rejects: bool | None
    package_schema_rejects: bool | None
    also_reported: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """File name (a case of one file) or folder name of the case under ``cases/``."""
        stem = f"{self.number:04d}-{self.rule}-{self.breakage}"
        return f"{stem}.json" if len(self.fileset.files) == 1 else stem

    @property
    def broken_file(self) -> str:
        """Path of the file holding the broken message, relative to the output folder."""
        if len(self.fileset.files) == 1:
            return f"{CASES}/{self.name}"
        return f"{CASES}/{self.name}/{self.fileset.broken}"

    def row(self) -> dict[str, str]:
        """The case's line of ``expected.csv``."""
        index = self.fileset.index
        return {
            "file": self.broken_file,
            "message_index": "" if index is None else str(index),
            "rule": self.rule,
            "breakage": self.breakage,
            "interface": self.fileset.interface,
            "json_path": self.fileset.path,
            "description": self.fileset.description,
            "elexon_schema_rejects": _flag(self.elexon_schema_rejects),
            "package_schema_rejects": _flag(self.package_schema_rejects),
            "also_reported": " ".join(self.also_reported),
        }


def _flag(value: bool | None) -> str:
    return "" if value is None else str(value).lower()


@dataclass(frozen=True)
class NegativeSummary:
    """What a run wrote."""

    path: Path
    cases: list[NegativeCase]
    manifest: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """A few lines for the terminal."""
        rules = len({c.rule for c in self.cases})
        return (
            f"negative data {self.path}\n"
            f"  {len(self.cases)} case{'s' * (len(self.cases) != 1)} breaking {rules} "
            f"rule{'s' * (rules != 1)}, listed in {EXPECTED}\n"
            f"  validate one case at a time: mhhs-workbench validate {self.path}/{CASES}/<case>"
        )


# ---------------------------------------------------------------------- reading the data set


def check_rules(rules: Iterable[str] | None) -> list[str]:
    """The rule codes asked for, checked; every code of :data:`CODES` when none are given.

    Raises
    ------
    NegativeError
        A code the catalogue does not know, named with the known ones.
    """
    asked = [r.strip() for r in rules or [] if r.strip()]
    for code in asked:
        if code in NOT_ALONE:
            raise NegativeError(f"rule {code!r} has no negative cases: {NOT_ALONE[code]}")
        if code not in CODES:
            raise NegativeError(f"unknown rule code {code!r}; known codes: {', '.join(CODES)}")
    return [c for c in CODES if c in asked] if asked else list(CODES)


def _message_files(root: Path, interface_id: str) -> list[Path]:
    return sorted((root / "messages" / interface_id).glob(f"{interface_id}_*.json"))


def read_sources(dataset: str | os.PathLike[str], limit: int = SOURCE_MESSAGES) -> Sources:
    """The first ``limit`` payloads of each interface of a data set (files in name order).

    Raises
    ------
    NegativeError
        The folder does not exist or holds no message file.
    """
    root = Path(dataset)
    if not root.is_dir():
        raise NegativeError(f"{dataset}: no such data set folder")
    found: dict[str, list[dict[str, Any]]] = {}
    for interface_id in ("IF-021", "IF-041"):
        payloads: list[dict[str, Any]] = []
        for path in _message_files(root, interface_id):
            if len(payloads) >= limit:
                break
            # item by item: a data set's files may be large, and only the first few are needed
            try:
                with path.open("rb") as fh:
                    for _, item in iter_items(fh):
                        payloads.append(item["payload"])
                        if len(payloads) >= limit:
                            break
            except (OSError, StreamError, KeyError, TypeError) as exc:
                raise NegativeError(f"{path}: not a readable message file ({exc})") from None
        found[interface_id] = payloads
    if not found["IF-021"] and not found["IF-041"]:
        raise NegativeError(
            f"{dataset}: no message files under messages/IF-021 or messages/IF-041; give a data "
            "set made by 'mhhs-workbench demo' or 'generate'")
    return Sources(found["IF-021"], found["IF-041"])


# ---------------------------------------------------------------------- building the cases


def _unique(payload: dict[str, Any], suffix: str) -> dict[str, Any]:
    """``payload`` with ``suffix`` added to its senderUniqueReference (cases stay apart)."""
    s1 = payload["CommonBlock"]["S1"]
    return {**payload, "CommonBlock": {**payload["CommonBlock"],
                                       "S1": {**s1, "senderUniqueReference":
                                              s1["senderUniqueReference"] + suffix}}}


def _spread(items: Sequence[Any], n: int) -> list[Any]:
    """``n`` items spread evenly over ``items`` (all of them, cycling, when there are fewer)."""
    if not items:
        return []
    if n >= len(items):
        return [items[i % len(items)] for i in range(n)]
    return [items[i * len(items) // n] for i in range(n)]


def _interleave(*lists: Sequence[Any]) -> list[Any]:
    """The items of ``lists`` taken in turn: the first of each, then the second of each, ..."""
    out: list[Any] = []
    for i in range(max(map(len, lists), default=0)):
        out.extend(items[i] for items in lists if i < len(items))
    return out


def _schema_sets(src: Sources, per_rule: int) -> Iterator[tuple[str, FileSet]]:
    """``per_rule`` breakages of each schema class, spread over both interfaces' places."""
    found = {iid: schema_breaks(pool[0], iid)
             for iid, pool in (("IF-021", src.if021), ("IF-041", src.if041)) if pool}
    for kind in SCHEMA_CLASSES:
        tagged = [[(iid, brk) for brk in breaks.get(kind, [])] for iid, breaks in found.items()]
        for iid, brk in _spread(_interleave(*tagged), per_rule):
            yield kind, FileSet(((f"{kind}.json", [brk.payload]),), f"{kind}.json", 0,
                                json_path(brk.path, "$[0].payload"), brk.description, iid)


def _rule_sets(code: str, src: Sources, per_rule: int) -> Iterator[tuple[str, FileSet]]:
    variants = RULE_BREAKERS[code]
    made = 0
    for attempt in range(per_rule * 4 * len(variants)):
        if made == per_rule:
            return
        iid, breaker = variants[attempt % len(variants)]
        pool = src.if021 if iid == "IF-021" else src.if041
        if not pool:
            continue
        brk = breaker(pool[(attempt // len(variants)) % len(pool)])
        if brk is None:
            continue
        kind = breaker.__name__.strip("_").replace("_", "-")
        yield kind, FileSet(((f"{kind}.json", [brk.payload]),), f"{kind}.json", 0,
                            json_path(brk.path, "$[0].payload"), brk.description, iid)
        made += 1


def _set_sets(code: str, breakers: Sequence[Any], src: Sources,
              per_rule: int) -> Iterator[tuple[str, FileSet]]:
    made = 0
    for attempt in range(per_rule * 4 * len(breakers)):
        if made == per_rule:
            return
        breaker = breakers[attempt % len(breakers)]
        fileset = breaker(src, attempt // len(breakers))
        if fileset is None:
            continue
        yield breaker.__name__.strip("_").replace("_", "-"), fileset
        made += 1


def _references_apart(fileset: FileSet, number: int) -> FileSet:
    """Give the messages of a case references of their own, tagged with the case number.

    Each distinct reference gets its own new one, so messages that share a reference on
    purpose (WB-SUR-DUP) still do, and cases checked side by side never share one.
    """
    renamed: dict[str, str] = {}
    files = []
    for name, content in fileset.files:
        if isinstance(content, list):
            content = [_renamed(payload, number, renamed) for payload in content]
        files.append((name, content))
    return FileSet(tuple(files), fileset.broken, fileset.index, fileset.path,
                   fileset.description, fileset.interface)


def _renamed(payload: Any, number: int, renamed: dict[str, str]) -> Any:
    s1 = payload.get("CommonBlock", {}).get("S1") if isinstance(payload, dict) else None
    ref = s1.get("senderUniqueReference") if isinstance(s1, dict) else None
    # a broken reference (off its pattern, too long) stays as broken as it is
    if not isinstance(ref, str) or not SENDER_UNIQUE_REFERENCE_PATTERN.match(ref) or len(ref) > 180:
        return payload
    if ref not in renamed:
        renamed[ref] = f"{ref}N{number:04d}{chr(ord('a') + len(renamed) % 26)}"
    return _unique(payload, renamed[ref][len(ref):])


def _package_rejects(fileset: FileSet) -> bool | None:
    """Whether the package's schema refuses the broken payload (``None``: no payload)."""
    content = dict(fileset.files)[fileset.broken]
    if isinstance(content, bytes):
        try:
            data = orjson.loads(content.removeprefix(b"\xef\xbb\xbf"))
        except orjson.JSONDecodeError:
            return None
        items = data if isinstance(data, list) else [data]
        payloads = [i["payload"] for i in items if isinstance(i, dict) and "payload" in i]
        if fileset.index is not None and fileset.index < len(items):
            payloads = payloads[fileset.index: fileset.index + 1]
    else:
        payloads = [content[fileset.index or 0]]
    if not payloads:
        return None
    return any(not validator_for(fileset.interface or "IF-021").is_valid(p) for p in payloads)


def build_cases(dataset: str | os.PathLike[str], rules: Iterable[str] | None = None,
                per_rule: int = 1) -> list[NegativeCase]:
    """The labelled invalid cases of a data set.

    Parameters
    ----------
    dataset : path
        A data set folder (``messages/IF-021``, ``messages/IF-041``).
    rules : iterable of str, optional
        Rule codes to break (see :data:`CODES`); all by default.
    per_rule : int
        Cases per rule; for ``SCHEMA`` per schema class.

    Returns
    -------
    list of NegativeCase
        Numbered from 1, in the order of :data:`CODES`.

    Raises
    ------
    NegativeError
        Unknown rule code, missing data set, ``per_rule`` below 1.
    """
    if per_rule < 1:
        raise NegativeError(f"per_rule must be at least 1, got {per_rule}")
    codes = check_rules(rules)
    src = read_sources(dataset)
    cases: list[NegativeCase] = []
    for code in codes:
        if code == "SCHEMA":
            made = _schema_sets(src, per_rule)
        elif code in RULE_BREAKERS:
            made = _rule_sets(code, src, per_rule)
        elif code in CROSS_BREAKERS:
            made = _set_sets(code, CROSS_BREAKERS[code], src, per_rule)
        else:
            made = _set_sets(code, FILE_BREAKERS[code], src, per_rule)
        for breakage, fileset in made:
            number = len(cases) + 1
            apart = _references_apart(fileset, number)
            package = _package_rejects(apart)
            # every schema class is chosen among what Elexon's schema refuses too (tests check
            # it against the YAML); the interface's own schema refuses another interfaceID
            elexon = (None if package is None else
                      code in ("SCHEMA", "INTERFACE") or code in ELEXON_REJECTS)
            cases.append(NegativeCase(number, code, breakage, apart, elexon, package,
                                      ALSO_REPORTED.get(code, ())))
    return cases


# ---------------------------------------------------------------------- writing


def expected_csv(cases: Sequence[NegativeCase]) -> bytes:
    """``expected.csv``: a header and one row per case (UTF-8, ``\\n`` line ends)."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=EXPECTED_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for case in cases:
        writer.writerow(case.row())
    return text.getvalue().encode("utf-8")


def write_cases(cases: Sequence[NegativeCase], folder: str | os.PathLike[str]) -> list[Path]:
    """Write the cases' files and ``expected.csv`` into ``folder`` (created; must be new or empty).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    root = Path(folder)
    (root / CASES).mkdir(parents=True, exist_ok=True)
    written = []
    for case in cases:
        single = len(case.fileset.files) == 1
        base = root / CASES if single else root / CASES / case.name
        base.mkdir(exist_ok=True)
        for name, content in case.fileset.files:
            path = base / (case.name if single else name)
            path.write_bytes(content if isinstance(content, bytes) else body(content))
            written.append(path)
    (root / EXPECTED).write_bytes(expected_csv(cases))
    written.append(root / EXPECTED)
    return written


def generate_negative(dataset: str | os.PathLike[str], out: str | os.PathLike[str], *,
                      rules: Iterable[str] | None = None, per_rule: int = 1,
                      overwrite: bool = False,
                      overwrite_extra_files: bool = False,
                      overwrite_modified: bool = False) -> NegativeSummary:
    """Derive labelled invalid cases from a data set and publish them atomically at ``out``.

    Parameters
    ----------
    dataset : path
        A data set made by ``demo``, ``generate`` or ``from-csv``.
    out : path
        Folder to publish as (refused if it exists, unless ``overwrite`` and it is this tool's).
    rules, per_rule
        As for :func:`build_cases`.
    overwrite, overwrite_extra_files, overwrite_modified : bool
        As for :class:`~mhhs_workbench.publish.publication.Publication`.

    Raises
    ------
    NegativeError
        Unknown rule, missing data set.
    PublicationError
        ``out`` exists and may not be replaced.
    """

    codes = check_rules(rules)
    cases = build_cases(dataset, codes, per_rule)
    try:
        source = orjson.loads((Path(dataset) / MANIFEST).read_bytes()).get("manifest_sha256")
    except (OSError, orjson.JSONDecodeError, AttributeError):
        source = None
    with Publication(out, overwrite=overwrite, overwrite_extra_files=overwrite_extra_files,
                     overwrite_modified=overwrite_modified, kind=NEGATIVE_KIND) as pub:
        assert pub.staging is not None
        write_cases(cases, pub.staging)
        header = {
            "package_version": __version__,
            "kind": NEGATIVE_KIND,
            "source": {"manifest_sha256": source},
            "options": {"rules": codes, "per_rule": per_rule},
            "counts": {"cases": len(cases),
                       "rules": len({c.rule for c in cases})},
        }
        manifest = pub.publish(header)
    return NegativeSummary(Path(out), cases, manifest)
