"""What the rules across messages keep of one payload: its settlement days or register reads.

The runner (:mod:`mhhs_workbench.validation.files`) hands each message to :func:`feed_cross`,
which reads from the payload the records of :mod:`mhhs_workbench.validation.cross_message`: per
IF-021 settlement day its 48 half-hour values [Wh] (int32) and which of them were sent, taken
from the day's columns when the fast path read them; per IF-041 register read its instant [UTC]
and value [Wh]. Values of the wrong shape are left out (the schema and rules report them).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from typing import Any

import numpy as np

from mhhs_workbench.time.instants import parse_dip_datetime
from mhhs_workbench.time.periods import PERIODS_PER_UTC_DAY
from mhhs_workbench.validation.cross_message import CrossChecks, DayRecord, ReadRecord
from mhhs_workbench.validation.json_values import as_dict, as_list, decimal_value
from mhhs_workbench.validation.payload_rules import UTC_MIDNIGHT
from mhhs_workbench.validation.period_checks import DayColumns, period_index

__all__ = ["feed_cross"]


def feed_cross(cross: CrossChecks, file_no: int, index: int, payload: dict[str, Any], path: str,
                interface_id: str, columns: list[DayColumns] | None) -> None:
    """Give ``cross`` what the rules across messages keep of message ``index`` of file ``file_no``:
    its settlement days (IF-021; with their values when ``columns`` has them) or its register
    reads (IF-041)."""
    mpan = as_dict(payload, "CommonBlock", "M0").get("MPANCore")
    if not isinstance(mpan, str):
        return
    s1 = as_dict(payload, "CommonBlock", "S1")
    if interface_id == "IF-021":
        b900 = as_dict(payload, "CustomBlock", "B900")
        mqid = as_dict(b900, "MQID").get("measurementQuantityID")
        if not isinstance(mqid, str):
            return
        days = as_list(b900.get("settlementDayConsumptionPeriods"))
        records = []
        for i, day in enumerate(days):
            text = as_dict(day, "settlementDay").get("settlementDayDate")
            if not isinstance(text, str):
                continue
            values, present = None, None
            if columns is not None and len(columns) == len(days) and text[10:] == UTC_MIDNIGHT:
                values, present = _day_values(text, columns[i])
            records.append(DayRecord(
                mpan, mqid, text, values, present,
                f"{path}.CustomBlock.B900.settlementDayConsumptionPeriods[{i}]"))
        cross.add_days(file_no, index, s1.get("senderTimestamp"),
                       s1.get("senderUniqueReference"), records)
    else:
        cross.add_reads(file_no, index, list(_reads(payload, mpan, path)))


_ALL_PERIODS = np.ones(PERIODS_PER_UTC_DAY, dtype=bool)
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
    values = np.zeros(PERIODS_PER_UTC_DAY, dtype=np.int32)
    present = np.zeros(PERIODS_PER_UTC_DAY, dtype=bool)
    where = np.fromiter(map(slots.__getitem__, sps), dtype=np.int64, count=len(sps))
    values[where] = wh
    present[where] = True
    return values, present


def _reads(payload: dict[str, Any], mpan: str, path: str) -> Iterator[ReadRecord]:
    """The register reads of an IF-041 payload that are whole Wh at a valid instant [UTC]."""
    custom = as_dict(payload, "CustomBlock")
    lists = (
        ("B064List", "cumulativeRegisterReadingDateTime", "cumulativeRegisterReading", None),
        ("B065List", "configurableRegisterReadingDate", "configurableRegisterReading",
         "configurableRegisterID"),
    )
    for list_key, time_key, reading_key, register_key in lists:
        for i, read in enumerate(as_list(custom.get(list_key))):
            if not isinstance(read, dict):
                continue
            when = parse_dip_datetime(read.get(time_key))
            reading = decimal_value(read.get(reading_key))
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
