"""The chunk contract: one stage function over a slice of meters x all the data set's days.

A data set is cut into chunks of consecutive meters. :func:`generate_chunk` builds one chunk alone
from the scenario (or the consumption a user supplied) and the meter slice: the meters, their reported half hours (one row per meter
and measurement quantity, in message order), quality and reason codes as small integer indices,
and their register reads as columns. Every later stage (IF-021 and IF-041 writers, tables,
aggregates) takes the whole chunk. Because every random draw is keyed by ``(seed, meter)``, a
chunk is the same whichever process builds it and whatever the chunk size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from mhhs_workbench.codes.messages import MEASUREMENT_QUANTITY_IDS, QUALITY_CODES
from mhhs_workbench.model.population import (
    ADVANCED,
    meter_records,
)
from mhhs_workbench.model.profiles import economy7_night_mask
from mhhs_workbench.model.profiles.economy7 import window_indices, window_masks
from mhhs_workbench.model.quality import (
    REPORTED_QUALITY_CODES,
    QualityPlan,
)
from mhhs_workbench.model.supplied import SuppliedConsumption
from mhhs_workbench.scenario.document import Scenario
from mhhs_workbench.time.periods import (
    PERIODS_PER_UTC_DAY,
    day_range,
    format_utc,
    utc_period_ends,
    utc_to_local,
)

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


@dataclass(frozen=True)
class Revisions:
    """A chunk's value rows whose days are sent twice: estimated first, actual later.

    Attributes
    ----------
    rows : numpy.ndarray of int64
        Chunk value rows re-sent, in row order.
    first_day, n_days : numpy.ndarray of int64
        Per re-sent row, its re-sent days ``[first_day, first_day + n_days)`` (a fault's days).
    batch_day : numpy.ndarray of int64
        Per re-sent row, the day of the send batch that carries the revisions.
    values : numpy.ndarray of int64, shape ``(len(rows), n_days * 48)``
        The rows as first sent [Wh] (the chunk's own arrays hold the final, actual values).
    quality, reasons : numpy.ndarray of int8, same shape
        Their quality index and reason number as first sent.
    """

    rows: np.ndarray
    first_day: np.ndarray
    n_days: np.ndarray
    batch_day: np.ndarray
    values: np.ndarray
    quality: np.ndarray
    reasons: np.ndarray

    @classmethod
    def none(cls, n_periods: int) -> Revisions:
        """No re-sent rows."""
        empty = np.zeros(0, dtype=np.int64)
        table = np.zeros((0, n_periods), dtype=np.int8)
        return cls(empty, empty, empty, empty, np.zeros((0, n_periods), dtype=np.int64), table, table)


@dataclass(frozen=True, eq=False)
class Chunk:
    """A slice of meters with everything the writers need, as whole arrays.

    Attributes
    ----------
    index : int
        Chunk number (0-based) in the data set.
    meters : pandas.DataFrame
        The meters' rows of the population (see :data:`~mhhs_workbench.model.population.METER_COLUMNS`).
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
        Register reads as columns of :data:`~mhhs_workbench.model.readings.READ_COLUMNS`, in message order.
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
    return max(1, min(chunk_size, MAX_CHUNK_VALUES // max(1, n_days * PERIODS_PER_UTC_DAY)))


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


