"""Breakages that need more than one message, or a whole file: each case is a small file set.

Cross-message rules judge a message against others (a reference used twice, a day sent again,
register reads against the consumption between them, reads going backwards), so each case holds
the valid partner messages beside the broken one. File rules judge the bytes of a file (not
JSON, a byte-order mark, a key written twice) or its envelope, so each case is one file.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

from mhhs_workbench.codes.rules import (
    DAY_RESENT,
    DUP_KEY,
    ENVELOPE,
    FILE,
    FILE_BOM,
    MPAN_DIRECTION,
    READ_BACK,
    READ_RECONCILE,
    REFERENCE,
)
from mhhs_workbench.messages.common import join_items, request_item

__all__ = ["CROSS_BREAKERS", "FILE_BREAKERS", "FileSet", "Sources", "body"]

Payload = dict[str, Any]

#: Added to or taken from a register read [kWh]: far above rounding (1 Wh), far below a wrap.
READ_STEP = Decimal("1.000")


@dataclass(frozen=True)
class Sources:
    """Valid payloads of a data set to break, in file order.

    Attributes
    ----------
    if021, if041 : list of dict
        The first payloads of each interface.
    """

    if021: list[Payload]
    if041: list[Payload]


@dataclass(frozen=True)
class FileSet:
    """Files of one case and where in them the broken message is.

    Attributes
    ----------
    files : tuple of (str, list or bytes)
        File names (sorted as the validator finds them, partners first) and their messages,
        or their exact bytes.
    broken : str
        Name of the file holding what is broken.
    index : int or None
        Index of the broken message in that file; ``None`` when the file as a whole is.
    path : str
        JSON path of the place the rule reports, within that file.
    description : str
        What was changed.
    interface : str
        Interface of the broken message (empty for a file that is not JSON).
    """

    files: tuple[tuple[str, list[Payload] | bytes], ...]
    broken: str
    index: int | None
    path: str
    description: str
    interface: str


def body(payloads: Sequence[Payload]) -> bytes:
    """The request-body bytes of ``payloads``, exactly as the data set's files are written."""
    return join_items([request_item(p) for p in payloads])


def _interface(payload: Payload) -> str:
    return payload["CommonBlock"]["S0"]["interfaceID"]


def _reference(payload: Payload) -> str:
    return payload["CommonBlock"]["S1"]["senderUniqueReference"]


def _mpan(payload: Payload) -> str:
    return payload["CommonBlock"]["M0"]["MPANCore"]


# ---------------------------------------------------------------------- cross-message


def _duplicate_reference(src: Sources, j: int) -> FileSet | None:
    pool = src.if021 if len(src.if021) >= 2 else src.if041
    if len(pool) < 2:
        return None
    partner, broken = pool[j % (len(pool) - 1)], copy.deepcopy(pool[j % (len(pool) - 1) + 1])
    broken["CommonBlock"]["S1"]["senderUniqueReference"] = _reference(partner)
    return FileSet(
        (("1-partner.json", [partner]), ("2-broken.json", [broken])), "2-broken.json", 0,
        "$[0].payload.CommonBlock.S1.senderUniqueReference",
        "another message reuses the senderUniqueReference of the partner message",
        _interface(broken))


def _day_resent(src: Sources, j: int) -> FileSet | None:
    if not src.if021:
        return None
    partner = src.if021[j % len(src.if021)]
    broken = copy.deepcopy(partner)
    # its own reference: a re-sent day is a new message (else WB-SUR-DUP as well)
    broken["CommonBlock"]["S1"]["senderUniqueReference"] = f"{_reference(partner)}R"
    days = broken["CustomBlock"]["B900"]["settlementDayConsumptionPeriods"]
    del days[1:]
    day = days[0]["settlementDay"]["settlementDayDate"]
    return FileSet(
        (("1-partner.json", [partner]), ("2-broken.json", [broken])), "2-broken.json", 0,
        "$[0].payload.CustomBlock.B900.settlementDayConsumptionPeriods[0].settlementDay"
        ".settlementDayDate",
        f"settlement day {day} of MPAN {_mpan(partner)} re-sent with the same senderTimestamp "
        f"{partner['CommonBlock']['S1']['senderTimestamp']}, not as a later revision",
        "IF-021")


