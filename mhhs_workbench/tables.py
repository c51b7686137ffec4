"""The data set's tables: schemas, a chunk's rows of each, and settlement aggregates.

=============  ===================================================================
table          one row per
=============  ===================================================================
meters         MPAN (the population)
consumption    MPAN x measurement quantity x UTC half hour, as reported in IF-021
readings       register read, as sent in IF-041
aggregates     GSP group x local settlement date x period x measurement quantity
=============  ===================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .chunk import MQIDS, Chunk, DatasetFrame
from .export import write_table
from .identifiers import GSP_GROUPS
from .messages.if021 import REASON_BY_NUMBER
from .population import METER_COLUMNS
from .settlement_time import format_utc, local_period_counts

#: Most settlement periods a local day can have (the October clock change): slots per day.
MAX_LOCAL_PERIODS = 50

CONSUMPTION_SCHEMA = pa.schema(
    [
        ("mpan", pa.string()),
        ("mqid", pa.string()),
        ("utc_period_end", pa.timestamp("s", tz="UTC")),
        ("settlement_date", pa.date32()),
        ("settlement_period", pa.int8()),
        ("value_wh", pa.int64()),
        ("quality", pa.string()),
        ("reason", pa.string()),
    ]
)
READINGS_SCHEMA = pa.schema(
    [
        ("mpan", pa.string()),
        ("meter_id", pa.string()),
        ("event_code", pa.string()),
        ("register_id", pa.string()),
        ("read_datetime", pa.timestamp("s", tz="UTC")),
        ("reading_wh", pa.int64()),
        ("reading_method", pa.string()),
        ("site_visit_check_code", pa.string()),
    ]
)
AGGREGATES_SCHEMA = pa.schema(
    [
        ("gsp_group", pa.string()),
        ("settlement_date", pa.date32()),
        ("settlement_period", pa.int8()),
        ("mqid", pa.string()),
        ("meters", pa.int64()),
        ("value_wh", pa.int64()),
    ]
)
_METER_TYPES = {
    "meter_index": pa.int64(),
    "time_of_use": pa.bool_(),
    "annual_kwh": pa.float64(),
    "pv_kwp": pa.float64(),
    "ev_kw": pa.float64(),
    "ev_smart": pa.bool_(),
    "heat_pump_kwh": pa.float64(),
    "register_digits": pa.int64(),
    "initial_register_wh": pa.int64(),
    "change_of_supplier_date": pa.date32(),
}
METERS_SCHEMA = pa.schema([(name, _METER_TYPES.get(name, pa.string())) for name in METER_COLUMNS])

#: A table's rows as columns, and the CSV text of columns written differently from Arrow's default.
TableRows = tuple[dict[str, Any], dict[str, Any]]


def consumption_rows(chunk: Chunk, frame: DatasetFrame) -> TableRows:
    """The chunk's rows of the consumption table (its value rows x half hours, in order).

    Text columns are built as Arrow arrays from their few distinct values (repeated fixed-width
    bytes, copies of the day's text, or ``take``): no Python string per row.
    """
    k, t = chunk.values.shape
    local_dates, local_periods = frame.local_periods
    period = np.tile(np.arange(t), k)
    mpans = chunk.meters["mpan"].to_numpy().astype("S13")[chunk.row_meter]
    mqids = np.asarray(MQIDS, dtype="S2")[chunk.row_mqid]
    period_text = pa.array(frame.period_end_text, type=pa.string())
    columns = {
        "mpan": _repeated(mpans, t),
        "mqid": _repeated(mqids, t),
        "utc_period_end": frame.period_ends.astype("datetime64[s]")[period],
        "settlement_date": local_dates[period],
        "settlement_period": local_periods.astype(np.int8)[period],
        "value_wh": chunk.values.ravel(),
        "quality": pc.take(pa.array(frame.quality_codes, type=pa.string()), chunk.quality.ravel()),
        "reason": pc.take(pa.array(REASON_BY_NUMBER, type=pa.string()), chunk.reasons.ravel()),
    }
    return columns, {"utc_period_end": pa.concat_arrays([period_text] * k) if k else period_text[:0]}


def _repeated(values: np.ndarray, times: int) -> pa.Array:
    """Arrow strings: each fixed-width byte string of ``values`` repeated ``times`` times."""
    width = values.dtype.itemsize
    data = np.repeat(values, times).view(np.uint8)
    offsets = np.arange(0, data.size + 1, width, dtype=np.int32)
    return pa.StringArray.from_buffers(offsets.size - 1, pa.py_buffer(offsets), pa.py_buffer(data))


def readings_rows(chunk: Chunk) -> TableRows:
    """The chunk's rows of the readings table, in IF-041 message order."""
    reads = chunk.reads
    columns: dict[str, Any] = {name: list(reads[name]) for name in READINGS_SCHEMA.names}
    columns["read_datetime"] = np.array(reads["read_datetime"], dtype="datetime64[s]")
    return columns, {"read_datetime": format_utc(columns["read_datetime"]).tolist()}


def meters_rows(chunk: Chunk) -> TableRows:
    """The chunk's rows of the meter register."""
    m = chunk.meters
    columns: dict[str, Any] = {name: m[name].to_numpy() for name in METER_COLUMNS}
    cos = columns["change_of_supplier_date"].astype("datetime64[D]")
    columns["change_of_supplier_date"] = pa.array(cos, type=pa.date32(), mask=np.isnat(cos))
    return columns, {}


def to_table(rows: TableRows, schema: pa.Schema) -> tuple[pa.Table, dict[str, list[str]]]:
    """Arrow table of a chunk's rows (what a worker sends back), with its CSV text overrides."""
    columns, csv_text = rows
    return pa.table(columns, schema=schema), csv_text


@dataclass
class Aggregates:
    """Integer sums of reported energy by GSP group x local settlement slot x measurement quantity.

    Chunks add their partial sums (:meth:`of_chunk`) in any order; integers make the total exact.
    """

    local_days: np.ndarray
    energy: np.ndarray  # (gsp, local day * 50 slots, mqid) [Wh]
    meters: np.ndarray  # (gsp, mqid) count of reporting meters
    slots: np.ndarray = field(repr=False)  # slot of each UTC half hour

    @classmethod
    def empty(cls, frame: DatasetFrame) -> Aggregates:
        """No meters yet."""
        local_dates, local_periods = frame.local_periods
        days, day_of = np.unique(local_dates, return_inverse=True)
        slots = day_of * MAX_LOCAL_PERIODS + (local_periods - 1)
        energy = np.zeros((len(GSP_GROUPS), days.size * MAX_LOCAL_PERIODS, len(MQIDS)), dtype=np.int64)
        return cls(days, energy, np.zeros((len(GSP_GROUPS), len(MQIDS)), dtype=np.int64), slots)

    @classmethod
    def of_chunk(cls, chunk: Chunk, frame: DatasetFrame) -> Aggregates:
        """One chunk's partial sums."""
        out = cls.empty(frame)
        gsp = np.searchsorted(np.asarray(GSP_GROUPS), chunk.meters["gsp_group"].to_numpy().astype(str))
        group = gsp[chunk.row_meter] * len(MQIDS) + chunk.row_mqid
        for g in np.unique(group):
            rows = group == g
            out.energy[g // len(MQIDS), out.slots, g % len(MQIDS)] += chunk.values[rows].sum(axis=0)
            out.meters[g // len(MQIDS), g % len(MQIDS)] += int(rows.sum())
        return out

    def add(self, other: Aggregates) -> None:
        """Add another chunk's sums."""
        self.energy += other.energy
        self.meters += other.meters

    def write(self, folder: Path, *, parquet: bool, csv: bool) -> int:
        """Write the aggregates table; returns its row count.

        Only local settlement days the UTC range covers completely are written, each with the
        number of periods it has (46, 48 or 50).
        """
        counts = local_period_counts(self.local_days)
        covered = np.bincount(self.slots // MAX_LOCAL_PERIODS, minlength=self.local_days.size)
        full = covered == counts
        g_idx, s_idx, m_idx = np.nonzero(np.ones_like(self.energy, dtype=bool))
        day, period = s_idx // MAX_LOCAL_PERIODS, s_idx % MAX_LOCAL_PERIODS + 1
        keep = full[day] & (period <= counts[day]) & (self.meters[g_idx, m_idx] > 0)
        g_idx, day, period, m_idx, s_idx = g_idx[keep], day[keep], period[keep], m_idx[keep], s_idx[keep]
        columns = {
            "gsp_group": np.asarray(GSP_GROUPS, dtype=object)[g_idx],
            "settlement_date": self.local_days[day],
            "settlement_period": period.astype(np.int8),
            "mqid": np.asarray(MQIDS, dtype=object)[m_idx],
            "meters": self.meters[g_idx, m_idx],
            "value_wh": self.energy[g_idx, s_idx, m_idx],
        }
        write_table(folder, "aggregates", columns, AGGREGATES_SCHEMA, parquet=parquet, csv=csv)
        return int(keep.sum())
