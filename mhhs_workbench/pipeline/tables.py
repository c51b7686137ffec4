"""The data set's tables: schemas and a chunk's rows of each.

=============  ===================================================================
table          one row per
=============  ===================================================================
meters         metering point (MPAN): a site's import MPAN, then its export MPAN if any
consumption    MPAN x measurement quantity x UTC half hour, as reported in IF-021
readings       register read, as sent in IF-041
settlement     run x Supplier x GSP group x DUoS tariff x local settlement period
               (:mod:`~mhhs_workbench.settlement.sums`: what REP-002 and REP-002B report)
=============  ===================================================================
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mhhs_workbench.messages.chunk_messages import row_mpans
from mhhs_workbench.messages.if021 import REASON_BY_NUMBER
from mhhs_workbench.model.chunk import MQIDS, Chunk, DatasetFrame
from mhhs_workbench.model.population import METER_COLUMNS, first_reported_days
from mhhs_workbench.time.periods import format_utc

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
#: Columns of the meters table: one row per metering point. ``energy_direction`` is DI-035 (``I``
#: import, ``E`` export); ``linked_mpan`` the other MPAN of an exporting site's pair (DI-038),
#: null for a site with one metering point. The site's attributes repeat on both rows; an
#: export row has no annual import of its own (null), and its ``initial_register_wh`` opens its
#: export register.
METER_TABLE_COLUMNS = (
    "meter_index",
    "mpan",
    "energy_direction",
    "linked_mpan",
    *(c for c in METER_COLUMNS if c not in ("meter_index", "mpan", "export_mpan", "initial_export_register_wh")),
)
_METER_TYPES = {
    "meter_index": pa.int64(),
    "install_date": pa.date32(),
    "time_of_use": pa.bool_(),
    "annual_kwh": pa.float64(),
    "pv_kwp": pa.float64(),
    "ev_kw": pa.float64(),
    "ev_smart": pa.bool_(),
    "heat_pump_kwh": pa.float64(),
    "register_digits": pa.int64(),
    "initial_register_wh": pa.int64(),
    "change_of_supplier_date": pa.date32(),
    "domestic_premise": pa.bool_(),
}
#: Energisation columns the meters table adds from the chunk's de-energised spells [UTC].
ENERGISATION_COLUMNS = ("deenergised_from", "deenergised_until")
METERS_SCHEMA = pa.schema([(name, _METER_TYPES.get(name, pa.string())) for name in METER_TABLE_COLUMNS]
                          + [(name, pa.timestamp("s", tz="UTC")) for name in ENERGISATION_COLUMNS])

#: A table's rows as columns, and the CSV text of columns written differently from Arrow's default.
TableRows = tuple[dict[str, Any], dict[str, Any]]


def consumption_rows(chunk: Chunk, frame: DatasetFrame) -> TableRows:
    """The chunk's rows of the consumption table (its value rows x half hours, in order).

    Each row carries the MPAN its value was sent under (an export quantity the site's export
    MPAN), and only half hours that were sent (none before an install inside the range).
    Text columns are built as Arrow arrays from their few distinct values (repeated fixed-width
    bytes, copies of the day's text, or ``take``): no Python string per row.
    """
    k, t = chunk.values.shape
    local_dates, local_periods = frame.local_periods
    period = np.tile(np.arange(t), k)
    mpans = row_mpans(chunk)
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
    csv_text = {"utc_period_end": pa.concat_arrays([period_text] * k) if k else period_text[:0]}
    first = first_reported_days(chunk.meters, frame.days)[chunk.row_meter] * (t // frame.n_days)
    if first.any():  # drop the half hours before a meter's install day: they were never sent
        sent = (np.arange(t)[None, :] >= first[:, None]).ravel()
        mask = pa.array(sent)
        columns = {name: pc.filter(value, mask) if isinstance(value, pa.Array) else value[sent]
                   for name, value in columns.items()}
        csv_text = {name: pc.filter(value, mask) for name, value in csv_text.items()}
    return columns, csv_text


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
    if "message_mpan" in reads:  # the MPAN each read was sent under (an export register's export MPAN)
        columns["mpan"] = list(reads["message_mpan"])
    columns["read_datetime"] = np.array(reads["read_datetime"], dtype="datetime64[s]")
    return columns, {"read_datetime": format_utc(columns["read_datetime"]).tolist()}


def meters_rows(chunk: Chunk, days: np.ndarray | None = None) -> TableRows:
    """The chunk's rows of the meters table: each site's import metering point, then its export
    one if it has one, linked to each other (see :data:`METER_TABLE_COLUMNS`)."""
    m = chunk.meters
    mpan = m["mpan"].to_numpy().astype(object)
    export = m["export_mpan"].to_numpy().astype(object)
    has_export = export != ""
    site = np.repeat(np.arange(len(m)), 1 + has_export)
    # the second row of an exporting site is its export metering point
    is_export = np.zeros(site.size, dtype=bool)
    is_export[1:] = site[1:] == site[:-1]
    columns: dict[str, Any] = {name: m[name].to_numpy()[site] for name in METER_TABLE_COLUMNS if name in m}
    columns["mpan"] = np.where(is_export, export[site], mpan[site])
    # a site's own MPAN imports, unless all it sends is export (a supplied export MPAN, as given)
    sends_import = np.isin(chunk.row_mqid, [MQIDS.index("AI"), MQIDS.index("RI")])
    imports = np.bincount(chunk.row_meter[sends_import], minlength=len(m)) > 0
    sends = np.bincount(chunk.row_meter, minlength=len(m)) > 0
    own = np.where(sends & ~imports, "E", "I")
    columns["energy_direction"] = np.where(is_export, "E", own[site]).astype(object)
    linked = np.where(is_export, mpan[site], export[site])
    columns["linked_mpan"] = pa.array(linked, type=pa.string(), mask=linked == "")
    # an export row's opening register is its export register's (null where the site has none)
    opening = m["initial_export_register_wh"].to_numpy()[site] if "initial_export_register_wh" in m else None
    columns["initial_register_wh"] = pa.array(
        columns["initial_register_wh"] if opening is None else np.where(is_export, opening, columns["initial_register_wh"]),
        type=pa.int64(), mask=is_export if opening is None else None)
    columns["annual_kwh"] = pa.array(columns["annual_kwh"], type=pa.float64(), mask=is_export)
    for name in ("install_date", "change_of_supplier_date"):
        dates = columns[name].astype("datetime64[D]")
        columns[name] = pa.array(dates, type=pa.date32(), mask=np.isnat(dates))
    for name, instants in energisation(chunk, days).items():
        columns[name] = pa.array(instants[site], type=pa.timestamp("s", tz="UTC"), mask=np.isnat(instants[site]))
    return columns, {}


def energisation(chunk: Chunk, days: np.ndarray | None) -> dict[str, np.ndarray]:
    """Each site's de-energised spell: ``deenergised_from`` and ``deenergised_until`` (00:00 UTC of
    its first day and of the day after its last), datetime64[s] [UTC], NaT for none (and for all
    when ``days``, the data set's UTC days, is not given)."""
    n = chunk.n_meters
    none = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    if days is None:
        return dict.fromkeys(ENERGISATION_COLUMNS, none)
    first, length = chunk.plan.deenergised_first, chunk.plan.deenergised_days
    spell = length > 0
    start = np.asarray(days, dtype="datetime64[D]")[0] + np.where(spell, first, 0).astype("timedelta64[D]")
    return {
        "deenergised_from": np.where(spell, start.astype("datetime64[s]"), none),
        "deenergised_until": np.where(spell, (start + length.astype("timedelta64[D]")).astype("datetime64[s]"), none),
    }


def to_table(rows: TableRows, schema: pa.Schema) -> tuple[pa.Table, dict[str, list[str]]]:
    """Arrow table of a chunk's rows (what a worker sends back), with its CSV text overrides."""
    columns, csv_text = rows
    return pa.table(columns, schema=schema), csv_text