def _read_pair(src: Sources, j: int) -> tuple[Payload, Payload, Payload] | None:
    """An IF-021 import message and the reads of its meter at the start and end of its first
    day (the register must have moved by that day's consumption)."""
    found = []
    latest = _latest_sent(src.if021)
    for message in src.if021:
        b900 = message["CustomBlock"]["B900"]
        if b900["MQID"]["measurementQuantityID"] != "AI":
            continue
        day = b900["settlementDayConsumptionPeriods"][0]
        start = day["settlementDay"]["settlementDayDate"]
        if latest[(_mpan(message), "AI", start)] is not message:
            continue  # a day revised later: the reads reconcile with the revision
        end = day["consumptionPeriods"][-1]["sp"]
        reads = {}
        for read in src.if041:
            b064 = read["CustomBlock"].get("B064List") or []
            if _mpan(read) == _mpan(message) and len(b064) == 1:
                when = b064[0]["cumulativeRegisterReadingDateTime"]
                if when in (start, end):
                    reads.setdefault(when, read)
        if len(reads) == 2:
            first, second = reads[start], reads[end]
            before = Decimal(first["CustomBlock"]["B064List"][0]["cumulativeRegisterReading"])
            after = Decimal(second["CustomBlock"]["B064List"][0]["cumulativeRegisterReading"])
            if READ_STEP < before <= after:  # no wrap between them, room to step back
                found.append((message, first, second))
        if len(found) > j:
            break
    return found[j % len(found)] if found else None


def _latest_sent(messages: list[Payload]) -> dict[tuple[str, str, str], Payload]:
    """The message carrying the latest revision of each MPAN, MQID and settlement day."""
    latest: dict[tuple[str, str, str], Payload] = {}
    stamps: dict[tuple[str, str, str], str] = {}
    for message in messages:
        stamp = message["CommonBlock"]["S1"]["senderTimestamp"]
        b900 = message["CustomBlock"]["B900"]
        for day in b900["settlementDayConsumptionPeriods"]:
            key = (_mpan(message), b900["MQID"]["measurementQuantityID"],
                   day["settlementDay"]["settlementDayDate"])
            # 25-character UTC-offset stamps of one data set: compare as instants
            if key not in stamps or _instant(stamp) >= _instant(stamps[key]):
                latest[key], stamps[key] = message, stamp
    return latest


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _shift_read(read: Payload, step: Decimal) -> Payload:
    """``read`` with its cumulative register and its first time-of-use register moved by
    ``step`` [kWh], so the registers still add up to the cumulative one."""
    shifted = copy.deepcopy(read)
    custom = shifted["CustomBlock"]
    b064 = custom["B064List"][0]
    b064["cumulativeRegisterReading"] = f"{Decimal(b064['cumulativeRegisterReading']) + step:.3f}"
    for item in custom.get("B065List", [])[:1]:
        item["configurableRegisterReading"] = (
            f"{Decimal(item['configurableRegisterReading']) + step:.3f}"
        )
    return shifted


def _not_reconciling(src: Sources, j: int) -> FileSet | None:
    found = _read_pair(src, j)
    if found is None:
        return None
    consumption, first, second = found
    broken = _shift_read(second, READ_STEP)
    when = second["CustomBlock"]["B064List"][0]["cumulativeRegisterReadingDateTime"]
    return FileSet(
        (("1-partner-consumption.json", [consumption]), ("2-partner-read.json", [first]),
         ("3-broken.json", [broken])), "3-broken.json", 0,
        "$[0].payload.CustomBlock.B064List[0].cumulativeRegisterReading",
        f"register read of MPAN {_mpan(second)} at {when} raised by {READ_STEP} kWh, so it no "
        "longer equals the previous read plus the IF-021 consumption between them",
        "IF-041")


def _backwards(src: Sources, j: int) -> FileSet | None:
    found = _read_pair(src, j)
    if found is None:
        return None
    _, first, second = found
    before = Decimal(first["CustomBlock"]["B064List"][0]["cumulativeRegisterReading"])
    after = Decimal(second["CustomBlock"]["B064List"][0]["cumulativeRegisterReading"])
    broken = _shift_read(second, before - READ_STEP - after)
    when = second["CustomBlock"]["B064List"][0]["cumulativeRegisterReadingDateTime"]
    return FileSet(
        (("1-partner.json", [first]), ("2-broken.json", [broken])), "2-broken.json", 0,
        "$[0].payload.CustomBlock.B064List[0].cumulativeRegisterReading",
        f"register read of MPAN {_mpan(second)} at {when} set {READ_STEP} kWh below the "
        f"previous read {before} (not a wrap at the register's capacity)",
        "IF-041")


