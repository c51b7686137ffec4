"""Check IF-021 / IF-041 messages: JSON Schema plus the business rules a valid data set obeys.

Two layers:

- the JSON Schema of the payload: the package's own, and Elexon's official one of a chosen
  release of the DIP API (:mod:`mhhs_workbench.validation.spec_versions`), read leniently or strictly;
- business rules that a schema cannot state: the checks Elexon's central systems apply on receipt
  (codes ``ECS1002`` ... ``ECS1015`` as Elexon numbers them) and the project's own rules
  (codes ``WB-...``: MPAN check digit, GSP group of the distributor, unique references, readings).

Rules inspect whatever the payload holds and skip parts of the wrong shape (the schema reports
those), so they can run on any JSON value without raising.

:func:`validate_files` reads each file a message at a time (:mod:`mhhs_workbench.validation.json_stream`:
regular files within a size limit, UTF-8 without BOM, no duplicate keys), checks IF-021 periods
column by column when it can (:mod:`mhhs_workbench.validation.period_checks`) and applies the rules across
messages and files (:mod:`mhhs_workbench.validation.cross_message`). Reports other than the terminal
summary are in :mod:`mhhs_workbench.validation.outputs`.
"""

from __future__ import annotations

import os
import re
import reprlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from jsonschema.exceptions import ValidationError, best_match

from mhhs_workbench.codes.identifiers import GSP_GROUP_BY_DISTRIBUTOR, mpan_problem
from mhhs_workbench.codes.messages import (
    DIP_DATETIME_PATTERN,
    ESTIMATE_CODES,
    INTERFACE_IDS,
    MQIDS_BY_EVENT,
    PERIOD_MINUTES,
    ZE_CODES,
)
from mhhs_workbench.validation.cross_message import (
    CrossChecks,
    CrossFinding,
    DayRecord,
    ReadRecord,
    register_digits,
)
from mhhs_workbench.validation.json_stream import (
    StreamError,
    duplicate_keys,
    iter_items,
    max_file_bytes,
    open_message_file,
)
from mhhs_workbench.validation.period_checks import (
    DayColumns,
    SplitSchema,
    day_columns,
    period_index,
    split_schema,
)
from mhhs_workbench.validation.schema import PayloadValidator, validator_for
from mhhs_workbench.validation.settlement_reports import REPORT_IDS, report_errors
from mhhs_workbench.validation.spec_versions import (
    LATEST_VERSION,
    SchemaError,
    Spec,
    check_nullable,
    dataset_spec_version,
    find_version,
    resolve_spec,
)

__all__ = [
    "AUTO_SPEC",
    "RULES",
    "FileReport",
    "Problem",
    "Rule",
    "ValidationReport",
    "business_problems",
    "choose_spec",
    "format_report",
    "validate_files",
    "validate_payload",
]


from mhhs_workbench.codes.rules import (  # noqa: F401  (re-exported names of the checks)
    DAY_RESENT,
    DUP_KEY,
    ECS1002,
    ECS1004,
    ECS1005,
    ECS1006,
    ECS1007,
    ECS1010,
    ECS1011,
    ECS1013,
    ECS1014,
    ECS1015,
    ENVELOPE,
    FILE,
    FILE_BOM,
    FILE_KIND,
    FILE_SIZE,
    GSP,
    INTERFACE,
    MPAN,
    MPAN_DIRECTION,
    READ_BACK,
    READ_NEGATIVE,
    READ_RECONCILE,
    READ_TIME,
    REFERENCE,
    RULES,
    SCHEMA,
    SCHEMA_ELEXON,
    SCHEMA_ELEXON_NULL,
    SP_DAY,
    Rule,
)


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


# ---------------------------------------------------------------------------------------------
# Helpers

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INDEX = re.compile(r"\$\[(\d+)\]")
_PATH_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[('(?:[^'\\]|\\.)*')\]")
_DATETIME = re.compile(DIP_DATETIME_PATTERN.strip("^$"))
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_DAY = timedelta(days=1)
_PERIOD = timedelta(minutes=PERIOD_MINUTES)

