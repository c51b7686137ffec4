"""Size guard: what a scenario will write and need, and a refusal before it is too much.

:func:`estimate` predicts a data set's output [bytes] and the generator's peak memory [bytes] from
meters x UTC days x measurement quantities x outputs; :func:`check_budget` refuses, in one line,
a scenario over the output limit, over the free space where it goes, or over the machine's
memory, unless the caller allows large data sets.

The per-item sizes were measured on the demo (200 meters x 14 days) and on the demo's mix at
2,000 meters x 365 days; each is rounded up, so estimates err on the large side. A *value* is one
meter x UTC half hour x measurement quantity (AI always, AE with PV, RI and RE on maximum-demand
meters), i.e. one IF-021 period and one consumption row. The tables (``parquet``, ``csv``) are
meters, consumption, readings, send_schedule and history; ``settlement`` is its table (in the
table formats asked for) and the REP-002 / REP-002B reports.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from mhhs_workbench.codes.remedies import Advice
from mhhs_workbench.model.chunk import DatasetFrame, effective_chunk_size
from mhhs_workbench.model.profiles import (
    ARCHETYPE_SPECS,  # the model defines what each archetype records
)
from mhhs_workbench.scenario.document import Scenario
from mhhs_workbench.sending.counts import chunk_message_counts
from mhhs_workbench.time.periods import MAX_LOCAL_PERIODS, PERIODS_PER_UTC_DAY

#: Default output limit [bytes]; ``MHHS_WORKBENCH_MAX_OUTPUT_GB`` overrides it.
DEFAULT_MAX_OUTPUT_BYTES = 50 * 10**9
MAX_OUTPUT_ENV = "MHHS_WORKBENCH_MAX_OUTPUT_GB"

LONDON = ZoneInfo("Europe/London")

# IF-021 [bytes]: each period, and each message's common and custom blocks (measured 77.4 and 828)
IF021_BYTES_PER_VALUE = 78
IF021_BYTES_PER_MESSAGE = 830
#: Consumption rows [bytes per value] as CSV (measured 71.5).
CONSUMPTION_CSV_BYTES_PER_VALUE = 73
#: Consumption Parquet [bytes per value]: 1.6 for two weeks, 3.2 for a year (longer meter runs
#: compress less), held at the one-year figure beyond.
CONSUMPTION_PARQUET_BYTES_PER_VALUE = (1.7, 1.6)  # at 0 days, added per 365 days
# register reads [bytes per read] (measured 93.9 and 6.2-6.7); IF-041 [bytes per message] (817)
READ_CSV_BYTES = 95
READ_PARQUET_BYTES = 7.0
IF041_BYTES_PER_MESSAGE = 830
#: Opening read, then one a day; a comms fault's missing reads and the change-of-supplier and
#: energisation reads about cancel out (measured 0.99-1.06 messages per register set per day).
READS_PER_REGISTER_DAY = 1.0
#: Registers read per message: ``C`` always, Economy 7 meters add day and night (``01``, ``02``).
ECONOMY7_EXTRA_REGISTERS = 2
# meters table [bytes per metering point] (measured 237 and 36-86)
METER_CSV_BYTES = 240
METER_PARQUET_BYTES = 45
# send_schedule [bytes per message] (measured 139 and 5.6-7.3); history [bytes per row] (145, 3.4-5)
SCHEDULE_CSV_BYTES = 140
SCHEDULE_PARQUET_BYTES = 7.5
HISTORY_CSV_BYTES = 145
HISTORY_PARQUET_BYTES = 5.0
# settlement table [bytes per row] (measured 120.5-123.9 and 2.5-4.0)
SETTLEMENT_CSV_BYTES = 124
SETTLEMENT_PARQUET_BYTES = 4.1
#: Parquet footer or CSV header of each table file [bytes] (at most 5.5 kB measured).
TABLE_FILE_BYTES = 6_000
#: The tables each table format writes.
TABLES_PER_FORMAT = 5
#: Local slots kept per settlement period (50 a day for 48 periods).
SLOTS_PER_PERIOD = MAX_LOCAL_PERIODS / PERIODS_PER_UTC_DAY
#: REP-002 and REP-002B, each as a DIP message and uncompressed, per settlement table row [bytes].
REPORT_BYTES_PER_ROW = 340  # measured: 336 on the demo and on a year
#: Manifest, scenario and per-file overhead [bytes per message file].
FILE_OVERHEAD_BYTES = 200

# peak memory: interpreter and libraries, then per value held for one chunk of meters (the model's
# four channels, reported values, table columns and CSV text), per meter, and per message of the
# whole data set (peak memory grows with the number of messages, not with meters x days: 500
# meters x 365 days took 1.44 GB with 435k messages, 1.32 GB with 35k); the settlement totals
# come on top (settlement_memory)
BASE_MEMORY_BYTES = 450 * 10**6
CHUNK_MEMORY_BYTES_PER_METER_HALF_HOUR = 900
# Message files are joined by streaming their pieces to disk, so messages_per_file adds nothing:
# 4,500 / 9,000 / 18,000 demo-mix meters x 30 days, IF-021 only, 30 days a message, 1,000,000
# messages a file, chunk 500, peak at 458-459 MiB against an estimate of 1,050-1,058 MiB
# (benchmarks/bench_generate.py memory); 3,000 meters at chunk 100: 354 MiB against 554 MiB.
MEMORY_BYTES_PER_METER = 300  # measured: 1k to 100k meters x 7 days, all outputs
#: Memory per IF-021 or IF-041 message [bytes]: 100-310 measured on 500-2,000 meters x 91-365
#: days of the demo mix (one day per message), every output.
MEMORY_BYTES_PER_MESSAGE = 250


class BudgetError(ValueError):
    """A scenario is larger than allowed, than the free space, or than the memory (one line)."""


@dataclass(frozen=True)
class Estimate:
    """Predicted size of a scenario's data set and of the run that writes it.

    Attributes
    ----------
    meters, days : int
        Meters and UTC settlement days.
    values : int
        Meter x half-hour x measurement-quantity values (IF-021 periods, consumption rows).
    by_output : dict of str to int
        Output [bytes] per output of the scenario (``if021``, ``if041``, ``parquet``, ``csv``,
        ``settlement`` or its older name ``aggregates``).
    peak_memory_bytes : int
        Peak resident memory of the generating process [bytes].
    """

    meters: int
    days: int
    values: int
    by_output: dict[str, int] = field(default_factory=dict)
    peak_memory_bytes: int = 0

    @property
    def output_bytes(self) -> int:
        """Total output [bytes]."""
        return sum(self.by_output.values())

    def describe(self) -> str:
        """One line: size, what makes it up, and memory."""
        parts = ", ".join(f"{name} {human_bytes(size)}" for name, size in self.by_output.items())
        return (f"{self.meters:,} meters x {self.days:,} days: about {human_bytes(self.output_bytes)} "
                f"of output ({parts}) and {human_bytes(self.peak_memory_bytes)} of memory")


@dataclass(frozen=True)
class Counts:
    """Expected rows and messages of a scenario's data set (fractional: expectations).

    Attributes
    ----------
    values : float
        IF-021 periods and consumption rows, as finally sent.
    if021_messages, if041_messages : float
        Messages of each interface (re-sent days included).
    resent_values : float
        Periods sent a second time (revisions of recovered comms faults).
    reads, meter_rows, history_rows, settlement_rows : float
        Rows of the readings, meters, history and settlement tables.
    """

    values: float
    if021_messages: float
    if041_messages: float
    resent_values: float
    reads: float
    meter_rows: float
    history_rows: float
    settlement_rows: float


def expected_counts(scenario: Scenario, messages: Mapping[str, int] | None = None) -> Counts:
    """What a scenario's data set holds, from its meter mix and settings, without generating it.

    Messages are counted by the plan's own rule (:func:`planned_messages`), or taken as given
    (``messages``: the plan's totals per interface, when the plan is already made).
    """

    mix = scenario.meters
    meters, days = mix.count, scenario.n_days
    total = sum(share for share in mix.archetypes.values() if share > 0) or 1.0
    share = {name: s / total for name, s in mix.archetypes.items() if s > 0}

    def of(attribute: str) -> float:
        return sum(s for a, s in share.items() if getattr(ARCHETYPE_SPECS[a], attribute))

    metered = sum(s for a, s in share.items() if ARCHETYPE_SPECS[a].connection_types != ("U",))
    exports = of("domestic") * mix.pv_share  # PV (an export MPAN) on domestic sites only
    channels = 1 + exports + 2 * of("reactive")
    values = meters * days * PERIODS_PER_UTC_DAY * channels
    # recovered comms faults: each day of the fault re-sent once per quantity, one message a day
    dq = scenario.data_quality
    fault_days = min(days, sum(dq.comms_fault_days) / 2)
    resent_days = meters * metered * dq.comms_fault_share * fault_days * scenario.sending.revision_share * channels
    if scenario.readings.schedule == "daily":  # the opening read, then one a day
        read_days = 1 + days * READS_PER_REGISTER_DAY
    else:  # the opening read, and the change-of-supplier reads
        read_days = 1 + len(scenario.events)
    messages = planned_messages(scenario) if messages is None else messages
    return Counts(
        values=values,
        if021_messages=messages["IF-021"],  # re-sent days included
        if041_messages=messages["IF-041"],
        resent_values=resent_days * PERIODS_PER_UTC_DAY,
        reads=meters * read_days * (metered + exports + ECONOMY7_EXTRA_REGISTERS * of("economy7")),
        meter_rows=meters * (1 + exports),
        history_rows=2 * resent_days * PERIODS_PER_UTC_DAY,  # as first sent, and as re-sent
        settlement_rows=settlement_rows(scenario, share, exports),
    )


#: Meters whose messages :func:`planned_messages` counts, in evenly spaced runs of consecutive meters.
SAMPLE_METERS = 20_000
SAMPLE_RUNS = 20


def planned_messages(scenario: Scenario) -> dict[str, float]:
    """Messages per interface a generated scenario will hold, counted meter by meter by the rule the
    plan and the chunks use (:func:`~mhhs_workbench.sending.counts.chunk_message_counts`).

    Exact up to :data:`SAMPLE_METERS` meters; above, the count of :data:`SAMPLE_RUNS` evenly spaced
    runs of consecutive meters scaled to the fleet (every meter's draws are keyed by its index, so
    any run of meters is a fair sample), so a guard over millions of meters answers at once.
    """
    frame = DatasetFrame(scenario)
    n = frame.n_meters
    if n <= SAMPLE_METERS:
        slices = [(0, n)]
    else:
        width = SAMPLE_METERS // SAMPLE_RUNS
        slices = [(start, start + width) for start in np.linspace(0, n - width, SAMPLE_RUNS).astype(np.int64).tolist()]
    counted = sum(stop - start for start, stop in slices)
    totals = {"IF-021": 0.0, "IF-041": 0.0}
    for start, stop in slices:
        _, counts = chunk_message_counts(frame, start, stop)
        for interface, per_meter in counts.items():
            totals[interface] += float(per_meter.sum())
    return {interface: total * n / counted for interface, total in totals.items()}


def settlement_rows(scenario: Scenario, share: dict[str, float], exports: float) -> float:
    """Expected rows of the settlement table: run x GSP group x Supplier x DUoS tariff some meter
    of the group is on x local period, the new Supplier only from each change of supplier on.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    share : dict of str to float
        Normalised share of each archetype (one import tariff each).
    exports : float
        Share of sites with an export MPAN (one export tariff).
    """

    mix = scenario.meters
    meters = mix.count
    # local settlement days the UTC range covers completely: not the first when it starts on
    # British Summer Time (that local day began at 23:00 UTC the day before)
    first = dt.datetime.combine(scenario.start_date, dt.time(), tzinfo=dt.UTC)
    days = scenario.n_days - bool(first.astimezone(LONDON).utcoffset())
    groups = min(len(mix.gsp_groups) or 14, meters)
    per_group = meters / groups
    # (share of sites, whether they can change supplier: only metered sites do)
    tariffs = [(s, ARCHETYPE_SPECS[a].connection_types != ("U",)) for a, s in share.items()] + [(exports, True)]

    def present(moved: float) -> float:
        """Tariffs the new Supplier has in a group once a share ``moved`` of metered sites is theirs."""
        return sum(1 - (1 - p * moved) ** per_group for p, movable in tariffs if movable)

    supplier_days = days * sum(1 - (1 - p) ** per_group for p, _ in tariffs)
    changes = sorted((e for e in scenario.events if e.type == "change_of_supplier"), key=lambda e: e.date)
    stays = 1.0
    for i, event in enumerate(changes):  # each moves a share of the sites not yet moved, until the next
        until = changes[i + 1].date if i + 1 < len(changes) else scenario.end_date + dt.timedelta(days=1)
        stays *= 1 - event.share
        supplier_days += (until - event.date).days * present(1 - stays)
    return groups * supplier_days * PERIODS_PER_UTC_DAY * len(scenario.runs)


def estimate(scenario: Scenario, chunk_size: int = 500, messages: Mapping[str, int] | None = None) -> Estimate:
    """Predict a scenario's output and peak memory without generating anything.

    Parameters
    ----------
    scenario : Scenario
        What would be generated.
    chunk_size : int
        Meters generated at once (drives memory, not output).
    messages : mapping of str to int, optional
        Messages per interface, when the plan has counted them (see :func:`expected_counts`).

    Returns
    -------
    Estimate
        Output per output [bytes] and peak memory [bytes]; measured within 20 % of real data sets
        in total (more for tiny ones, where fixed costs dominate).
    """
    c = expected_counts(scenario, messages)
    meters, days = scenario.meters.count, scenario.n_days
    outputs = set(scenario.outputs)
    by_output: dict[str, float] = {}
    messages_per_file = scenario.messages.messages_per_file
    if "if021" in outputs:
        by_output["if021"] = ((c.values + c.resent_values) * IF021_BYTES_PER_VALUE
                              + c.if021_messages * (IF021_BYTES_PER_MESSAGE + FILE_OVERHEAD_BYTES / messages_per_file))
    if "if041" in outputs:
        by_output["if041"] = c.if041_messages * (IF041_BYTES_PER_MESSAGE + FILE_OVERHEAD_BYTES / messages_per_file)
    # the send schedule lists the messages of the interfaces asked for
    scheduled = ("if021" in outputs) * c.if021_messages + ("if041" in outputs) * c.if041_messages
    parquet_per_value = (CONSUMPTION_PARQUET_BYTES_PER_VALUE[0]
                         + CONSUMPTION_PARQUET_BYTES_PER_VALUE[1] * min(days, 365) / 365)
    per_row = {"parquet": (parquet_per_value, READ_PARQUET_BYTES, METER_PARQUET_BYTES, SCHEDULE_PARQUET_BYTES,
                           HISTORY_PARQUET_BYTES, SETTLEMENT_PARQUET_BYTES),
               "csv": (CONSUMPTION_CSV_BYTES_PER_VALUE, READ_CSV_BYTES, METER_CSV_BYTES, SCHEDULE_CSV_BYTES,
                       HISTORY_CSV_BYTES, SETTLEMENT_CSV_BYTES)}
    for fmt, (value, read, meter, schedule, history, _) in per_row.items():
        if fmt in outputs:
            by_output[fmt] = (c.values * value + c.reads * read + c.meter_rows * meter + scheduled * schedule
                              + c.history_rows * history + TABLES_PER_FORMAT * TABLE_FILE_BYTES)
    for name in ("settlement", "aggregates") if scenario.wants("settlement") else ():
        if name in outputs:  # "aggregates" is the older name of "settlement"
            # the table in the formats asked for (CSV when none is), and the reports
            formats = [f for f in per_row if f in outputs] or ["csv"]
            by_output[name] = c.settlement_rows * (sum(per_row[f][5] for f in formats) + REPORT_BYTES_PER_ROW)
            break

    chunk = min(effective_chunk_size(chunk_size, days), meters)
    memory = (BASE_MEMORY_BYTES + chunk * days * PERIODS_PER_UTC_DAY * CHUNK_MEMORY_BYTES_PER_METER_HALF_HOUR
              + meters * MEMORY_BYTES_PER_METER + scheduled * MEMORY_BYTES_PER_MESSAGE
              + (settlement_memory(c.settlement_rows, len(scenario.runs)) if scenario.wants("settlement") else 0))
    return Estimate(meters, days, round(c.values), {k: round(v) for k, v in by_output.items()}, round(memory))


def settlement_memory(rows: float, runs: int) -> float:
    """Memory of a run's settlement totals [bytes] for ``rows`` settlement table rows: per group
    and local slot (50 a day for 48 periods) an int64 volume and actual per run, two MPAN counts
    and a seen flag (the table and reports are then built a few weeks at a time)."""
    return rows / runs * SLOTS_PER_PERIOD * (16 * runs + 17)


def check_budget(
    scenario: Scenario,
    out: str | os.PathLike[str],
    allow_large: bool = False,
    *,
    chunk_size: int = 500,
    max_output_bytes: int | None = None,
    messages: Mapping[str, int] | None = None,
) -> Estimate:
    """Refuse a scenario too large to generate at ``out``, before anything is written.

    Parameters
    ----------
    scenario : Scenario
        What would be generated.
    out : path
        Where the data set would be published (it need not exist yet).
    allow_large : bool
        Accept whatever the estimate says (``--allow-large``).
    chunk_size : int
        Meters generated at once.
    max_output_bytes : int, optional
        Output limit [bytes]; default ``MHHS_WORKBENCH_MAX_OUTPUT_GB`` x 10**9, else 50 GB.
    messages : mapping of str to int, optional
        Messages per interface as the run's plan counted them.

    Returns
    -------
    Estimate
        The estimate it judged.

    Raises
    ------
    BudgetError
        One line: the estimate and which limit it exceeds (output limit, free space of the file
        system at ``out``, or the machine's memory), and how to proceed.
    """
    est = estimate(scenario, chunk_size, messages)
    if allow_large:
        return est
    limit = max_output_bytes if max_output_bytes is not None else _max_output_from_environment()
    if est.output_bytes > limit:
        raise BudgetError(Advice("{estimate}; that is over the {limit} output limit (set {env} to "
                                 "change it): {smaller}", estimate=est.describe(),
                                 limit=human_bytes(limit), env=MAX_OUTPUT_ENV))
    folder = _existing_folder(Path(out).absolute().parent)
    free = shutil.disk_usage(folder).free
    if est.output_bytes > free:
        raise BudgetError(Advice("{estimate}; the file system of {folder} has only {free} free: "
                                 "{smaller}", estimate=est.describe(), folder=folder, free=human_bytes(free)))
    memory = _physical_memory()
    if memory and est.peak_memory_bytes > memory:
        raise BudgetError(Advice("{estimate}; this machine has {memory} of memory: {less_memory}",
                                 estimate=est.describe(), memory=human_bytes(memory)))
    return est


def human_bytes(n: float) -> str:
    """Bytes in decimal units for people: ``950 B``, ``1.2 MB``, ``3.4 TB``."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def _max_output_from_environment() -> int:
    text = os.environ.get(MAX_OUTPUT_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_OUTPUT_BYTES
    try:
        gb = float(text)
    except ValueError:
        raise BudgetError(f"{MAX_OUTPUT_ENV}={text!r} is not a number of gigabytes") from None
    if gb == float("inf"):
        return 2**63 - 1  # no limit
    if not gb > 0:  # also NaN
        raise BudgetError(f"{MAX_OUTPUT_ENV}={text!r} must be above 0 gigabytes")
    return int(gb * 10**9)


def _existing_folder(folder: Path) -> Path:
    """``folder`` or its nearest existing parent (where the data set's file system is)."""
    for candidate in (folder, *folder.parents):
        if candidate.is_dir():
            return candidate
    return Path("/")


def _physical_memory() -> int | None:
    """Physical memory of the machine [bytes], or None where it cannot be read."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
