"""The business rules of one payload, and the check of one payload against schemas and rules.

Business rules state what a schema cannot: the checks Elexon's central systems apply on receipt
(codes ``ECS1002`` ... ``ECS1015`` as Elexon numbers them) and the project's own rules (codes
``WB-...``: MPAN check digit, GSP group of the distributor, unique references, readings). They
inspect whatever the payload holds and skip parts of the wrong shape (the schema reports those),
so they run on any JSON value without raising.

The IF-021 rules judge the timing of settlement days and periods (``sp`` instants, compared as
instants [UTC]; periods are :data:`~mhhs_workbench.codes.messages.PERIOD_MINUTES` minutes long,
settlement days 24 h from UTC midnight) and the period values [kWh]. Given a day's columns
(:mod:`mhhs_workbench.validation.period_checks`) they look at its distinct values instead of
every period, and fall back to the exact per-period check only where something may be wrong.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np

from mhhs_workbench.codes.identifiers import GSP_GROUP_BY_DISTRIBUTOR, mpan_problem
from mhhs_workbench.codes.messages import (
    ESTIMATE_CODES,
    INTERFACE_IDS,
    MQIDS_BY_EVENT,
    PERIOD_MINUTES,
    ZE_CODES,
)
from mhhs_workbench.codes.rules import (
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
    GSP,
    INTERFACE,
    MPAN,
    READ_NEGATIVE,
    READ_TIME,
    REFERENCE,
    SP_DAY,
)
from mhhs_workbench.time.instants import parse_dip_datetime
from mhhs_workbench.time.periods import PERIODS_PER_UTC_DAY
from mhhs_workbench.validation.json_values import as_dict, as_list, decimal_value, short
from mhhs_workbench.validation.period_checks import DayColumns
from mhhs_workbench.validation.problems import Problem
from mhhs_workbench.validation.schema import PayloadValidator, validator_for
from mhhs_workbench.validation.schema_problems import schema_problem

__all__ = [
    "UTC_MIDNIGHT",
    "business_problems",
    "common_rules",
    "if021_rules",
    "validate_payload",
]

#: How a settlementDayDate at UTC midnight ends (after its 10 characters of date).
UTC_MIDNIGHT = "T00:00:00+00:00"
_DAY = timedelta(days=1)
_PERIOD = timedelta(minutes=PERIOD_MINUTES)
_ZE = frozenset(ZE_CODES)
_ESTIMATES = frozenset(ESTIMATE_CODES)


@dataclass(frozen=True)
class _Day:
    """One settlement day of an IF-021 payload: its path, start (``None`` when the date is not a
    date-time), ``settlementDayDate`` as found and its periods."""

    path: str
    start: datetime | None
    text: Any
    periods: list[Any]


def common_rules(
    payload: dict[str, Any],
    path: str,
    seen_references: dict[str, str] | None,
    source: str,
) -> Iterator[Problem]:
    """MPAN check digit, GSP group of the distributor and, when ``seen_references`` is given,
    unique ``senderUniqueReference`` (both interfaces)."""
    m0 = as_dict(payload, "CommonBlock", "M0")
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
        reference = as_dict(payload, "CommonBlock", "S1").get("senderUniqueReference")
        ref_path = f"{path}.CommonBlock.S1.senderUniqueReference"
        if isinstance(reference, str):
            first = seen_references.get(reference)
            if first is not None:
                yield Problem(REFERENCE, ref_path, f"{reference!r} was already used at {first}")
            else:
                seen_references[reference] = f"{source} {ref_path}" if source else ref_path


def if021_rules(
    payload: dict[str, Any], path: str, columns: Sequence[DayColumns] | None = None
) -> Iterator[Problem]:
    """IF-021 rules; ``columns`` (one per day, from
    :func:`~mhhs_workbench.validation.period_checks.day_columns`) lets the per-period
    rules look at each day's distinct values instead of every period."""
    event = as_dict(payload, "CommonBlock", "S0").get("eventCode")
    b900 = as_dict(payload, "CustomBlock", "B900")
    b900_path = f"{path}.CustomBlock.B900"
    mqid = as_dict(b900, "MQID").get("measurementQuantityID")
    if isinstance(event, str) and event in MQIDS_BY_EVENT and isinstance(mqid, str):
        allowed = MQIDS_BY_EVENT[event]
        if mqid not in allowed:
            yield Problem(
                ECS1002,
                f"{b900_path}.MQID.measurementQuantityID",
                f"MQID {mqid!r} does not fit event {event}; expected {' or '.join(allowed)}",
            )

    days: list[_Day] = []
    for i, day in enumerate(as_list(b900.get("settlementDayConsumptionPeriods"))):
        day_path = f"{b900_path}.settlementDayConsumptionPeriods[{i}]"
        settlement_day = as_dict(day, "settlementDay")
        if "periodDuration" in settlement_day:
            duration = settlement_day["periodDuration"]
            if type(duration) is not int or duration != PERIOD_MINUTES:
                yield Problem(
                    ECS1004,
                    f"{day_path}.settlementDay.periodDuration",
                    f"periodDuration is {short(duration)}, must be {PERIOD_MINUTES}",
                )
        date_text = settlement_day.get("settlementDayDate")
        start = parse_dip_datetime(date_text)
        if isinstance(date_text, str) and (start is None or date_text[10:] != UTC_MIDNIGHT):
            yield Problem(
                ECS1014,
                f"{day_path}.settlementDay.settlementDayDate",
                f"settlementDayDate {short(date_text)} is not UTC midnight ({UTC_MIDNIGHT})",
            )
        periods = as_list(as_dict(day).get("consumptionPeriods"))
        days.append(_Day(day_path, start, date_text, periods))

    effective = parse_dip_datetime(as_dict(payload, "CustomBlock", "B067").get("connectionTypeEffectiveFromDate"))
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
    if day.start is None or day.text[10:] != UTC_MIDNIGHT:
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
            end = parse_dip_datetime(period.get("sp")) if isinstance(period, dict) else None
            if end is not None and end < effective:
                yield Problem(
                    ECS1013,
                    f"{day.path}.consumptionPeriods[{k}].sp",
                    f"sp {period['sp']} is before the connection type's effective-from date "
                    f"{effective.isoformat()}",
                )
                return


