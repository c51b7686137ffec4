"""Read IF-021 / IF-041 message files back into tables, for checks, plots and evidence."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pandas as pd


def _message_files(paths: Iterable[str | os.PathLike[str]], interface_id: str) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        files.extend(sorted(p.rglob(f"{interface_id}_*.json")) if p.is_dir() else [p])
    return files


def _messages(
    paths: Iterable[str | os.PathLike[str]], interface_id: str
) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """``(mpan, event code, sender reference, custom block)`` of every message in the files."""
    for path in _message_files(paths, interface_id):
        for item in orjson.loads(path.read_bytes()):
            common = item["payload"]["CommonBlock"]
            yield (common["M0"]["MPANCore"], common["S0"]["eventCode"],
                   common["S1"]["senderUniqueReference"], item["payload"]["CustomBlock"])


def _wh(text: str) -> int:
    """A ``'123.456'`` kWh string as whole Wh, exactly."""
    return int(Decimal(text) * 1000)


def if021_frame(paths: Iterable[str | os.PathLike[str]]) -> pd.DataFrame:
    """One row per IF-021 period value found in message files (or folders of them).

    Columns: ``mpan``, ``mqid``, ``event_code``, ``reference``, ``settlement_day``, ``sp``
    (UTC period end, tz-aware), ``value_wh`` [Wh], ``quality``, ``reason``.
    """
    rows = []
    for mpan, event, ref, custom in _messages(paths, "IF-021"):
        mqid = custom["B900"]["MQID"]["measurementQuantityID"]
        for day in custom["B900"]["settlementDayConsumptionPeriods"]:
            date = day["settlementDay"]["settlementDayDate"]
            for c in day["consumptionPeriods"]:
                rows.append((mpan, mqid, event, ref, date, c["sp"], _wh(c["v"]), c["q"], c["e"]))
    frame = pd.DataFrame(
        rows,
        columns=["mpan", "mqid", "event_code", "reference", "settlement_day", "sp", "value_wh", "quality", "reason"],
    )
    frame["sp"] = pd.to_datetime(frame["sp"], utc=True)
    return frame


def if041_frame(paths: Iterable[str | os.PathLike[str]]) -> pd.DataFrame:
    """One row per register reading found in IF-041 message files (or folders of them).

    Columns: ``mpan``, ``event_code``, ``reference``, ``meter_id``, ``register_id`` (``'C'`` for the
    cumulative B064 register, else the configurable register ID), ``read_datetime`` (tz-aware),
    ``reading_wh`` [Wh], ``reading_method``, ``site_visit_check_code``.
    """
    rows = []
    for mpan, event, ref, custom in _messages(paths, "IF-041"):
        for r in custom.get("B064List", []):
            rows.append((mpan, event, ref, r["meterID"], "C", r["cumulativeRegisterReadingDateTime"],
                         _wh(r["cumulativeRegisterReading"]), r["readingMethod"], r["siteVisitCheckCode"]))
        for r in custom.get("B065List", []):
            rows.append((mpan, event, ref, r["meterID"], r["configurableRegisterID"],
                         r["configurableRegisterReadingDate"], _wh(r["configurableRegisterReading"]), None, None))
    frame = pd.DataFrame(
        rows,
        columns=["mpan", "event_code", "reference", "meter_id", "register_id", "read_datetime", "reading_wh",
                 "reading_method", "site_visit_check_code"],
    )
    frame["read_datetime"] = pd.to_datetime(frame["read_datetime"], utc=True)
    return frame
