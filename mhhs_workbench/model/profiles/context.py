"""Meter-independent inputs of a generation run, computed once and reused across chunks.

A data set is generated chunk by chunk over the same days; everything that does not depend on
the meters (the time grid of the whole years, daily temperature, each archetype's basis rows,
PV and heat-pump rows) is cached here, keyed by the years, the date range and a fingerprint of
the temperature series. Cached arrays are read-only.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mhhs_workbench.codes.archetypes import ArchetypeSpec
from mhhs_workbench.model.profiles.lighting import lighting_basis
from mhhs_workbench.model.profiles.overlays import heat_pump_basis, heat_pump_daily, pv_basis
from mhhs_workbench.model.profiles.shapes import base_basis
from mhhs_workbench.model.profiles.timegrid import TimeGrid, consecutive_days, years_grid
from mhhs_workbench.model.profiles.weather import daily_temperature
from mhhs_workbench.time.periods import (
    CLOCK_SLOTS_PER_DAY,
    PERIODS_PER_UTC_DAY,
    as_days,
    profile_day_types,
)

_MAX_YEAR_CONTEXTS = 4
_lock = threading.Lock()
_contexts: OrderedDict[tuple, YearContext] = OrderedDict()


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@dataclass
class _Memo:
    """A small thread-safe memo: compute a value once per key, keep the latest ``maxsize``."""

    maxsize: int = 64
    values: OrderedDict = field(default_factory=OrderedDict)

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        with _lock:
            if key in self.values:
                self.values.move_to_end(key)
                return self.values[key]
        value = make()
        with _lock:
            value = self.values.setdefault(key, value)
            while len(self.values) > self.maxsize:
                self.values.popitem(last=False)
            return value


@dataclass
class YearContext:
    """The whole calendar years around a request: grid, temperature and basis rows.

    Attributes
    ----------
    grid : TimeGrid
        Every half hour of the years.
    temperature_c : numpy.ndarray
        Daily mean temperature [°C] of each of ``grid.local_day_list``.
    year_of_day : numpy.ndarray of int64
        Calendar year of each UTC day of ``grid``.
    years : numpy.ndarray of int64
        The distinct years.
    year_bounds : list of (int, int)
        First and one-past-last day index of each year in ``grid.days``.
    """

    grid: TimeGrid
    temperature_c: np.ndarray
    year_of_day: np.ndarray
    years: np.ndarray
    year_bounds: list[tuple[int, int]]
    memo: _Memo = field(default_factory=_Memo)
    ranges: _Memo = field(default_factory=lambda: _Memo(maxsize=4))

    def archetype_basis(self, spec: ArchetypeSpec, where: str) -> tuple[np.ndarray, np.ndarray]:
        """Basis rows over the years and their UTC-day sums, for a nation or GSP group.

        Returns
        -------
        basis : numpy.ndarray, shape ``(k, n_periods)``
        day_sums : numpy.ndarray, shape ``(k, n_days)``
        """

        def make() -> tuple[np.ndarray, np.ndarray]:
            if spec.noise_class == "none":
                basis = lighting_basis(self.grid, where)
            else:
                basis = base_basis(spec.profile_class, self.grid, where, self.temperature_c)
            k = basis.shape[0]
            sums = basis.reshape(k, self.grid.n_days, PERIODS_PER_UTC_DAY).sum(axis=2)
            return _readonly(basis), _readonly(sums)

        return self.memo.get(("basis", spec.name, where), make)

    def utc_day_types(self, nation: str) -> np.ndarray:
        """Profile day type (0 weekday, 1 Saturday, 2 Sunday or bank holiday) of each UTC day."""
        return self.memo.get(
            ("day_types", nation),
            lambda: _readonly(profile_day_types(self.grid.days, nation)),
        )

    def heat_pump_year_totals(self) -> np.ndarray:
        """Sum over each year's local days of the relative daily heat-pump energy [-]."""

        def make() -> np.ndarray:
            daily = heat_pump_daily(self.temperature_c)
            ld_year = self.grid.local_day_list.astype("datetime64[Y]").astype(np.int64) + 1970
            return _readonly(np.array([daily[ld_year == y].sum() for y in self.years]))

        return self.memo.get(("hp_totals",), make)

    def range(self, first: np.datetime64, last: np.datetime64) -> RangeContext:
        """The requested days within these years."""
        return self.ranges.get((first, last), lambda: RangeContext(self, first, last))