_short_repr = reprlib.Repr()
_short_repr.maxstring = 60
_short_repr.maxother = 60
_short_repr.maxlist = 3
_short_repr.maxdict = 3
_short_repr.maxlevel = 2


def _short(value: Any) -> str:
    return _short_repr.repr(value)


def _join_path(path: str, parts: Iterable[str | int]) -> str:
    out = [path]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER.fullmatch(part):
            out.append(f".{part}")
        else:
            out.append(f"[{part!r}]")
    return "".join(out)


def _dict(value: Any, *keys: str) -> dict[str, Any]:
    """The object at ``value[keys...]``, or ``{}`` when anything on the way is not an object."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _instant(text: Any) -> datetime | None:
    """Parse a 25-character date-time with offset; ``None`` when it is not one."""
    if not isinstance(text, str) or len(text) != 25 or not _DATETIME.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # right shape, impossible date or time (e.g. 2025-02-30)
        return None


def _decimal(text: Any) -> Decimal | None:
    if isinstance(text, str) and _DECIMAL.fullmatch(text):
        return Decimal(text)
    return None


def _describe(error: ValidationError) -> str:
    """A one-line message naming the offending value, short even for huge instances."""
    kind, value, instance = error.validator, error.validator_value, error.instance
    if kind in ("maxItems", "minItems") and isinstance(instance, list):
        bound = "more than the maximum" if kind == "maxItems" else "fewer than the minimum"
        return f"array has {len(instance)} items, {bound} of {value}"
    if kind == "minProperties" and isinstance(instance, dict):
        return f"object has {len(instance)} keys, fewer than the minimum of {value}"
    if kind in ("minLength", "maxLength") and isinstance(instance, str):
        how = "too short" if kind == "minLength" else "too long"
        limit = "at least" if kind == "minLength" else "at most"
        return f"{_short(instance)} is {how}: {len(instance)} characters, {limit} {value}"
    if kind == "enum":
        allowed = ", ".join(repr(v) for v in value[:12]) + (", ..." if len(value) > 12 else "")
        return f"{_short(instance)} is not one of the allowed values ({allowed})"
    if kind == "const":
        return f"{_short(instance)} should be {value!r}"
    if kind == "pattern":
        about = error.schema.get("description") if isinstance(error.schema, dict) else None
        return f"{_short(instance)} does not match {value!r}" + (f" ({about})" if about else "")
    message = error.message
    full = repr(instance)
    return message.replace(full, _short(instance)) if len(full) > 80 else message


def _strict_null(error: ValidationError) -> bool:
    """Whether ``error`` is a null refused only by an enum although the type allows null: what
    the strict reading of OpenAPI ``nullable`` refuses and the lenient one lets through."""
    kind = error.schema.get("type") if isinstance(error.schema, dict) else None
    return (
        error.validator == "enum"
        and error.instance is None
        and isinstance(kind, list)
        and "null" in kind
    )


def _schema_problem(error: ValidationError, validator: PayloadValidator, path: str) -> Problem:
    # anyOf/oneOf failures hide the useful error among their alternatives
    if error.context:
        error = best_match(error.context) or error
    where = _join_path(path, error.absolute_path)
    if validator.source != "elexon":
        return Problem(SCHEMA, where, _describe(error))
    # name the release (and reading) that refused it: releases disagree, and a tester must
    # know which one a message fails
    if validator.nullable == "strict" and _strict_null(error):
        allowed = ", ".join(repr(v) for v in error.validator_value[:12])
        more = ", ..." if len(error.validator_value) > 12 else ""
        return Problem(
            SCHEMA_ELEXON_NULL,
            where,
            f"{validator.label}: null is refused under the strict reading of OpenAPI 3.0 "
            f"nullable: the enum ({allowed}{more}) does not list null and nullable: true does "
            "not add it (the lenient reading accepts null here)",
        )
    return Problem(SCHEMA_ELEXON, where, f"{validator.label}: {_describe(error)}")


# ---------------------------------------------------------------------------------------------
# Business rules


def _common_rules(
    payload: dict[str, Any],
    path: str,
    seen_references: dict[str, str] | None,
    source: str,
) -> Iterator[Problem]:
    m0 = _dict(payload, "CommonBlock", "M0")
    m0_path = f"{path}.CommonBlock.M0"
    mpan = m0.get("MPANCore")
    # shape (13 ASCII digits) is the schema's business; the rules judge only the meaning
    if isinstance(mpan, str) and len(mpan) == 13 and mpan.isascii() and mpan.isdigit():
        problem = mpan_problem(mpan)
        if problem:
            yield Problem(MPAN, f"{m0_path}.MPANCore", problem)
        expected = GSP_GROUP_BY_DISTRIBUTOR.get(mpan[:2])
        gsp = m0.get("GSPGroupID")
        if expected is not None and isinstance(gsp, str) and gsp != expected:
            yield Problem(
                GSP,
                f"{m0_path}.GSPGroupID",
                f"GSP group {gsp!r} does not match distributor {mpan[:2]} of MPAN {mpan} "
                f"(expected {expected!r})",
            )
    if seen_references is not None:
        reference = _dict(payload, "CommonBlock", "S1").get("senderUniqueReference")
        ref_path = f"{path}.CommonBlock.S1.senderUniqueReference"
        if isinstance(reference, str):
            first = seen_references.get(reference)
            if first is not None:
                yield Problem(REFERENCE, ref_path, f"{reference!r} was already used at {first}")
            else:
                seen_references[reference] = f"{source} {ref_path}" if source else ref_path


def _if021_rules(
    payload: dict[str, Any], path: str, columns: Sequence[DayColumns] | None = None
) -> Iterator[Problem]:
    """IF-021 rules; ``columns`` (one per day, from :func:`day_columns`) lets the per-period
    rules look at each day's distinct values instead of every period."""
    event = _dict(payload, "CommonBlock", "S0").get("eventCode")
    b900 = _dict(payload, "CustomBlock", "B900")
    b900_path = f"{path}.CustomBlock.B900"
    mqid = _dict(b900, "MQID").get("measurementQuantityID")
    if isinstance(event, str) and event in MQIDS_BY_EVENT and isinstance(mqid, str):
        allowed = MQIDS_BY_EVENT[event]
        if mqid not in allowed:
            yield Problem(
                ECS1002,
                f"{b900_path}.MQID.measurementQuantityID",
                f"MQID {mqid!r} does not fit event {event}; expected {' or '.join(allowed)}",
            )

    days: list[_Day] = []
    for i, day in enumerate(_list(b900.get("settlementDayConsumptionPeriods"))):
        day_path = f"{b900_path}.settlementDayConsumptionPeriods[{i}]"
        settlement_day = _dict(day, "settlementDay")
        if "periodDuration" in settlement_day:
            duration = settlement_day["periodDuration"]
            if type(duration) is not int or duration != PERIOD_MINUTES:
                yield Problem(
                    ECS1004,
                    f"{day_path}.settlementDay.periodDuration",
                    f"periodDuration is {_short(duration)}, must be {PERIOD_MINUTES}",
                )
        date_text = settlement_day.get("settlementDayDate")
        start = _instant(date_text)
        if isinstance(date_text, str) and (start is None or date_text[10:] != _UTC_MIDNIGHT):
            yield Problem(
                ECS1014,
                f"{day_path}.settlementDay.settlementDayDate",
                f"settlementDayDate {_short(date_text)} is not UTC midnight ({_UTC_MIDNIGHT})",
            )
        periods = _list(_dict(day).get("consumptionPeriods"))
        days.append(_Day(day_path, start, date_text, periods))

    effective = _instant(_dict(payload, "CustomBlock", "B067").get("connectionTypeEffectiveFromDate"))
    if effective is not None:
        yield from _before_connection(days, effective)

    overlaps = list(_day_overlaps(days))
    yield from overlaps
    # the usual case, every sp a distinct period end of its own midnight-aligned day, needs no
    # date arithmetic; anything else gets the full check
    if columns is None or len(columns) != len(days):
        if overlaps or not all(map(_regular_day, days)):
            yield from _period_timing(days)
        for day in days:
            yield from _period_values(day)
        return
    if overlaps or not all(map(_regular_columns, days, columns)):
        yield from _period_timing(days)
    for day, day_columns_ in zip(days, columns, strict=True):
        if _suspect_values(day_columns_):
            yield from _period_values(day)