def _both_directions(src: Sources, j: int) -> FileSet | None:
    imports = [m for m in src.if021 if m["CustomBlock"]["B900"]["MQID"]["measurementQuantityID"] == "AI"]
    if not imports:
        return None
    partner = imports[j % len(imports)]
    broken = copy.deepcopy(partner)
    broken["CommonBlock"]["S1"]["senderUniqueReference"] = f"{_reference(partner)}X"
    broken["CustomBlock"]["B900"]["MQID"]["measurementQuantityID"] = "AE"
    return FileSet(
        (("1-partner.json", [partner]), ("2-broken.json", [broken])), "2-broken.json", 0,
        "$[0].payload.CustomBlock.B900.MQID.measurementQuantityID",
        f"the import MPAN {_mpan(partner)}'s consumption sent again as export (AE) under the "
        "same MPAN", "IF-021")


CrossBreaker = Callable[[Sources, int], FileSet | None]

#: Cross-message ways of breaking each rule.
CROSS_BREAKERS: dict[str, list[CrossBreaker]] = {
    REFERENCE: [_duplicate_reference],
    DAY_RESENT: [_day_resent],
    READ_RECONCILE: [_not_reconciling],
    READ_BACK: [_backwards],
    MPAN_DIRECTION: [_both_directions],
}


# ---------------------------------------------------------------------- whole files


def _any(src: Sources, j: int) -> Payload | None:
    pool = src.if021 + src.if041
    return pool[j % len(pool)] if pool else None


def _single(name: str, data: bytes, index: int | None, path: str, description: str,
            payload: Payload | None) -> FileSet:
    return FileSet(((name, data),), name, index, path, description,
                   _interface(payload) if payload is not None else "")


FileBreaker = Callable[[Sources, int], FileSet | None]


def _truncated(src: Sources, j: int) -> FileSet | None:
    payload = _any(src, j)
    if payload is None:
        return None
    data = body([payload])
    return _single("broken.json", data[: len(data) // 2], None, "$",
                   f"request body cut off after {len(data) // 2} of its {len(data)} bytes "
                   "(not JSON)", None)


def _item_extra_key(src: Sources, j: int) -> FileSet | None:
    payload = _any(src, j)
    if payload is None:
        return None
    data = b'[{"payload":' + orjson.dumps(payload) + b',"meta":{"source":"export"}}]'
    return _single("broken.json", data, 0, "$[0]",
                   'request-body item holds a key "meta" beside "payload"', payload)


def _not_an_array(src: Sources, j: int) -> FileSet | None:
    payload = _any(src, j)
    if payload is None:
        return None
    return _single("broken.json", request_item(payload), None, "$",
                   'one {"payload": ...} item sent without the enclosing JSON array', payload)


def _empty_array(src: Sources, j: int) -> FileSet | None:
    return _single("broken.json", b"[]", None, "$", "request body with no message", None)


def _bom(src: Sources, j: int) -> FileSet | None:
    payload = _any(src, j)
    if payload is None:
        return None
    return _single("broken.json", b"\xef\xbb\xbf" + body([payload]), None, "$",
                   "request body starting with a UTF-8 byte-order mark", payload)


def _duplicate_key(src: Sources, j: int) -> FileSet | None:
    payload = _any(src, j)
    if payload is None:
        return None
    pair = b'"schemaVersion":' + orjson.dumps(payload["CommonBlock"]["S0"]["schemaVersion"])
    data = body([payload]).replace(pair, pair + b"," + pair, 1)
    return _single("broken.json", data, 0, "$[0].payload.CommonBlock.S0",
                   "key schemaVersion written twice in S0 (same value)", payload)


#: Whole-file ways of breaking each file rule.
FILE_BREAKERS: dict[str, list[FileBreaker]] = {
    FILE: [_truncated],
    FILE_BOM: [_bom],
    DUP_KEY: [_duplicate_key],
    # the first variant is found even when a folder is searched (the others are skipped there
    # as "not a message file" and reported only when the file is named)
    ENVELOPE: [_item_extra_key, _not_an_array, _empty_array],
}