class RangeContext:
    """The requested consecutive UTC days, as a slice of a :class:`YearContext`."""

    def __init__(self, years: YearContext, first: np.datetime64, last: np.datetime64) -> None:
        self.years = years
        self.grid = years.grid.sub(first, last)
        self.d0 = int((self.grid.days[0] - years.grid.days[0]).astype(np.int64))
        self.n_days = self.grid.n_days
        self.year_index = _readonly(
            np.searchsorted(years.years, years.year_of_day[self.d0 : self.d0 + self.n_days])
        )
        self.day_numbers = _readonly(self.grid.days.astype(np.int64))
        self.memo = _Memo()

    def basis(self, spec: ArchetypeSpec, where: str) -> np.ndarray:
        """Basis rows over the requested days (contiguous copy of the years' rows)."""

        def make() -> np.ndarray:
            full, _ = self.years.archetype_basis(spec, where)
            s0 = self.d0 * PERIODS_PER_UTC_DAY
            return _readonly(np.ascontiguousarray(full[:, s0 : s0 + self.grid.n_periods]))

        return self.memo.get(("basis", spec.name, where), make)

    def operating_keys(self, nation: str) -> np.ndarray:
        """``day type * 48 + local clock slot`` of every requested half hour (see ``operating``)."""

        def make() -> np.ndarray:
            types = profile_day_types(self.grid.local_day_list, nation)[self.grid.local_day_index]
            return _readonly(types * CLOCK_SLOTS_PER_DAY + self.grid.local_slots)

        return self.memo.get(("operating", nation), make)

    def pv(self, gsp_group: str) -> np.ndarray:
        """PV rows of a GSP group over the requested days [kW/kWp]."""
        return self.memo.get(("pv", gsp_group), lambda: _readonly(pv_basis(self.grid, gsp_group)))

    def heat_pump(self) -> tuple[np.ndarray, np.ndarray]:
        """Heat-pump rows over the requested days and each period's yearly normaliser."""

        def make() -> tuple[np.ndarray, np.ndarray]:
            y = self.years
            lookup = np.searchsorted(y.grid.local_day_list, self.grid.local_day_list)
            basis = heat_pump_basis(self.grid, y.temperature_c[lookup])
            norm = np.repeat(y.heat_pump_year_totals()[self.year_index], PERIODS_PER_UTC_DAY)
            return _readonly(basis), _readonly(norm)

        return self.memo.get(("hp",), make)


def temperature_fingerprint(temperature: pd.Series | None) -> str:
    """A short digest identifying a temperature series (``'synthetic'`` for None)."""
    if temperature is None or len(temperature) == 0:
        return "synthetic"
    h = hashlib.sha1()
    h.update(as_days(pd.DatetimeIndex(temperature.index)).astype(np.int64).tobytes())
    h.update(np.asarray(temperature.to_numpy(), dtype=np.float64).tobytes())
    return h.hexdigest()


def run_context(days, temperature: pd.Series | None = None) -> RangeContext:
    """Context for consecutive UTC ``days`` (reused while the years and temperature match).

    Raises
    ------
    ValueError
        If the days are not consecutive.
    """
    d = consecutive_days(days)
    y0 = int(d[0].astype("datetime64[Y]").astype(np.int64)) + 1970
    y1 = int(d[-1].astype("datetime64[Y]").astype(np.int64)) + 1970
    key = (y0, y1, temperature_fingerprint(temperature))
    with _lock:
        ctx = _contexts.get(key)
        if ctx is not None:
            _contexts.move_to_end(key)
    if ctx is None:
        grid = years_grid(d)
        year_of_day = grid.days.astype("datetime64[Y]").astype(np.int64) + 1970
        years = np.unique(year_of_day)
        bounds = [
            (int(np.searchsorted(year_of_day, y)), int(np.searchsorted(year_of_day, y, "right")))
            for y in years
        ]
        temps = daily_temperature(grid.local_day_list, temperature)
        ctx = YearContext(grid, _readonly(temps), _readonly(year_of_day), years, bounds)
        with _lock:
            _contexts[key] = ctx
            while len(_contexts) > _MAX_YEAR_CONTEXTS:
                _contexts.popitem(last=False)
    return ctx.range(d[0], d[-1])