def _regular_columns(day: _Day, columns: DayColumns) -> bool:
    """:func:`_regular_day` from a day's distinct ``sp`` values."""
    if day.start is None or day.text[10:] != _UTC_MIDNIGHT:
        return False
    sps = columns.distinct["sp"]
    return len(sps) == len(day.periods) and sps <= _period_ends(day.text)


def _suspect_values(columns: DayColumns) -> bool:
    """Whether a day may breach ECS1010, ECS1011 or ECS1015, judged from its columns (the
    exact per-period check then says where)."""
    wh = columns.values_wh()
    if wh is None or (wh.size and wh.min() < 0):
        return True
    quality = columns.distinct["q"]
    if quality.isdisjoint(_ZE) and quality.isdisjoint(_ESTIMATES):
        return False
    qs = columns.column("q")
    if not quality.isdisjoint(_ZE):
        ze = np.fromiter(map(_ZE.__contains__, qs), dtype=bool, count=len(qs))
        if wh[ze].any():
            return True
    if "e" in columns.distinct and None in columns.distinct["e"] and not quality.isdisjoint(_ESTIMATES):
        es = columns.column("e")
        if any(e is None and q in _ESTIMATES for q, e in zip(qs, es, strict=True)):
            return True
    return False


def _before_connection(days: list[_Day], effective: datetime) -> Iterator[Problem]:
    """ECS1013: the first ``sp`` ending before the connection type took effect, if any."""
    for day in days:
        if day.start is None or day.start >= effective:
            continue  # only days starting before the effective date can hold such a period
        for k, period in enumerate(day.periods):
            end = _instant(period.get("sp")) if isinstance(period, dict) else None
            if end is not None and end < effective:
                yield Problem(
                    ECS1013,
                    f"{day.path}.consumptionPeriods[{k}].sp",
                    f"sp {period['sp']} is before the connection type's effective-from date "
                    f"{effective.isoformat()}",
                )
                return


