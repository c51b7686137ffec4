"""The product's main job: from a Scenario to a published, checksummed data set.

Layout of a data set folder::

    scenario.yaml                  the scenario, as loaded (re-runnable)
    messages/IF-021/IF-021_000001.json ...   DIP request bodies, period consumption
    messages/IF-041/IF-041_000001.json ...   DIP request bodies, register readings
    tables/meters.{parquet,csv}              the meter register (one row per MPAN)
    tables/consumption.{parquet,csv}         one row per MPAN x MQID x UTC half hour
    tables/readings.{parquet,csv}            one row per register read
    tables/aggregates.{parquet,csv}          GSP group x local settlement period x MQID sums
    manifest.json                  scenario, seed, version, counts and sha256 of every file (last)

Meters are processed in chunks; every random draw derives from (seed, meter index), and files are
cut by message and row counts, never by chunk, so the bytes do not depend on the chunk size.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm.auto import tqdm

from . import __version__
from .export import MessageFileWriter, Publication, TableWriter, write_table
from .identifiers import GSP_GROUPS
from .messages.codes import MEASUREMENT_QUANTITY_IDS
from .messages.common import ReferenceSequence, Sender
from .messages.if021 import REASON_BY_NUMBER, iter_if021_payloads
from .messages.if041 import iter_if041_payloads
from .population import ADVANCED, UNMETERED, build_population
from .profiles import consumption, economy7_night_mask, load_temperature_csv
from .quality import REPORTED_QUALITY_CODES, apply_plan, plan_meter, unmetered_flags
from .readings import READ_COLUMNS, RegisterCapacityError, day_index, meter_reads
from .scenario import Scenario
from .settlement_time import (
    PERIODS_PER_UTC_DAY,
    day_range,
    format_utc,
    local_period_counts,
    utc_period_ends,
    utc_to_local,
)

MQIDS = MEASUREMENT_QUANTITY_IDS

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


@dataclass(frozen=True)
class DatasetSummary:
    """What a generation run published."""

    path: Path
    manifest: dict[str, Any]

    @property
    def counts(self) -> dict[str, int]:
        """Counts of meters, messages, files and rows."""
        return self.manifest["counts"]

    def describe(self) -> str:
        """A few lines for the terminal."""
        c = self.counts
        return (
            f"data set {self.path}\n"
            f"  {c['meters']} meters x {c['days']} UTC days\n"
            f"  IF-021: {c['if021_messages']} messages in {c['if021_files']} files\n"
            f"  IF-041: {c['if041_messages']} messages in {c['if041_files']} files\n"
            f"  tables: {c['consumption_rows']} consumption rows, {c['reading_rows']} reads, "
            f"{c['aggregate_rows']} aggregate rows\n"
            f"  {len(self.manifest['files'])} files checksummed in manifest.json"
        )


def sender_timestamp(scenario: Scenario) -> str:
    """``senderTimestamp`` used for every message: the scenario's, or 06:00 UTC after the end."""
    if scenario.messages.sender_timestamp:
        return scenario.messages.sender_timestamp
    day = scenario.end_date + dt.timedelta(days=1)
    return f"{day.isoformat()}T06:00:00+00:00"


