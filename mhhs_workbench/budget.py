"""Size guard: what a scenario will write and need, and a refusal before it is too much.

:func:`estimate` predicts a data set's output [bytes] and the generator's peak memory [bytes] from
meters x UTC days x measurement quantities x outputs; :func:`check_budget` refuses, in one line,
a scenario over the output limit, over the free space where it goes, or over the machine's
memory, unless the caller allows large data sets.

The per-value figures were measured on data sets of the default meter mix (200-8,000 meters,
7-365 days, chunks of 50-500 meters); each is rounded up from the largest seen, so estimates err
on the large side. A *value* is one meter x UTC half hour x measurement quantity (AI always, AE
with PV, RI and RE on maximum-demand meters), i.e. one IF-021 period and one consumption row.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .chunk import effective_chunk_size
from .scenario import Scenario

#: Default output limit [bytes]; ``MHHS_WORKBENCH_MAX_OUTPUT_GB`` overrides it.
DEFAULT_MAX_OUTPUT_BYTES = 50 * 10**9
MAX_OUTPUT_ENV = "MHHS_WORKBENCH_MAX_OUTPUT_GB"

HALF_HOURS_PER_UTC_DAY = 48

# output [bytes per value]
IF021_BYTES_PER_VALUE = 82
CONSUMPTION_CSV_BYTES_PER_VALUE = 73
#: Consumption Parquet [bytes per value]: 1.6 for two weeks, 2.3 for half a year, 3.2 for a year
#: (longer meter runs compress less), held at the one-year figure beyond.
CONSUMPTION_PARQUET_BYTES_PER_VALUE = (1.7, 1.6)  # at 0 days, added per 365 days
# register reads [bytes per read]; IF-041 [bytes per message]
READ_CSV_BYTES = 95
READ_PARQUET_BYTES = 7.0
IF041_BYTES_PER_MESSAGE = 830
#: Reads and IF-041 messages per metered meter per day on the daily schedule, Economy 7 meters
#: adding two register reads; measured 1.38 reads and 1.03 messages (install and supplier-change
#: reads included).
READS_PER_REGISTER_DAY = 1.05
# meter register [bytes per meter]; aggregates [bytes per row]
METER_CSV_BYTES = 190
METER_PARQUET_BYTES = 70
AGGREGATE_CSV_BYTES = 32
AGGREGATE_PARQUET_BYTES = 3.5
#: Manifest, scenario and per-file overhead [bytes per message file].
FILE_OVERHEAD_BYTES = 200

# peak memory: interpreter and libraries, then per value held for one chunk of meters (the model's
# four channels, reported values, table columns and CSV text), per meter and per day (aggregates)
BASE_MEMORY_BYTES = 450 * 10**6
CHUNK_MEMORY_BYTES_PER_METER_HALF_HOUR = 800
MEMORY_BYTES_PER_METER = 300  # measured: 1k to 100k meters x 7 days, all outputs
MEMORY_BYTES_PER_DAY = 14 * 50 * 4 * 8 * 2  # GSP groups x local periods x MQIDs x int64, twice


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
        ``aggregates``).
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


def estimate(scenario: Scenario, chunk_size: int = 500) -> Estimate:
    """Predict a scenario's output and peak memory without generating anything.

    Parameters
    ----------
    scenario : Scenario
        What would be generated.
    chunk_size : int
        Meters generated at once (drives memory, not output).

    Returns
    -------
    Estimate
        Output per output [bytes] and peak memory [bytes]; measured within 20 % of real data sets
        (more for tiny ones, where fixed costs dominate).
    """
    from .profiles import ARCHETYPE_SPECS  # the model defines what each archetype records

    mix = scenario.meters
    meters, days = mix.count, scenario.n_days
    total = sum(share for share in mix.archetypes.values() if share > 0) or 1.0
    share = {name: s / total for name, s in mix.archetypes.items() if s > 0}
    domestic = sum(s for a, s in share.items() if ARCHETYPE_SPECS[a].domestic)
    reactive = sum(s for a, s in share.items() if ARCHETYPE_SPECS[a].reactive)
    economy7 = sum(s for a, s in share.items() if ARCHETYPE_SPECS[a].economy7)
    metered = sum(s for a, s in share.items() if ARCHETYPE_SPECS[a].connection_types != ("U",))
    channels = 1 + domestic * mix.pv_share + 2 * reactive
    values = round(meters * days * HALF_HOURS_PER_UTC_DAY * channels)

    if scenario.readings.schedule == "daily":
        read_days = days * READS_PER_REGISTER_DAY
    else:  # install and supplier-change reads only
        read_days = 1 + len(scenario.events)
    reads = meters * read_days * (metered + 2 * economy7)
    if041_messages = meters * read_days * metered
    # aggregates: one row per GSP group x local period x quantity some meter of the group reports
    groups = min(len(mix.gsp_groups) or 14, meters)
    per_group = meters / groups
    quantities = sum(1 - (1 - p) ** per_group for p in (1.0, domestic * mix.pv_share, reactive, reactive))
    aggregate_rows = groups * days * HALF_HOURS_PER_UTC_DAY * quantities

    outputs = set(scenario.outputs)
    by_output: dict[str, float] = {}
    messages_per_file = scenario.messages.messages_per_file
    if "if021" in outputs:
        files = values / HALF_HOURS_PER_UTC_DAY / max(scenario.messages.days_per_message, 1) / messages_per_file
        by_output["if021"] = values * IF021_BYTES_PER_VALUE + files * FILE_OVERHEAD_BYTES
    if "if041" in outputs:
        by_output["if041"] = if041_messages * IF041_BYTES_PER_MESSAGE
    parquet_per_value = CONSUMPTION_PARQUET_BYTES_PER_VALUE[0] + CONSUMPTION_PARQUET_BYTES_PER_VALUE[1] * min(days, 365) / 365
    tables = {"parquet": (parquet_per_value, READ_PARQUET_BYTES, METER_PARQUET_BYTES, AGGREGATE_PARQUET_BYTES),
              "csv": (CONSUMPTION_CSV_BYTES_PER_VALUE, READ_CSV_BYTES, METER_CSV_BYTES, AGGREGATE_CSV_BYTES)}
    for fmt, (per_value, per_read, per_meter, _) in tables.items():
        if fmt in outputs:
            by_output[fmt] = values * per_value + reads * per_read + meters * per_meter
    if "aggregates" in outputs:
        # in the table formats asked for, CSV when none is
        formats = [f for f in tables if f in outputs] or ["csv"]
        by_output["aggregates"] = sum(aggregate_rows * tables[f][3] for f in formats)

    chunk = min(effective_chunk_size(chunk_size, days), meters)
    memory = (BASE_MEMORY_BYTES + chunk * days * HALF_HOURS_PER_UTC_DAY * CHUNK_MEMORY_BYTES_PER_METER_HALF_HOUR
              + meters * MEMORY_BYTES_PER_METER + days * MEMORY_BYTES_PER_DAY)
    return Estimate(meters, days, values, {k: round(v) for k, v in by_output.items()}, round(memory))


def check_budget(
    scenario: Scenario,
    out: str | os.PathLike[str],
    allow_large: bool = False,
    *,
    chunk_size: int = 500,
    max_output_bytes: int | None = None,
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
    est = estimate(scenario, chunk_size)
    if allow_large:
        return est
    limit = max_output_bytes if max_output_bytes is not None else _max_output_from_environment()
    advice = "make the scenario smaller (meters, dates, outputs) or pass --allow-large"
    if est.output_bytes > limit:
        raise BudgetError(f"{est.describe()}; that is over the {human_bytes(limit)} output limit "
                          f"(set {MAX_OUTPUT_ENV} to change it): {advice}")
    folder = _existing_folder(Path(out).absolute().parent)
    free = shutil.disk_usage(folder).free
    if est.output_bytes > free:
        raise BudgetError(f"{est.describe()}; the file system of {folder} has only {human_bytes(free)} "
                          f"free: {advice}")
    memory = _physical_memory()
    if memory and est.peak_memory_bytes > memory:
        raise BudgetError(f"{est.describe()}; this machine has {human_bytes(memory)} of memory: use a "
                          "smaller --chunk-size or pass --allow-large")
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