@dataclass(frozen=True)
class _Day:
    path: str
    start: datetime | None
    text: Any
    periods: list[Any]


_UTC_MIDNIGHT = "T00:00:00+00:00"
_ZE = frozenset(ZE_CODES)
_ESTIMATES = frozenset(ESTIMATE_CODES)


@lru_cache(maxsize=1024)
def _period_ends(date_text: str) -> frozenset[str]:
    """The 48 ``sp`` strings of the UTC day starting at ``date_text`` (written +00:00)."""
    start = datetime.fromisoformat(date_text)
    return frozenset((start + k * _PERIOD).isoformat() for k in range(1, 49))


def _regular_day(day: _Day) -> bool:
    if day.start is None or day.text[10:] != _UTC_MIDNIGHT:
        return False
    ends = _period_ends(day.text)
    sps = [p.get("sp") if isinstance(p, dict) else None for p in day.periods]
    return all(type(sp) is str and sp in ends for sp in sps) and len(set(sps)) == len(sps)


def _day_overlaps(days: list[_Day]) -> Iterator[Problem]:
    """ECS1007 for settlement days: they are 24 h long, so starts under a day apart overlap."""
    starts = sorted((d.start.astimezone(UTC), d.text, d.path) for d in days if d.start is not None)
    for (previous, previous_text, previous_path), (current, text, current_path) in zip(
        starts, starts[1:], strict=False
    ):
        if current - previous < _DAY:
            how = "duplicates" if current == previous else "overlaps"
            yield Problem(
                ECS1007,
                f"{current_path}.settlementDay.settlementDayDate",
                f"settlement day {text} {how} settlement day {previous_text} at {previous_path}",
            )