def generate_dataset(
    scenario: Scenario,
    out: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    chunk_size: int = 500,
    progress: bool = True,
    on_chunk: Callable[[int, int], None] | None = None,
) -> DatasetSummary:
    """Generate a scenario's data set and publish it atomically at ``out``.

    Parameters
    ----------
    scenario : Scenario
        What to generate.
    out : path
        Folder the data set is published as; must not exist unless ``overwrite``.
    overwrite : bool
        Replace an existing data set at ``out`` (only once the new one is complete).
    chunk_size : int
        Meters generated at once; affects memory and speed, never the output bytes.
    progress : bool
        Show a progress bar.
    on_chunk : callable, optional
        Called with ``(meters_done, meters_total)`` after each chunk (for widgets).

    Raises
    ------
    PublicationError
        ``out`` exists and ``overwrite`` is false.
    TemperatureDataError
        The scenario's temperature CSV is missing or malformed (nothing is written).

    Returns
    -------
    DatasetSummary
        Where the data set is and its manifest.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk size must be at least 1, got {chunk_size}")
    # read user input before anything is written, so bad input leaves nothing behind
    temperature = load_temperature_csv(scenario.temperature_csv) if scenario.temperature_csv else None
    with Publication(out, overwrite=overwrite) as pub:
        root = pub.staging
        counts = _write_dataset(scenario, root, chunk_size, progress, on_chunk, temperature)
        header = {
            "package_version": __version__,
            "scenario": scenario.to_dict(),
            "seed": scenario.seed,
            "counts": counts,
        }
        manifest = pub.publish(header)
    return DatasetSummary(Path(out), manifest)


def _write_dataset(
    scenario: Scenario,
    root: Path,
    chunk_size: int,
    progress: bool,
    on_chunk: Callable[[int, int], None] | None,
    temperature: pd.Series | None,
) -> dict[str, int]:
    outputs = set(scenario.outputs)
    (root / "scenario.yaml").write_text(scenario.to_yaml(), encoding="utf-8")
    if scenario.temperature_csv:
        # the user's weather drives the data: keep it, checksummed, with the data set
        (root / "inputs").mkdir()
        shutil.copyfile(scenario.temperature_csv, root / "inputs" / "temperature.csv")
    population = build_population(scenario)
    days = day_range(scenario.start_date, scenario.end_date)
    n_days = days.size
    ends = utc_period_ends(days).ravel()
    sp_text = format_utc(ends)
    local_dates, local_periods = utc_to_local(ends)
    night = economy7_night_mask(ends)

    stamp = sender_timestamp(scenario)
    ref_date = stamp[:10].replace("-", "")
    p = scenario.participants
    # IF-021 also goes to the central services (LSS, MDS); IF-041 only to supplier and distributor
    fixed_recipients = {"IF-021": (p.load_shaping_service, p.market_wide_data_service), "IF-041": ()}
    data_services = {"SDS": p.smart_data_service, "ADS": p.advanced_data_service, "UMSDS": p.unmetered_data_service}
    senders = {
        (role, interface): Sender(dip, role, scenario.environment_tag, fixed, stamp, scenario.messages.sub_text)
        for role, dip in data_services.items()
        for interface, fixed in fixed_recipients.items()
    }
    # one running number per sender and interface: references stay unique and chunk-independent
    refs = {key: ReferenceSequence(s, ref_date) for key, s in senders.items()}
    for (_, interface), seq in refs.items():
        seq.check(interface)

    tables = root / "tables"
    want_tables = bool(outputs & {"parquet", "csv"})
    as_parquet, as_csv = "parquet" in outputs, "csv" in outputs
    if021 = MessageFileWriter(root / "messages" / "IF-021", "IF-021", scenario.messages.messages_per_file)
    if041 = MessageFileWriter(root / "messages" / "IF-041", "IF-041", scenario.messages.messages_per_file)
    consumption_writer = readings_writer = None
    if want_tables:
        consumption_writer = TableWriter(tables, "consumption", CONSUMPTION_SCHEMA, parquet=as_parquet, csv=as_csv)
        readings_writer = TableWriter(tables, "readings", READINGS_SCHEMA, parquet=as_parquet, csv=as_csv)

    # aggregates: GSP group x local (date, period) slot x MQID, summed exactly in integers
    uniq_local, local_idx = np.unique(local_dates, return_inverse=True)
    slot = local_idx * 50 + (local_periods - 1)
    agg = np.zeros((len(GSP_GROUPS), uniq_local.size * 50, len(MQIDS)), dtype=np.int64)
    agg_meters = np.zeros((len(GSP_GROUPS), len(MQIDS)), dtype=np.int64)
    gsp_index = {g: i for i, g in enumerate(GSP_GROUPS)}

    n = len(population)
    bar = tqdm(total=n, desc="meters", unit="meter", disable=not progress, leave=False)
    for start in range(0, n, chunk_size):
        chunk = population.iloc[start : start + chunk_size]
        result = consumption(chunk, days, scenario.seed, temperature=temperature)
        arrays = {
            "AI": result.import_wh,
            "AE": result.export_wh,
            "RI": result.reactive_import_varh,
            "RE": result.reactive_export_varh,
        }
        table_rows: list[tuple[str, str, np.ndarray, np.ndarray, np.ndarray]] = []
        read_rows: list[tuple] = []
        for j, meter in enumerate(chunk.itertuples(index=False)):
            channels = ["AI"]
            if meter.pv_kwp > 0:
                channels.append("AE")
            if meter.archetype in ADVANCED:
                channels += ["RI", "RE"]
            true_values = [arrays[c][j] for c in channels]
            unmetered = meter.archetype in UNMETERED
            plan = plan_meter(scenario.data_quality, scenario.seed, meter.meter_index, n_days, metered=not unmetered)
            if unmetered:
                reported = true_values
                quality, reasons = unmetered_flags(n_days * PERIODS_PER_UTC_DAY)
            else:
                reported, quality, reasons = apply_plan(plan, true_values)

            cos = day_index(meter.change_of_supplier_date, days)
            segments = _supplier_segments(meter.supplier_dip_id, p.new_supplier, cos, n_days)
            role = meter.data_service_role
            for mqid, values in zip(channels, reported, strict=True):
                gi = gsp_index[meter.gsp_group]
                m = MQIDS.index(mqid)
                np.add.at(agg[gi, :, m], slot, values)
                agg_meters[gi, m] += 1
                if want_tables:
                    table_rows.append((meter.mpan, mqid, values, quality, reasons))
                if "if021" not in outputs:
                    continue
                for first, last, supplier in segments:
                    sl = slice(first * PERIODS_PER_UTC_DAY, last * PERIODS_PER_UTC_DAY)
                    for payload in iter_if021_payloads(
                        [meter],
                        days[first:last],
                        mqid,
                        values[None, sl],
                        senders[(role, "IF-021")],
                        refs[(role, "IF-021")],
                        quality=quality[None, sl],
                        quality_codes=REPORTED_QUALITY_CODES,
                        reasons=reasons[None, sl],
                        days_per_message=scenario.messages.days_per_message,
                        recipients=(supplier, meter.distributor_dip_id),
                    ):
                        if021.add(payload)

            if unmetered:
                continue  # no meter, no register
            try:
                rows = meter_reads(meter, reported[0], plan, days, night, schedule=scenario.readings.schedule)
            except RegisterCapacityError as exc:
                bar.close()
                raise RegisterCapacityError(f"MPAN {meter.mpan}: {exc}") from None
            read_rows.extend(rows)
            if "if041" in outputs and rows:
                reads = _read_columns(rows)
                reads["gsp_group"] = [meter.gsp_group] * len(rows)
                reads["distributor_dip_id"] = [meter.distributor_dip_id] * len(rows)
                reads["read_datetime"] = format_utc(np.array(reads["read_datetime"])).tolist()
                reads["recipients"] = [
                    (*_read_recipients(event, int(key.split(":")[1]), cos, meter.supplier_dip_id, p.new_supplier),
                     meter.distributor_dip_id)
                    for event, key in zip(reads["event_code"], reads["message_key"], strict=True)
                ]
                for payload in iter_if041_payloads(reads, senders[(role, "IF-041")], refs[(role, "IF-041")]):
                    if041.add(payload)

        if want_tables:
            _write_consumption(consumption_writer, table_rows, ends, sp_text, local_dates, local_periods)
            _write_readings(readings_writer, read_rows)
        bar.update(len(chunk))
        if on_chunk:
            on_chunk(min(start + chunk_size, n), n)
    bar.close()

    counts = {"meters": n, "days": n_days}
    counts["if021_files"] = len(if021.close())
    counts["if021_messages"] = if021.messages
    counts["if041_files"] = len(if041.close())
    counts["if041_messages"] = if041.messages
    counts["consumption_rows"] = consumption_writer.rows if consumption_writer else 0
    counts["reading_rows"] = readings_writer.rows if readings_writer else 0
    if consumption_writer:
        consumption_writer.close()
        readings_writer.close()
        _write_meters(tables, population, as_parquet, as_csv)
    counts["aggregate_rows"] = 0
    if "aggregates" in outputs:
        # aggregates come in the table formats asked for, CSV when none is
        formats = (as_parquet, as_csv) if want_tables else (False, True)
        counts["aggregate_rows"] = _write_aggregates(tables, agg, agg_meters, uniq_local, local_dates, *formats)
    return counts


def _supplier_segments(old: str, new: str, cos: int | None, n_days: int) -> list[tuple[int, int, str]]:
    """Day ranges ``[first, last)`` and the supplier addressed in each.

    A change of supplier always falls after the first day and within the data set (the scenario
    checks it), so it splits the days in two.
    """
    if cos is None:
        return [(0, n_days, old)]
    return [(0, cos, old), (cos, n_days, new)]


def _read_recipients(event: str, boundary: int, cos: int | None, old: str, new: str) -> tuple[str, ...]:
    if cos is None or boundary < cos:
        return (old,)
    if event == "[ReadingCOS]":
        return (old, new)  # the closing read for the old supplier is the opening one for the new
    return (new,)


def _write_consumption(writer, rows, ends, sp_text, local_dates, local_periods) -> None:
    if not rows:
        return
    k = len(rows)
    t = ends.size
    mpan = np.repeat(np.array([r[0] for r in rows], dtype=object), t)
    mqid = np.repeat(np.array([r[1] for r in rows], dtype=object), t)
    values = np.concatenate([r[2] for r in rows])
    quality = np.asarray(REPORTED_QUALITY_CODES, dtype=object)[np.concatenate([r[3] for r in rows])]
    reason = np.asarray(REASON_BY_NUMBER, dtype=object)[np.concatenate([r[4] for r in rows])]
    columns = {
        "mpan": mpan,
        "mqid": mqid,
        "utc_period_end": np.tile(ends.astype("datetime64[s]"), k),
        "settlement_date": np.tile(local_dates, k),
        "settlement_period": np.tile(local_periods.astype(np.int8), k),
        "value_wh": values,
        "quality": quality,
        "reason": reason,
    }
    writer.write(columns, {"utc_period_end": np.tile(sp_text, k).tolist()})


def _read_columns(rows: list[tuple]) -> dict[str, list[Any]]:
    """Rows of the readings table (see :data:`READ_COLUMNS`) as lists by column name."""
    return dict(zip(READ_COLUMNS, map(list, zip(*rows, strict=True)), strict=True))


def _write_readings(writer, rows) -> None:
    if not rows:
        return
    by_name = _read_columns(rows)
    columns: dict[str, Any] = {name: list(by_name[name]) for name in READINGS_SCHEMA.names}
    columns["read_datetime"] = np.array(by_name["read_datetime"], dtype="datetime64[s]")
    writer.write(columns, {"read_datetime": format_utc(columns["read_datetime"]).tolist()})


def _write_meters(tables: Path, population: pd.DataFrame, as_parquet: bool, as_csv: bool) -> None:
    table = pa.Table.from_pandas(population.drop(columns="change_of_supplier_date"), preserve_index=False)
    table = table.replace_schema_metadata(None)  # no pandas/version metadata: stable bytes
    cos = population["change_of_supplier_date"].to_numpy().astype("datetime64[D]")
    table = table.append_column(
        pa.field("change_of_supplier_date", pa.date32()), pa.array(cos, type=pa.date32(), mask=np.isnat(cos))
    )
    write_table(tables, "meters", {n: table.column(n) for n in table.column_names}, table.schema,
                parquet=as_parquet, csv=as_csv)


def _write_aggregates(tables, agg, agg_meters, uniq_local, local_dates, as_parquet, as_csv) -> int:
    # only local settlement days the UTC range covers completely
    covered = np.array([(local_dates == d).sum() for d in uniq_local])
    full = covered == local_period_counts(uniq_local)
    g_idx, s_idx, m_idx = np.nonzero(np.ones_like(agg, dtype=bool))
    date_i, period = s_idx // 50, s_idx % 50 + 1
    keep = full[date_i] & (period <= local_period_counts(uniq_local)[date_i]) & (agg_meters[g_idx, m_idx] > 0)
    g_idx, date_i, period, m_idx = g_idx[keep], date_i[keep], period[keep], m_idx[keep]
    s_idx = s_idx[keep]
    columns = {
        "gsp_group": np.asarray(GSP_GROUPS, dtype=object)[g_idx],
        "settlement_date": uniq_local[date_i],
        "settlement_period": period.astype(np.int8),
        "mqid": np.asarray(MQIDS, dtype=object)[m_idx],
        "meters": agg_meters[g_idx, m_idx],
        "value_wh": agg[g_idx, s_idx, m_idx],
    }
    write_table(tables, "aggregates", columns, AGGREGATES_SCHEMA, parquet=as_parquet, csv=as_csv)
    return int(keep.sum())
