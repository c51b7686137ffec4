"""The half-hour grid a generation run works on: UTC periods and their local clock view.

People live by the local clock, so every shape in the model is indexed by the **local clock
slot** of a period (0 = 00:00-00:30 local, ..., 47 = 23:30-24:00) and the **local date** it
belongs to. On the March clock-change day the slots of 01:00-02:00 are skipped; on the October
one they occur twice, exactly as the clock on the wall behaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from mhhs_workbench.time.periods import (
    CLOCK_SLOTS_PER_DAY,
    LOCAL_TZ,
    MAX_LOCAL_PERIODS,
    MIN_LOCAL_PERIODS,
    PERIOD,
    PERIODS_PER_UTC_DAY,
    as_days,
    local_period_counts,
    profile_day_types,
    seasons,
    utc_period_ends,
)


@dataclass(frozen=True)
class TimeGrid:
    """UTC settlement days and the local view of each of their half hours.

    Attributes
    ----------
    days : numpy.ndarray of datetime64[D], shape ``(n_days,)``
        Consecutive UTC settlement days.
    period_ends : numpy.ndarray of datetime64[m], shape ``(n_days * 48,)``
        Period ends [UTC].
    local_dates : numpy.ndarray of datetime64[D], shape ``(n_periods,)``
        Local (Europe/London) date each period belongs to.
    local_slots : numpy.ndarray of int64, shape ``(n_periods,)``
        Local clock slot 0-47 of each period (start of the period on the local clock // 30 min).
    utc_offset_min : numpy.ndarray of int64, shape ``(n_periods,)``
        Local clock minus UTC at the period start [minutes]: 0 (GMT) or 60 (BST).
    """

    days: np.ndarray
    period_ends: np.ndarray
    local_dates: np.ndarray
    local_slots: np.ndarray
    utc_offset_min: np.ndarray

    @classmethod
    def build(cls, days) -> TimeGrid:
        """Grid of the given UTC days, which must be consecutive and increasing.

        Raises
        ------
        ValueError
            If no days are given or they are not consecutive.
        """
        d = consecutive_days(days)
        ends = utc_period_ends(d).ravel()
        starts = (ends - PERIOD).astype("datetime64[ns]")
        local = pd.DatetimeIndex(starts).tz_localize("UTC").tz_convert(LOCAL_TZ)
        naive = local.tz_localize(None).values.astype("datetime64[m]")
        offset = (naive - starts.astype("datetime64[m]")).astype(np.int64)
        local_dates = naive.astype("datetime64[D]")
        minutes = (naive - local_dates.astype("datetime64[m]")).astype(np.int64)
        return cls(
            days=d,
            period_ends=ends,
            local_dates=local_dates,
            local_slots=minutes // 30,
            utc_offset_min=offset,
        )

    def sub(self, first: np.datetime64, last: np.datetime64) -> TimeGrid:
        """The part of this grid covering UTC days ``first`` to ``last`` inclusive."""
        sl = self.day_slice(first, last)
        i0 = sl.start // PERIODS_PER_UTC_DAY
        i1 = sl.stop // PERIODS_PER_UTC_DAY
        return TimeGrid(
            days=self.days[i0:i1],
            period_ends=self.period_ends[sl],
            local_dates=self.local_dates[sl],
            local_slots=self.local_slots[sl],
            utc_offset_min=self.utc_offset_min[sl],
        )

    @property
    def n_days(self) -> int:
        """Number of UTC days."""
        return int(self.days.size)

    @property
    def n_periods(self) -> int:
        """Number of half hours (48 per UTC day)."""
        return int(self.period_ends.size)

    @cached_property
    def utc_slots(self) -> np.ndarray:
        """UTC slot 0-47 of each period within its UTC day."""
        return np.tile(np.arange(PERIODS_PER_UTC_DAY), self.n_days)

    @cached_property
    def local_day_list(self) -> np.ndarray:
        """The distinct local dates touched by the grid, sorted (datetime64[D])."""
        return np.unique(self.local_dates)

    @cached_property
    def local_day_index(self) -> np.ndarray:
        """Index of each period's local date in :attr:`local_day_list`."""
        return np.searchsorted(self.local_day_list, self.local_dates)

    @cached_property
    def local_seasons(self) -> np.ndarray:
        """Elexon season (0 Wtr ... 4 Aut) of each local date in :attr:`local_day_list`."""
        return seasons(self.local_day_list)

    def local_columns(self, nation: str) -> np.ndarray:
        """Profile column ``season * 3 + day type`` of each period for a nation's holidays.

        Day types are 0 weekday, 1 Saturday, 2 Sunday, with bank holidays as Sunday.
        """
        dt = profile_day_types(self.local_day_list, nation)
        return (self.local_seasons * 3 + dt)[self.local_day_index]

    def day_slice(self, first: np.datetime64, last: np.datetime64) -> slice:
        """Slice of periods covering UTC days ``first`` to ``last`` inclusive."""
        i0 = int((np.datetime64(first, "D") - self.days[0]).astype(np.int64))
        i1 = int((np.datetime64(last, "D") - self.days[0]).astype(np.int64)) + 1
        return slice(i0 * PERIODS_PER_UTC_DAY, i1 * PERIODS_PER_UTC_DAY)


def consecutive_days(days) -> np.ndarray:
    """Days as ``datetime64[D]``, checked to be non-empty, consecutive and increasing.

    Raises
    ------
    ValueError
        If there are no days or they are not consecutive.
    """
    d = as_days(days)
    if d.size == 0:
        raise ValueError("no settlement days given")
    if d.size > 1 and np.any(np.diff(d).astype(np.int64) != 1):
        gap = int(np.flatnonzero(np.diff(d).astype(np.int64) != 1)[0])
        raise ValueError(
            f"settlement days must be consecutive and increasing: {d[gap]} is followed by "
            f"{d[gap + 1]}; generate separate ranges separately"
        )
    return d


def years_grid(days: np.ndarray) -> TimeGrid:
    """Grid of the whole calendar years (of UTC days) that contain ``days``."""
    d = as_days(days)
    y0 = d.min().astype("datetime64[Y]")
    y1 = d.max().astype("datetime64[Y]") + 1
    return TimeGrid.build(np.arange(y0.astype("datetime64[D]"), y1.astype("datetime64[D]")))


def local_slot_multiplicity(local_dates: np.ndarray) -> np.ndarray:
    """How many times each local clock slot occurs on each local date.

    Parameters
    ----------
    local_dates : array of datetime64[D]
        Local dates.

    Returns
    -------
    numpy.ndarray of int64, shape ``(n_dates, 48)``
        1 on ordinary days; on the March change day slots 2-3 (01:00-02:00) occur 0 times, on
        the October change day twice.
    """
    counts = local_period_counts(as_days(local_dates))
    out = np.ones((counts.size, CLOCK_SLOTS_PER_DAY), dtype=np.int64)
    out[counts == MIN_LOCAL_PERIODS, 2:4] = 0
    out[counts == MAX_LOCAL_PERIODS, 2:4] = 2
    return out