def _period_timing(days: list[_Day]) -> Iterator[Problem]:
    """ECS1005, ECS1006, ECS1007 (periods) and WB-SP-DAY over every ``sp`` of a message."""
    sp_seen: dict[datetime, str] = {}
    for day in days:
        start = day.start.astimezone(UTC) if day.start is not None else None
        for j, period in enumerate(day.periods):
            if not isinstance(period, dict):
                continue
            path = f"{day.path}.consumptionPeriods[{j}]"
            sp = period.get("sp")
            end = _instant(sp)
            if end is None:
                if isinstance(sp, str):
                    yield Problem(
                        ECS1005, f"{path}.sp", f"sp {_short(sp)} is not a valid date-time"
                    )
                continue
            end = end.astimezone(UTC)
            if end.minute % PERIOD_MINUTES or end.second:
                yield Problem(ECS1005, f"{path}.sp", f"sp {sp} does not fall on :00 or :30 (UTC)")
            first = sp_seen.get(end)
            if first is not None:
                yield Problem(ECS1006, f"{path}.sp", f"sp {sp} duplicates the sp at {first}")
            else:
                sp_seen[end] = path
            if start is not None and not start < end <= start + _DAY:
                yield Problem(
                    SP_DAY,
                    f"{path}.sp",
                    f"sp {sp} is outside settlement day {day.text} "
                    f"(its periods end {(day.start + _PERIOD).isoformat()} ... "
                    f"{(day.start + _DAY).isoformat()})",
                )
    # periods are 30 minutes long, so distinct ends less than that apart overlap
    ends = sorted(sp_seen.items())
    for (previous, previous_path), (current, current_path) in zip(ends, ends[1:], strict=False):
        if current - previous < _PERIOD:
            yield Problem(
                ECS1007,
                f"{current_path}.sp",
                f"period ending {current.isoformat()} overlaps the one ending "
                f"{previous.isoformat()} at {previous_path}",
            )


def _period_values(day: _Day) -> Iterator[Problem]:
    """ECS1010, ECS1011 and ECS1015 over the periods of one day."""
    for j, period in enumerate(day.periods):
        if not isinstance(period, dict):
            continue
        v, quality = period.get("v"), period.get("q")
        negative = type(v) is str and v.startswith("-")
        ze = type(quality) is str and quality in _ZE
        estimate = type(quality) is str and quality in _ESTIMATES
        if not (negative or ze or estimate):  # the usual case: nothing to look at
            continue
        path = f"{day.path}.consumptionPeriods[{j}]"
        value = _decimal(v)
        if negative and value is not None and value < 0:
            yield Problem(ECS1010, f"{path}.v", f"value {v} is negative")
        if ze and value is not None and value != 0:
            yield Problem(ECS1011, f"{path}.v", f"value {v} must be 0.000 with quality {quality}")
        if estimate and period.get("e") is None:
            yield Problem(
                ECS1015, f"{path}.e", f"estimated value (q {quality}) has no estimation reason e"
            )


def _if041_rules(payload: dict[str, Any], path: str) -> Iterator[Problem]:
    custom = _dict(payload, "CustomBlock")
    lists = (
        ("B064List", "cumulativeRegisterReadingDateTime", "cumulativeRegisterReading"),
        ("B065List", "configurableRegisterReadingDate", "configurableRegisterReading"),
    )
    for list_key, time_key, reading_key in lists:
        for i, item in enumerate(_list(custom.get(list_key))):
            if not isinstance(item, dict):
                continue
            item_path = f"{path}.CustomBlock.{list_key}[{i}]"
            when = item.get(time_key)
            if isinstance(when, str) and _instant(when) is None:
                yield Problem(
                    READ_TIME,
                    f"{item_path}.{time_key}",
                    f"{_short(when)} is not a valid 25-character date-time with offset",
                )
            reading = _decimal(item.get(reading_key))
            if reading is not None and reading < 0:
                yield Problem(
                    READ_NEGATIVE,
                    f"{item_path}.{reading_key}",
                    f"reading {item[reading_key]} is negative",
                )


