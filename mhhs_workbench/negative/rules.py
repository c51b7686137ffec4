"""Business-rule breakages of one real payload: each breaks one rule and leaves the rest valid.

One function per way of breaking a rule; each takes a valid payload and returns the broken copy
with the place it changed, or ``None`` when the payload has nothing to break that way (an IF-041
payload without cumulative reads, say). The change is the smallest that breaks the rule without
breaking another: a period moved off the half-hour grid also drops the period it would overlap
(ECS1007), a settlement day is made non-UTC-midnight by writing its offset as ``-00:00`` so its
periods still belong to it (WB-SP-DAY).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mhhs_workbench.codes.identifiers import GSP_GROUP_BY_DISTRIBUTOR, GSP_GROUPS
from mhhs_workbench.codes.messages import ESTIMATE_CODES, MQIDS_BY_EVENT, PERIOD_MINUTES, ZE_CODES
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
    GSP,
    INTERFACE,
    MPAN,
    READ_NEGATIVE,
    READ_TIME,
    SP_DAY,
)
from mhhs_workbench.negative.schema_breaks import JsonPath

__all__ = ["ALSO_REPORTED", "ELEXON_REJECTS", "RULE_BREAKERS", "RuleBreak"]


@dataclass(frozen=True)
class RuleBreak:
    """A payload broken for one rule.

    Attributes
    ----------
    path : tuple
        Keys and indices of the place the rule reports, inside the payload.
    description : str
        What was changed, with the values.
    payload : dict
        The broken payload (a changed copy).
    """

    path: JsonPath
    description: str
    payload: dict[str, Any]


Breaker = Callable[[dict[str, Any]], RuleBreak | None]

_PERIOD = timedelta(minutes=PERIOD_MINUTES)
_DAYS = ("CustomBlock", "B900", "settlementDayConsumptionPeriods")


def _days(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return payload["CustomBlock"]["B900"]["settlementDayConsumptionPeriods"]


def _plain(periods: list[dict[str, Any]], skip_ends: bool = False) -> int | None:
    """First actual (``q`` A), non-zero period; with ``skip_ends`` not the first or last."""
    span = range(1, len(periods) - 1) if skip_ends else range(len(periods))
    for k in span:
        if periods[k]["q"] == "A" and periods[k]["v"] != "0.000":
            return k
    return None


def _period_path(d: int, k: int, key: str) -> JsonPath:
    return (*_DAYS, d, "consumptionPeriods", k, key)


def _interface(payload: dict[str, Any]) -> RuleBreak:
    broken = copy.deepcopy(payload)
    s0 = broken["CommonBlock"]["S0"]
    old = s0["interfaceID"]
    s0["interfaceID"] = old.replace("-", "")
    return RuleBreak(("CommonBlock", "S0", "interfaceID"),
                     f"interfaceID {old!r} written {s0['interfaceID']!r}", broken)


def _mqid(payload: dict[str, Any]) -> RuleBreak:
    broken = copy.deepcopy(payload)
    event = broken["CommonBlock"]["S0"]["eventCode"]
    mqid = broken["CustomBlock"]["B900"]["MQID"]
    other = next(e for e in MQIDS_BY_EVENT if e != event)
    old, mqid["measurementQuantityID"] = mqid["measurementQuantityID"], MQIDS_BY_EVENT[other][0]
    return RuleBreak(("CustomBlock", "B900", "MQID", "measurementQuantityID"),
                     f"MQID {old} changed to {mqid['measurementQuantityID']}, which does not fit "
                     f"event {event}", broken)


def _duration(payload: dict[str, Any]) -> RuleBreak:
    broken = copy.deepcopy(payload)
    _days(broken)[0]["settlementDay"]["periodDuration"] = 2 * PERIOD_MINUTES
    return RuleBreak((*_DAYS, 0, "settlementDay", "periodDuration"),
                     f"periodDuration {PERIOD_MINUTES} changed to {2 * PERIOD_MINUTES}", broken)


def _off_grid(payload: dict[str, Any]) -> RuleBreak | None:
    broken = copy.deepcopy(payload)
    periods = _days(broken)[0]["consumptionPeriods"]
    k = _plain(periods[:-1], skip_ends=True)
    if k is None:
        return None
    old = periods[k]["sp"]
    periods[k]["sp"] = (datetime.fromisoformat(old) + _PERIOD / 2).isoformat()
    del periods[k + 1]  # the period it would now overlap (ECS1007)
    return RuleBreak(_period_path(0, k, "sp"),
                     f"sp {old} moved to {periods[k]['sp']}, off the :00/:30 grid (the next "
                     "period, which it would overlap, dropped)", broken)


def _duplicate_sp(payload: dict[str, Any]) -> RuleBreak | None:
    broken = copy.deepcopy(payload)
    periods = _days(broken)[0]["consumptionPeriods"]
    k = _plain(periods, skip_ends=True)
    if k is None:
        return None
    old, periods[k]["sp"] = periods[k]["sp"], periods[k - 1]["sp"]
    return RuleBreak(_period_path(0, k, "sp"),
                     f"sp {old} changed to {periods[k]['sp']}, the sp of the period before",
                     broken)


def _split_day(payload: dict[str, Any]) -> RuleBreak | None:
    broken = copy.deepcopy(payload)
    days = _days(broken)
    first = days[0]
    periods = first["consumptionPeriods"]
    if len(periods) < 2 or len(days) >= 200:
        return None
    half = len(periods) // 2
    second = {"settlementDay": dict(first["settlementDay"]), "consumptionPeriods": periods[half:]}
    first["consumptionPeriods"] = periods[:half]
    days.insert(1, second)
    return RuleBreak((*_DAYS, 1, "settlementDay", "settlementDayDate"),
                     f"settlement day {first['settlementDay']['settlementDayDate']} sent as two "
                     "entries of the same day (periods 1-"
                     f"{half} and {half + 1}-{len(periods)}), so the two days overlap", broken)


def _negative_value(payload: dict[str, Any]) -> RuleBreak | None:
    broken = copy.deepcopy(payload)
    periods = _days(broken)[0]["consumptionPeriods"]
    k = _plain(periods)
    if k is None:
        return None
    periods[k]["v"] = "-" + periods[k]["v"]
    return RuleBreak(_period_path(0, k, "v"), f"value {periods[k]['v'][1:]} made negative", broken)


def _ze_not_zero(payload: dict[str, Any]) -> RuleBreak | None:
    broken = copy.deepcopy(payload)
    periods = _days(broken)[0]["consumptionPeriods"]
    k = _plain(periods)
    if k is None:
        return None
    periods[k]["q"] = ZE_CODES[0]
    return RuleBreak(_period_path(0, k, "v"),
                     f"quality A changed to {ZE_CODES[0]} while the value stays {periods[k]['v']}",
                     broken)


def _before_connection(payload: dict[str, Any]) -> RuleBreak:
    broken = copy.deepcopy(payload)
    b067 = broken["CustomBlock"]["B067"]
    day = _days(broken)[0]
    start = datetime.fromisoformat(day["settlementDay"]["settlementDayDate"])
    old = b067["connectionTypeEffectiveFromDate"]
    b067["connectionTypeEffectiveFromDate"] = (start + timedelta(hours=12)).isoformat()
    return RuleBreak((*_DAYS, 0, "consumptionPeriods", 0, "sp"),
                     f"connectionTypeEffectiveFromDate {old} changed to "
                     f"{b067['connectionTypeEffectiveFromDate']}, after the first periods sent",
                     broken)


def _day_not_utc(payload: dict[str, Any]) -> RuleBreak:
    broken = copy.deepcopy(payload)
    day = _days(broken)[0]["settlementDay"]
    old = day["settlementDayDate"]
    day["settlementDayDate"] = old[:-6] + "-00:00"
    return RuleBreak((*_DAYS, 0, "settlementDay", "settlementDayDate"),
                     f"settlementDayDate {old} written with offset -00:00 (the same instant, "
                     "not written as UTC midnight)", broken)


def _estimate_no_reason(payload: dict[str, Any]) -> RuleBreak | None:
    broken = copy.deepcopy(payload)
    for d, day in enumerate(_days(broken)):
        for k, period in enumerate(day["consumptionPeriods"]):
            if period["q"] in ESTIMATE_CODES and period["e"] is not None:
                old, period["e"] = period["e"], None
                return RuleBreak(_period_path(d, k, "e"),
                                 f"estimation reason {old!r} of an estimate (q {period['q']}) "
                                 "removed (null)", broken)
    periods = _days(broken)[0]["consumptionPeriods"]
    k = _plain(periods)
    if k is None:
        return None
    periods[k]["q"] = "E1"
    return RuleBreak(_period_path(0, k, "e"),
                     "quality A changed to estimate E1 without an estimation reason", broken)


def _sp_outside_day(payload: dict[str, Any]) -> RuleBreak:
    broken = copy.deepcopy(payload)
    days = _days(broken)
    d = len(days) - 1
    periods = days[d]["consumptionPeriods"]
    k = len(periods) - 1
    old = periods[k]["sp"]
    periods[k]["sp"] = (datetime.fromisoformat(old) + _PERIOD).isoformat()
    return RuleBreak(_period_path(d, k, "sp"),
                     f"sp {old} of the last period moved to {periods[k]['sp']}, into the next "
                     "day", broken)


def _mpan(payload: dict[str, Any]) -> RuleBreak:
    broken = copy.deepcopy(payload)
    m0 = broken["CommonBlock"]["M0"]
    old = m0["MPANCore"]
    m0["MPANCore"] = old[:-1] + str((int(old[-1]) + 1) % 10)
    return RuleBreak(("CommonBlock", "M0", "MPANCore"),
                     f"MPAN core {old} changed to {m0['MPANCore']} (wrong check digit)", broken)


def _gsp(payload: dict[str, Any]) -> RuleBreak | None:
    broken = copy.deepcopy(payload)
    m0 = broken["CommonBlock"]["M0"]
    if GSP_GROUP_BY_DISTRIBUTOR.get(m0["MPANCore"][:2]) is None:
        return None  # an IDNO: any group may be right
    old = m0["GSPGroupID"]
    m0["GSPGroupID"] = GSP_GROUPS[(GSP_GROUPS.index(old) + 1) % len(GSP_GROUPS)]
    return RuleBreak(("CommonBlock", "M0", "GSPGroupID"),
                     f"GSPGroupID {old} changed to {m0['GSPGroupID']}, not the group of the MPAN's "
                     "distributor", broken)


def _reads(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return payload.get("CustomBlock", {}).get("B064List", [])


def _read_datetime(payload: dict[str, Any]) -> RuleBreak | None:
    broken = copy.deepcopy(payload)
    reads = _reads(broken)
    if not reads:
        return None
    key = "cumulativeRegisterReadingDateTime"
    old = reads[0][key]
    reads[0][key] = f"{old[:4]}-02-30{old[10:]}"
    return RuleBreak(("CustomBlock", "B064List", 0, key),
                     f"read date-time {old} changed to {reads[0][key]}, a day that does not exist",
                     broken)


def _read_negative(payload: dict[str, Any]) -> RuleBreak | None:
    broken = copy.deepcopy(payload)
    reads = _reads(broken)
    key = "cumulativeRegisterReading"
    if not reads or reads[0][key].strip("0.") == "":
        return None
    reads[0][key] = "-" + reads[0][key]
    return RuleBreak(("CustomBlock", "B064List", 0, key),
                     f"register reading {reads[0][key][1:]} made negative", broken)


#: Single-message ways of breaking each rule, each with the interface it applies to.
RULE_BREAKERS: dict[str, list[tuple[str, Breaker]]] = {
    INTERFACE: [("IF-021", _interface), ("IF-041", _interface)],
    ECS1002: [("IF-021", _mqid)],
    ECS1004: [("IF-021", _duration)],
    ECS1005: [("IF-021", _off_grid)],
    ECS1006: [("IF-021", _duplicate_sp)],
    ECS1007: [("IF-021", _split_day)],
    ECS1010: [("IF-021", _negative_value)],
    ECS1011: [("IF-021", _ze_not_zero)],
    ECS1013: [("IF-021", _before_connection)],
    ECS1014: [("IF-021", _day_not_utc)],
    ECS1015: [("IF-021", _estimate_no_reason)],
    SP_DAY: [("IF-021", _sp_outside_day)],
    MPAN: [("IF-021", _mpan), ("IF-041", _mpan)],
    GSP: [("IF-021", _gsp), ("IF-041", _gsp)],
    READ_TIME: [("IF-041", _read_datetime)],
    READ_NEGATIVE: [("IF-041", _read_negative)],
}

#: Rules whose breakage Elexon's schema refuses too: it allows only 30 as a period duration.
ELEXON_REJECTS = frozenset({"ECS1004"})

#: Codes the validator reports beside a rule however it is broken. Two settlement days of one
#: message can overlap only by being the same UTC day (any other start is not UTC midnight,
#: ECS1014), and a day sent twice under one senderUniqueReference is also a resend that is not
#: a later revision (WB-DAY-RESENT).
ALSO_REPORTED: dict[str, tuple[str, ...]] = {"ECS1007": ("WB-DAY-RESENT",)}