@lru_cache(maxsize=1024)
def _period_ends(date_text: str) -> frozenset[str]:
    """The 48 ``sp`` strings of the UTC day starting at ``date_text`` (written +00:00)."""
    start = datetime.fromisoformat(date_text)
    return frozenset((start + k * _PERIOD).isoformat() for k in range(1, PERIODS_PER_UTC_DAY + 1))


def _regular_day(day: _Day) -> bool:
    if day.start is None or day.text[10:] != UTC_MIDNIGHT:
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
            end = parse_dip_datetime(sp)
            if end is None:
                if isinstance(sp, str):
                    yield Problem(
                        ECS1005, f"{path}.sp", f"sp {short(sp)} is not a valid date-time"
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
        value = decimal_value(v)
        if negative and value is not None and value < 0:
            yield Problem(ECS1010, f"{path}.v", f"value {v} is negative")
        if ze and value is not None and value != 0:
            yield Problem(ECS1011, f"{path}.v", f"value {v} must be 0.000 with quality {quality}")
        if estimate and period.get("e") is None:
            yield Problem(
                ECS1015, f"{path}.e", f"estimated value (q {quality}) has no estimation reason e"
            )


def _if041_rules(payload: dict[str, Any], path: str) -> Iterator[Problem]:
    """IF-041 rules: read instants that are date-times, readings that are not negative."""
    custom = as_dict(payload, "CustomBlock")
    lists = (
        ("B064List", "cumulativeRegisterReadingDateTime", "cumulativeRegisterReading"),
        ("B065List", "configurableRegisterReadingDate", "configurableRegisterReading"),
    )
    for list_key, time_key, reading_key in lists:
        for i, item in enumerate(as_list(custom.get(list_key))):
            if not isinstance(item, dict):
                continue
            item_path = f"{path}.CustomBlock.{list_key}[{i}]"
            when = item.get(time_key)
            if isinstance(when, str) and parse_dip_datetime(when) is None:
                yield Problem(
                    READ_TIME,
                    f"{item_path}.{time_key}",
                    f"{short(when)} is not a valid 25-character date-time with offset",
                )
            reading = decimal_value(item.get(reading_key))
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
    problems = list(common_rules(payload, path, seen_references, source))
    if interface_id == "IF-021":
        problems.extend(if021_rules(payload, path))
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
        Also apply the business rules (:data:`~mhhs_workbench.codes.rules.RULES` codes ``ECS...``
        and ``WB-...``).
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
        return [Problem(ENVELOPE, path, f"payload must be an object, found {short(payload)}")]
    if interface_id is None:
        interface_id = as_dict(payload, "CommonBlock", "S0").get("interfaceID")
    if interface_id not in INTERFACE_IDS:
        return [
            Problem(
                INTERFACE,
                f"{path}.CommonBlock.S0.interfaceID",
                f"interfaceID {short(interface_id)} is not one of {', '.join(INTERFACE_IDS)}",
            )
        ]
    if validator is None:
        validators: Sequence[PayloadValidator] = (validator_for(interface_id),)
    elif isinstance(validator, PayloadValidator):
        validators = (validator,)
    else:
        validators = validator
    problems = [
        schema_problem(error, v, path) for v in validators for error in v.errors(payload)
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