def business_problems(
    payload: Any,
    interface_id: str,
    *,
    path: str = "$",
    seen_references: dict[str, str] | None = None,
    source: str = "",
) -> list[Problem]:
    """Business-rule problems of one payload (no schema check).

    Parameters
    ----------
    payload : Any
        A payload, ``{"CommonBlock": ..., "CustomBlock": ...}``; anything else yields nothing.
    interface_id : {'IF-021', 'IF-041'}
        Which interface's rules apply (the common ones apply to both).
    path : str
        JSON path of ``payload``, prefixed to every problem's path.
    seen_references : dict, optional
        ``senderUniqueReference`` -> where it was first seen. Shared across calls to find
        duplicates across messages and files; updated in place. ``None`` skips the check.
    source : str
        Name of the file holding the payload, recorded in ``seen_references``.
    """
    if not isinstance(payload, dict):
        return []
    problems = list(_common_rules(payload, path, seen_references, source))
    if interface_id == "IF-021":
        problems.extend(_if021_rules(payload, path))
    elif interface_id == "IF-041":
        problems.extend(_if041_rules(payload, path))
    return problems


def validate_payload(
    payload: Any,
    interface_id: str | None = None,
    validator: PayloadValidator | Sequence[PayloadValidator] | None = None,
    *,
    business_rules: bool = True,
    path: str = "$",
    seen_references: dict[str, str] | None = None,
    source: str = "",
) -> list[Problem]:
    """Everything wrong with one payload: schema violations first, then business rules.

    Parameters
    ----------
    payload : Any
        One message payload, ``{"CommonBlock": ..., "CustomBlock": ...}``.
    interface_id : str, optional
        ``'IF-021'`` or ``'IF-041'``; read from ``CommonBlock.S0.interfaceID`` when omitted.
    validator : PayloadValidator or sequence of them, optional
        Schema(s) to check against; the package's own schema of the interface by default.
        Pass ``validator_for(interface_id, spec)`` too to check Elexon's schema as well.
    business_rules : bool
        Also apply the business rules (:data:`RULES` codes ``ECS...`` and ``WB-...``).
    path : str
        JSON path of ``payload`` (e.g. ``$[3].payload``), prefixed to every problem's path.
    seen_references : dict, optional
        Shared record of ``senderUniqueReference`` values; see :func:`business_problems`.
    source : str
        File name recorded with the references.

    Returns
    -------
    list of Problem
        Empty when the payload is valid.
    """
    if not isinstance(payload, dict):
        return [Problem(ENVELOPE, path, f"payload must be an object, found {_short(payload)}")]
    if interface_id is None:
        interface_id = _dict(payload, "CommonBlock", "S0").get("interfaceID")
    if interface_id not in INTERFACE_IDS:
        return [
            Problem(
                INTERFACE,
                f"{path}.CommonBlock.S0.interfaceID",
                f"interfaceID {_short(interface_id)} is not one of {', '.join(INTERFACE_IDS)}",
            )
        ]
    if validator is None:
        validators: Sequence[PayloadValidator] = (validator_for(interface_id),)
    elif isinstance(validator, PayloadValidator):
        validators = (validator,)
    else:
        validators = validator
    problems = [
        _schema_problem(error, v, path) for v in validators for error in v.errors(payload)
    ]
    if business_rules:
        problems.extend(
            business_problems(
                payload,
                interface_id,
                path=path,
                seen_references=seen_references,
                source=source,
            )
        )
    return problems


# ---------------------------------------------------------------------------------------------
# Files

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
    """Outcome of :func:`validate_files`.

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


def _validators(
    interface_id: str, spec: Spec | None, nullable: str, package_schema: bool
) -> list[PayloadValidator]:
    """The schemas one run checks a message of ``interface_id`` against, package's first."""
    chosen = [validator_for(interface_id)] if package_schema else []
    if spec is not None:
        chosen.append(validator_for(interface_id, spec, nullable=nullable))
    return chosen


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
        if interface_id not in self.validators:
            self.validators[interface_id] = self.choose(interface_id)
        return self.validators[interface_id]


