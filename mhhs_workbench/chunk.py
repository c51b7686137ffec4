"""The chunk contract: one stage function over a slice of meters x all the data set's days.

A data set is cut into chunks of consecutive meters. :func:`generate_chunk` builds one chunk alone
from the scenario (or the consumption a user supplied) and the meter slice: the meters, their reported half hours (one row per meter
and measurement quantity, in message order), quality and reason codes as small integer indices,
and their register reads as columns. Every later stage (IF-021 and IF-041 writers, tables,
aggregates) takes the whole chunk. Because every random draw is keyed by ``(seed, meter)``, a
chunk is the same whichever process builds it and whatever the chunk size.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from .messages.addressing import message_counts, supplied_message_counts
from .messages.codes import MEASUREMENT_QUANTITY_IDS, QUALITY_CODES
from .population import (
    ADVANCED,
    build_population,
    drop_spells_before_install,
    first_reported_days,
    meter_records,
    supplied_population,
)
from .profiles import consumption, economy7_night_mask
from .profiles.economy7 import window_indices, window_masks
from .quality import NO_SPELL, REPORTED_QUALITY_CODES, QualityPlan, apply_quality, plan_meters
from .readings import UNMETERED_CONNECTION, chunk_reads
from .revisions import Revisions, recover_faults
from .scenario import Scenario
from .settlement_time import (
    PERIODS_PER_UTC_DAY,
    day_range,
    format_utc,
    utc_period_ends,
    utc_to_local,
)
from .supplied import SuppliedConsumption

MQIDS = MEASUREMENT_QUANTITY_IDS


@dataclass(frozen=True)
class DatasetFrame:
    """What every chunk of one data set shares: the scenario and its time axis.

    Small and picklable, so it travels to workers once.

    Attributes
    ----------
    scenario : Scenario
        The data set description.
    temperature : pandas.Series or None
        The scenario's daily temperatures [°C], read once before anything is written.
    supplied : SuppliedConsumption or None
        Consumption the user supplied; its meters and days replace the scenario's fleet and dates.
    """

    scenario: Scenario
    temperature: pd.Series | None = None
    supplied: SuppliedConsumption | None = None

    @cached_property
    def days(self) -> np.ndarray:
        """The data set's consecutive UTC settlement days, datetime64[D]."""
        if self.supplied is not None:
            return self.supplied.days
        return day_range(self.scenario.start_date, self.scenario.end_date)

    @property
    def n_meters(self) -> int:
        """Meters in the data set."""
        return self.supplied.n_meters if self.supplied is not None else self.scenario.meters.count

    @property
    def quality_codes(self) -> tuple[str, ...]:
        """``q`` text of each quality index the chunks use."""
        return QUALITY_CODES if self.supplied is not None else REPORTED_QUALITY_CODES

    def message_counts(self, start: int, stop: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Sending role and messages per interface of meters ``start .. stop - 1`` (see
        :func:`~mhhs_workbench.messages.addressing.message_counts`)."""
        if self.supplied is not None:
            return supplied_message_counts(self.scenario, self.supplied, start, stop)
        return message_counts(self.scenario, start, stop)

    @property
    def n_days(self) -> int:
        """Number of UTC days."""
        return int(self.days.size)

    @cached_property
    def period_ends(self) -> np.ndarray:
        """UTC period ends of every half hour, datetime64[m], shape ``(n_days * 48,)``."""
        return utc_period_ends(self.days).ravel()

    @cached_property
    def period_end_text(self) -> np.ndarray:
        """Period ends as the DIP writes them (``2025-10-26T00:30:00+00:00``)."""
        return format_utc(self.period_ends)

    @cached_property
    def local_periods(self) -> tuple[np.ndarray, np.ndarray]:
        """Local settlement date (datetime64[D]) and period (1-50) of every half hour."""
        return utc_to_local(self.period_ends)

    @cached_property
    def night(self) -> np.ndarray:
        """Half hours of the standard Economy 7 window, bool, shape ``(n_days * 48,)``."""
        return economy7_night_mask(self.period_ends)

    def night_masks(self, meters: pd.DataFrame) -> np.ndarray:
        """Each meter's own Economy 7 night half hours, bool, ``(n_meters, n_days * 48)``.

        From the meter register's ``economy7_window``; meters without one get the standard
        window (their registers do not split).
        """
        return window_masks(window_indices(meters["economy7_window"].to_numpy()), self.period_ends)

    def __getstate__(self) -> dict:
        # derived arrays are cheap to rebuild; ship only the inputs
        return {"scenario": self.scenario, "temperature": self.temperature, "supplied": self.supplied}

    def __setstate__(self, state: dict) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)


@dataclass(frozen=True, eq=False)
class Chunk:
    """A slice of meters with everything the writers need, as whole arrays.

    Attributes
    ----------
    index : int
        Chunk number (0-based) in the data set.
    meters : pandas.DataFrame
        The meters' rows of the population (see :data:`~mhhs_workbench.population.METER_COLUMNS`).
    row_meter : numpy.ndarray of int64
        For each value row, the position of its meter in ``meters``; rows are meter-major.
    row_mqid : numpy.ndarray of int8
        For each value row, its measurement quantity as an index into :data:`MQIDS` (AI, AE with
        PV, then RI and RE for advanced meters).
    values : numpy.ndarray of int64, shape ``(n_rows, n_days * 48)``
        Reported energy per UTC half hour [Wh] (reactive [varh]).
    quality : numpy.ndarray of int8, same shape
        ``q`` as an index into the frame's :attr:`~DatasetFrame.quality_codes`.
    reasons : numpy.ndarray of int8, same shape
        ``e`` as a DI-076 number, 0 for none.
    plan : QualityPlan
        The meters' imperfections (one row per meter).
    reads : dict of str to list
        Register reads as columns of :data:`~mhhs_workbench.readings.READ_COLUMNS`, in message order.
    revisions : Revisions or None
        Value rows whose days are sent twice, with what was first sent (``values``, ``quality``
        and ``reasons`` above are each day's final, latest version).
    """

    index: int
    meters: pd.DataFrame
    row_meter: np.ndarray
    row_mqid: np.ndarray
    values: np.ndarray
    quality: np.ndarray
    reasons: np.ndarray
    plan: QualityPlan
    reads: dict[str, list] = field(default_factory=dict)
    revisions: Revisions | None = None

    @property
    def n_meters(self) -> int:
        """Meters in the chunk."""
        return len(self.meters)

    @cached_property
    def meter_records(self) -> list[tuple]:
        """The meters as named tuples (attribute per column), built once per chunk."""
        return meter_records(self.meters)


#: Most half-hourly values one chunk holds: long date ranges take fewer meters at once, so a
#: chunk's memory is bounded whatever the days (output bytes never depend on chunking).
MAX_CHUNK_VALUES = 1_000_000


def effective_chunk_size(chunk_size: int, n_days: int) -> int:
    """Meters per chunk: ``chunk_size``, fewer if that would exceed :data:`MAX_CHUNK_VALUES`."""
    if chunk_size < 1:
        raise ValueError(f"chunk size must be at least 1, got {chunk_size}")
    return max(1, min(chunk_size, MAX_CHUNK_VALUES // max(1, n_days * 48)))


def chunk_bounds(n_meters: int, chunk_size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` global meter indices of each chunk."""
    if chunk_size < 1:
        raise ValueError(f"chunk size must be at least 1, got {chunk_size}")
    return [(s, min(s + chunk_size, n_meters)) for s in range(0, n_meters, chunk_size)]


def value_rows(meters: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Which value rows a set of meters has: ``(row_meter, row_mqid)`` in message order."""
    archetype = meters["archetype"].to_numpy()
    pv = meters["pv_kwp"].to_numpy() > 0
    advanced = np.isin(archetype, ADVANCED)
    has = np.stack([np.ones(len(meters), dtype=bool), pv, advanced, advanced], axis=1)  # AI AE RI RE
    row_meter, row_mqid = np.nonzero(has)
    return row_meter.astype(np.int64), row_mqid.astype(np.int8)


def generate_chunk(frame: DatasetFrame, index: int, start: int, stop: int, *, with_reads: bool = True) -> Chunk:
    """Build chunk ``index`` holding meters ``start .. stop - 1``.

    Parameters
    ----------
    frame : DatasetFrame
        The data set's scenario (or supplied consumption) and time axis.
    index : int
        Chunk number.
    start, stop : int
        Global meter indices of the slice.
    with_reads : bool
        Integrate register reads (needed for IF-041 and the readings table).

    Raises
    ------
    RegisterCapacityError
        A register would roll over more than once between two reads (message names the MPAN).
    """
    if frame.supplied is not None:
        meters, row_meter, row_mqid, values, quality, reasons, plan = _supplied_parts(frame, start, stop)
        revisions = None
    else:
        meters, row_meter, row_mqid, values, quality, reasons, plan, revisions = _generated_parts(frame, start, stop)
    chunk = Chunk(index, meters, row_meter, row_mqid, values, quality, reasons, plan, revisions=revisions)
    return attach_reads(frame, chunk) if with_reads else chunk


def attach_reads(frame: DatasetFrame, chunk: Chunk) -> Chunk:
    """The chunk with its register reads, integrated from its reported import (AI) rows and, on
    export MPANs, its active export (AE) rows."""
    # one AI row per meter that has one, in meter order; -1 marks a meter without import
    import_wh = np.full((chunk.n_meters, frame.n_days * 48), -1, dtype=np.int64)
    ai = np.flatnonzero(chunk.row_mqid == MQIDS.index("AI"))
    import_wh[chunk.row_meter[ai]] = chunk.values[ai]
    # AE rows sent on a site's export MPAN feed its export register; -1 for a site without one
    export_wh = np.full_like(import_wh, -1)
    has_export = (chunk.meters["export_mpan"].to_numpy() != "")[chunk.row_meter]
    ae = np.flatnonzero((chunk.row_mqid == MQIDS.index("AE")) & has_export)
    export_wh[chunk.row_meter[ae]] = chunk.values[ae]
    # an MPAN that only exports (a supplied export MPAN, kept as given) registers its own export
    only_export = np.flatnonzero((chunk.row_mqid == MQIDS.index("AE")) & ~has_export)
    only_export = only_export[import_wh[chunk.row_meter[only_export], 0] < 0]
    import_wh[chunk.row_meter[only_export]] = chunk.values[only_export]
    reads = chunk_reads(chunk.meters, import_wh, chunk.plan, frame.days, frame.night_masks(chunk.meters),
                        schedule=frame.scenario.readings.schedule, reported_export_wh=export_wh)
    return dataclasses.replace(chunk, reads=reads)


def _generated_parts(frame: DatasetFrame, start: int, stop: int) -> tuple:
    """A generated fleet's meters, consumption and imperfections."""
    scenario = frame.scenario
    meters = build_population(scenario, start, stop)
    result = consumption(meters, frame.days, scenario.seed, temperature=frame.temperature)
    metered = (meters["connection_type"] != UNMETERED_CONNECTION).to_numpy()
    plan = plan_meters(scenario.data_quality, scenario.seed, meters["meter_index"].to_numpy(), frame.days, metered)
    first_day = first_reported_days(meters, frame.days)
    install_day = np.where(first_day > 0, first_day, -1)
    spells = drop_spells_before_install(
        (plan.deenergised_first, plan.deenergised_days, plan.comms_first, plan.comms_days), install_day)
    plan = QualityPlan(*spells, plan.missing, plan.invalid)

    row_meter, row_mqid = value_rows(meters)
    by_mqid = (result.import_wh, result.export_wh, result.reactive_import_varh, result.reactive_export_varh)
    true_values = np.empty((row_meter.size, frame.n_days * 48), dtype=np.int64)
    for m, array in enumerate(by_mqid):
        sel = row_mqid == m
        true_values[sel] = array[row_meter[sel]]
    row_plan = QualityPlan(*(getattr(plan, f)[row_meter] for f in QualityPlan.__dataclass_fields__))
    advanced = np.isin(meters["archetype"].to_numpy(), ADVANCED)
    (values,), quality, reasons = apply_quality(row_plan, [true_values], metered[row_meter],
                                                advanced=advanced[row_meter],
                                                first_period=first_day[row_meter] * PERIODS_PER_UTC_DAY)
    if first_day.any():  # a meter installed inside the range measures nothing before its install day
        before = np.arange(values.shape[1])[None, :] < (first_day[row_meter] * PERIODS_PER_UTC_DAY)[:, None]
        values[before], quality[before], reasons[before] = 0, 0, 0
    # recovered faults end with the measured values; what was first sent is kept for the messages
    revisions = recover_faults(scenario, frame.days, meters, row_meter, (plan.comms_first, plan.comms_days),
                               first_day, true_values, values, quality, reasons)
    return meters, row_meter, row_mqid, values, quality, reasons, plan, revisions


def _supplied_parts(frame: DatasetFrame, start: int, stop: int) -> tuple:
    """Supplied meters and their values as given: no spells, no imperfections added."""
    supplied = frame.supplied
    meters = supplied_population(frame.scenario, supplied, start, stop)
    rows = supplied.rows_of(start, stop)
    n, t = stop - start, frame.n_days * 48
    none = np.full(n, NO_SPELL, dtype=np.int64)
    zeros = np.zeros(n, dtype=np.int64)
    plan = QualityPlan(none, zeros, none, zeros, np.zeros((n, t), dtype=bool), np.zeros((n, t), dtype=bool))
    return (meters, supplied.row_meter[rows] - start, supplied.row_mqid[rows], supplied.values[rows],
            supplied.quality[rows], supplied.reasons[rows], plan)