def _value_at(item: Any, item_path: str, path: str) -> str | None:
    """The value at JSON ``path`` (below ``item_path``), shortened; ``None`` when absent."""
    if not path.startswith(item_path):
        return None
    node = item
    for match in _PATH_PART.finditer(path, len(item_path)):
        name, number, quoted = match.groups()
        if name is not None or quoted is not None:
            key = name if name is not None else quoted[1:-1].replace("\\'", "'")
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        else:
            if not isinstance(node, list) or int(number) >= len(node):
                return None
            node = node[int(number)]
    return _short(node)


def _check_item(text: bytes, item: Any, index: int, run: _Run, file_no: int,
                report: FileReport) -> None:
    """Record every problem of array item ``index`` of a file, then feed the cross-message
    rules (whose findings on this item come after its own)."""
    source = str(report.path)
    item_path = f"$[{index}]"
    problems = [
        Problem(DUP_KEY, item_path + where[1:],
                f"key {key!r} appears more than once in this object; a parser keeps one silently",
                _short(key))
        for where, key in duplicate_keys(text, item)
    ]
    if not isinstance(item, dict) or set(item) != {"payload"}:
        found = sorted(item) if isinstance(item, dict) else _short(item)
        problems.append(
            Problem(ENVELOPE, item_path, f'item must be {{"payload": {{...}}}}, found {found}')
        )
        report.add(index, problems)
        return
    payload = item["payload"]
    path = f"{item_path}.payload"
    interface_id = _dict(payload, "CommonBlock", "S0").get("interfaceID")
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
            problems.extend(_common_rules(payload, path, run.seen_references, source))
            problems.extend(_if021_rules(payload, path, columns))
    else:
        problems.extend(validate_payload(
            payload, interface_id if known else None, chosen,
            business_rules=run.business_rules, path=path,
            seen_references=run.seen_references, source=source,
        ))
    for k, problem in enumerate(problems):
        if problem.value is None:
            value = _value_at(item, item_path, problem.path)
            if value is not None:
                problems[k] = replace(problem, value=value)
    report.add(index, problems)
    if run.cross is not None and known and isinstance(payload, dict):
        _feed_cross(run.cross, file_no, index, payload, path, interface_id, columns)


def _feed_cross(cross: CrossChecks, file_no: int, index: int, payload: dict[str, Any], path: str,
                interface_id: str, columns: list[DayColumns] | None) -> None:
    mpan = _dict(payload, "CommonBlock", "M0").get("MPANCore")
    if not isinstance(mpan, str):
        return
    s1 = _dict(payload, "CommonBlock", "S1")
    if interface_id == "IF-021":
        b900 = _dict(payload, "CustomBlock", "B900")
        mqid = _dict(b900, "MQID").get("measurementQuantityID")
        if not isinstance(mqid, str):
            return
        days = _list(b900.get("settlementDayConsumptionPeriods"))
        records = []
        for i, day in enumerate(days):
            text = _dict(day, "settlementDay").get("settlementDayDate")
            if not isinstance(text, str):
                continue
            values, present = None, None
            if columns is not None and len(columns) == len(days) and text[10:] == _UTC_MIDNIGHT:
                values, present = _day_values(text, columns[i])
            records.append(DayRecord(
                mpan, mqid, text, values, present,
                f"{path}.CustomBlock.B900.settlementDayConsumptionPeriods[{i}]"))
        cross.add_days(file_no, index, s1.get("senderTimestamp"),
                       s1.get("senderUniqueReference"), records)
    else:
        cross.add_reads(file_no, index, list(_reads(payload, mpan, path)))


_ALL_PERIODS = np.ones(48, dtype=bool)
_ALL_PERIODS.flags.writeable = False  # shared by every complete day


def _day_values(date_text: str, columns: DayColumns) -> tuple[np.ndarray | None, np.ndarray | None]:
    """A day's 48 half hours [Wh] (int32) and which of them it holds."""
    try:
        slots, ends = period_index(date_text)
    except ValueError:
        return None, None
    sps = columns.columns["sp"]
    wh = columns.values_wh()
    if wh is None:
        return None, None
    if sps == ends:  # the usual case: every period, in order
        return wh.astype(np.int32), _ALL_PERIODS
    if not columns.distinct["sp"] <= slots.keys() or len(columns.distinct["sp"]) != len(sps):
        return None, None
    values = np.zeros(48, dtype=np.int32)
    present = np.zeros(48, dtype=bool)
    where = np.fromiter(map(slots.__getitem__, sps), dtype=np.int64, count=len(sps))
    values[where] = wh
    present[where] = True
    return values, present


def _reads(payload: dict[str, Any], mpan: str, path: str) -> Iterator[ReadRecord]:
    custom = _dict(payload, "CustomBlock")
    lists = (
        ("B064List", "cumulativeRegisterReadingDateTime", "cumulativeRegisterReading", None),
        ("B065List", "configurableRegisterReadingDate", "configurableRegisterReading",
         "configurableRegisterID"),
    )
    for list_key, time_key, reading_key, register_key in lists:
        for i, read in enumerate(_list(custom.get(list_key))):
            if not isinstance(read, dict):
                continue
            when = _instant(read.get(time_key))
            reading = _decimal(read.get(reading_key))
            meter = read.get("meterID")
            register = "C" if register_key is None else read.get(register_key)
            if when is None or reading is None or not isinstance(meter, str) or not isinstance(
                register, str
            ):
                continue
            wh = reading * 1000
            if wh != wh.to_integral_value():
                continue
            yield ReadRecord(mpan, meter, register, when.astimezone(UTC), int(wh),
                             f"{path}.CustomBlock.{list_key}[{i}].{reading_key}")


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


#: ``spec`` value meaning "the data set's own release (its scenario's ``spec_version``), else the
#: newest known, if found on the search path; the package's schema alone, with a note, if not".
AUTO_SPEC = "auto"


def choose_spec(
    paths: Iterable[str | os.PathLike[str]], spec: str | os.PathLike[str] | Spec | None
) -> tuple[Spec | None, str]:
    """The specification a run checks against, and a note when a default one was not found.

    Parameters
    ----------
    paths : iterable of path
        What is being validated (their data set's ``spec_version`` chooses the default).
    spec : str, path, Spec or None
        ``None``: no Elexon schema. :data:`AUTO_SPEC`: the data set's own release, or
        :data:`~mhhs_workbench.validation.spec_versions.LATEST_VERSION`, looked up on the search path;
        when it is not there, the run goes on without it (the package must work without
        Elexon's files) and the note says why. Anything else: a version, folder or file, which
        must be found.

    Returns
    -------
    (Spec or None, str)
        The specification, and the note (empty unless an automatic choice was not found).

    Raises
    ------
    SchemaError
        If an explicitly given specification cannot be found or identified.
    """
    if spec is None:
        return None, ""
    if isinstance(spec, str) and spec == AUTO_SPEC:
        version = dataset_spec_version(paths) or LATEST_VERSION
        try:
            return find_version(version), ""
        except SchemaError as exc:
            return None, f"Elexon's schema not checked: {exc}"
    return resolve_spec(spec), ""


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
        one resolved JSON document, or :data:`AUTO_SPEC` (see :func:`choose_spec`). Problems
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

    def choose(interface_id: str) -> list[PayloadValidator]:
        return _validators(interface_id, chosen_spec, nullable, package_schema)

    checked: list[FileReport] = []  # the files so far, the one being read last

    def sink(found: CrossFinding) -> None:
        checked[found.file].add(
            found.index, [Problem(found.code, found.path, found.message, found.value)]
        )

    cross = (
        CrossChecks(sink, register_digits([Path(p) for p in paths])) if business_rules else None
    )
    run = _Run(choose, business_rules, max_bytes, cross)
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
    return report


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
