"""Archetype shapes: the calibrated average daily load per season x day type, in local time.

Each profile class has 15 daily shapes (5 Elexon seasons x weekday / Saturday / Sunday-or-bank-
holiday), each an 8-harmonic Fourier series over the local clock slots, in **relative power**
units: the class's mean power over a year is 1. Economy 7 classes add a night-circuit component
that lives in the switched window, described by a cubic Bernstein polynomial (non-negative
coefficients, so each season's term is never negative) over the 14 half hours of the window; it
was fitted in the standard window, 00:30-07:30 **GMT** all year (01:30-08:30 on the summer
clock), and is laid over each meter's own window (:mod:`.economy7`) in the basis.

The 15 shapes are season **averages**. The generator does not switch from one to the next at a
season boundary (a fleet's demand would jump by a quarter on the day of the October clock
change); it blends anchor shapes smoothly by day of year (:mod:`.season_blend`), solved so that
each season's average is still the calibrated table.

The generator evaluates the shapes into a small **basis** (rows x half hours, shared by every
meter of an archetype and nation); a meter's expected load is a weighted sum of the rows (see
:mod:`mhhs_workbench.model.profiles.individuality`):

* rows 0-6: the average day-time shape delayed by -1.5 h ... +1.5 h (30-minute steps), for
  households that get up and go to bed earlier or later than average;
* row 7: a flat line at the column's mean, mixed in for sites with more always-on load;
* rows 8-11: the column mean times cos/sin of one and two cycles a day, which tilt the day
  toward morning, afternoon or evening use without changing the daily energy;
* rows 12-17: the night-circuit component laid over each switching window of
  :data:`~.economy7.WINDOWS` (Economy 7 only; zero otherwise). A meter weighs only its own
  window's row.

All rows are multiplied by the day's temperature factor (the anomaly of the daily temperature
from its climatology times the class's sensitivity) and quantised to multiples of 2**-24, so
that a meter's weighted sum is exact in floating point whatever the order of summation (and
therefore identical whatever chunk of meters it is computed in).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import comb

import numpy as np
import pandas as pd

from mhhs_workbench.codes.archetypes import archetype_spec
from mhhs_workbench.model.profiles import fourier
from mhhs_workbench.model.profiles.economy7 import (
    STANDARD_WINDOW,
    WINDOW_SLOTS,
    WINDOWS,
    slot_positions,
)
from mhhs_workbench.model.profiles.parameters import class_parameters
from mhhs_workbench.model.profiles.reference import PROFILE_COLUMNS, profile_class_of
from mhhs_workbench.model.profiles.season_blend import N_SEASONS, anchor_values, season_weights
from mhhs_workbench.model.profiles.timegrid import TimeGrid
from mhhs_workbench.model.profiles.weather import climatology
from mhhs_workbench.time.periods import CLOCK_SLOTS_PER_DAY, profile_day_types

#: Delays of the shifted day-time shapes [half hours].
SHIFT_STEPS: tuple[int, ...] = (-3, -2, -1, 0, 1, 2, 3)
ROW_FLAT = len(SHIFT_STEPS)
ROW_HARMONICS = ROW_FLAT + 1
N_HARMONIC_ROWS = 4
#: First night-circuit row (the standard window); window k's row is ``ROW_NIGHT + k``.
ROW_NIGHT = ROW_HARMONICS + N_HARMONIC_ROWS
N_BASE_ROWS = ROW_NIGHT + len(WINDOWS)

#: Standard Economy 7 window: starts at this UTC (= GMT) slot, 00:30, and lasts 14 half hours
#: (7 hours); the calibration fits the night term there.
NIGHT_START_UTC_SLOT = 1
NIGHT_SLOTS = WINDOW_SLOTS

#: Temperature factor limits [-]: a very cold or hot day at most scales load by these.
TEMPERATURE_FACTOR_RANGE = (0.5, 1.6)

#: Lowest day-time shape value (relative power): a fitted series never quite reaches zero load.
MIN_DAY_LOAD = 0.02

#: Basis values are multiples of this, so weighted sums of them are exact (see module notes).
BASIS_QUANTUM = 2.0**-24


def quantise(values: np.ndarray, quantum: float) -> np.ndarray:
    """Round to multiples of ``quantum`` (a power of two)."""
    return np.round(np.asarray(values, dtype=np.float64) / quantum) * quantum


def night_basis(terms: int) -> np.ndarray:
    """Bernstein basis polynomials over the 14 half hours of the Economy 7 window.

    Returns
    -------
    numpy.ndarray, shape ``(14, terms)``
        Non-negative basis values; a combination with non-negative coefficients is non-negative.
    """
    x = np.linspace(0.0, 1.0, NIGHT_SLOTS)
    deg = terms - 1
    return np.stack([comb(deg, q) * x**q * (1 - x) ** (deg - q) for q in range(terms)], axis=1)


@dataclass(frozen=True)
class ClassTables:
    """A profile class's shapes evaluated on the 48 local clock slots (relative power).

    Attributes
    ----------
    day : numpy.ndarray, shape ``(len(SHIFT_STEPS), 15, 48)``
        Day-time shape of each column (the season average), delayed by each shift.
    mean : numpy.ndarray, shape ``(15,)``
        Mean of each column's day-time shape.
    night : numpy.ndarray, shape ``(15, 14)``
        Night-circuit component over the window (zeros unless Economy 7).
    beta_day, beta_night : float
        Load change per °C colder than normal [1/°C].
    anchor_day, anchor_mean, anchor_night : numpy.ndarray
        As ``day``, ``mean`` and ``night``, for the anchor shapes the generator blends by day of
        year (:mod:`.season_blend`); their blend averages to ``day`` etc. over each season.
    """

    day: np.ndarray
    mean: np.ndarray
    night: np.ndarray
    beta_day: float
    beta_night: float
    anchor_day: np.ndarray
    anchor_mean: np.ndarray
    anchor_night: np.ndarray


@lru_cache(maxsize=16)
def class_tables(profile_class: int) -> ClassTables:
    """Evaluate the calibrated shapes of a profile class (cached)."""
    p = class_parameters(profile_class)
    coefs = np.array([p["columns"][c] for c in PROFILE_COLUMNS], dtype=np.float64)
    night_coef = np.zeros((len(PROFILE_COLUMNS), 1))
    if "night" in p:
        night_coef = np.array([p["night"][c] for c in PROFILE_COLUMNS], dtype=np.float64)
    night_scale = float(p.get("night_scale", 1.0))
    day, night = _evaluate(coefs, night_coef, night_scale, clip=True)
    # day-time anchors are clipped only once blended: a negative dip of one anchor is made up
    # by its neighbour, and clipping it first would bias the season averages
    anchor_coefs = anchor_values(coefs)
    anchor_day, _ = _evaluate(anchor_coefs, night_coef, night_scale, clip=False)
    # exact night anchors: their blend can dip a little below zero at the window's ends on a
    # few days (under 2 % of the night energy), which the day-time load covers; clipping them
    # would bias the season averages
    anchor_night = anchor_values(night)
    return ClassTables(
        day=day,
        mean=coefs[:, 0].copy(),
        night=night,
        beta_day=float(p["temperature_sensitivity"]),
        beta_night=float(p.get("night_temperature_sensitivity", 0.0)),
        anchor_day=anchor_day,
        anchor_mean=anchor_coefs[:, 0].copy(),
        anchor_night=anchor_night,
    )


def _evaluate(
    coefs: np.ndarray, night_coef: np.ndarray, night_scale: float, *, clip: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Day-time shapes at every shift ``(7, 15, 48)`` and night terms ``(15, 14)``."""
    slots = np.arange(CLOCK_SLOTS_PER_DAY)
    day = np.stack([fourier.evaluate(coefs, fourier.slot_phase(slots, s)) for s in SHIFT_STEPS])
    night = np.zeros((len(PROFILE_COLUMNS), NIGHT_SLOTS))
    if np.any(night_coef):
        night = night_coef @ night_basis(night_coef.shape[1]).T * night_scale
    if clip:
        day = np.clip(day, MIN_DAY_LOAD, None)
        night = np.clip(night, 0.0, None)
    return day, night


def temperature_factor(days: np.ndarray, temperature_c: np.ndarray, beta: float) -> np.ndarray:
    """Load multiplier for each day from its temperature anomaly.

    Parameters
    ----------
    days : array of datetime64[D]
        Local days.
    temperature_c : array of float
        Daily mean outside temperature [°C].
    beta : float
        Relative load change per °C below the climatological normal [1/°C].

    Returns
    -------
    numpy.ndarray of float
        ``1 + beta * (normal - temperature)``, clipped to :data:`TEMPERATURE_FACTOR_RANGE`.
    """
    lo, hi = TEMPERATURE_FACTOR_RANGE
    return np.clip(1.0 + beta * (climatology(days) - temperature_c), lo, hi)


def base_basis(
    profile_class: int, grid: TimeGrid, nation: str, temperature_c: np.ndarray
) -> np.ndarray:
    """Basis rows of an archetype for every half hour of a grid (see module notes).

    Parameters
    ----------
    profile_class : int
        Elexon profile class 1-8.
    grid : TimeGrid
        Half hours to evaluate.
    nation : str
        Nation whose bank holidays apply (``'ENG'``, ``'WLS'``, ``'SCT'``).
    temperature_c : array of float
        Daily mean temperature [°C] of each of ``grid.local_day_list``.

    Returns
    -------
    numpy.ndarray of float, shape ``(N_BASE_ROWS, grid.n_periods)``
        Relative power, quantised to :data:`BASIS_QUANTUM`.
    """
    t = class_tables(profile_class)
    ld = grid.local_day_index
    slot = grid.local_slots
    # each half hour blends the anchors of the seasons either side of its local day
    weights = season_weights(grid.local_day_list)[ld]  # (n_periods, 5)
    day_type = profile_day_types(grid.local_day_list, nation)[ld]
    tf_day = temperature_factor(grid.local_day_list, temperature_c, t.beta_day)[ld]
    out = np.zeros((N_BASE_ROWS, grid.n_periods), dtype=np.float64)
    mean = np.zeros(grid.n_periods)
    for s in range(N_SEASONS):
        on = np.flatnonzero(weights[:, s] > 0)
        col, w = s * 3 + day_type[on], weights[on, s]
        out[:ROW_FLAT, on] += t.anchor_day[:, col, slot[on]] * w
        mean[on] += t.anchor_mean[col] * w
    np.clip(out[:ROW_FLAT], MIN_DAY_LOAD, None, out=out[:ROW_FLAT])
    out[:ROW_FLAT] *= tf_day
    mean *= tf_day
    out[ROW_FLAT] = mean
    theta = fourier.slot_phase(slot)
    for i, (k, fn) in enumerate(((1, np.cos), (1, np.sin), (2, np.cos), (2, np.sin))):
        out[ROW_HARMONICS + i] = mean * fn(k * theta)
    if np.any(t.anchor_night):
        tf_night = temperature_factor(grid.local_day_list, temperature_c, t.beta_night)[ld]
        positions = slot_positions()[:, grid.utc_slots]  # (windows, n_periods)
        for k in range(len(WINDOWS)):
            inside = np.flatnonzero(positions[k] >= 0)
            j = positions[k, inside]
            night = np.zeros(inside.size)
            for s in range(N_SEASONS):
                col = s * 3 + day_type[inside]
                night += t.anchor_night[col, j] * weights[inside, s]
            out[ROW_NIGHT + k, inside] = night * tf_night[inside]
    return quantise(out, BASIS_QUANTUM)


def window_weights(weights: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Move each Economy 7 meter's night-circuit weight onto its own window's row.

    Parameters
    ----------
    weights : numpy.ndarray, shape ``(n, N_BASE_ROWS)``
        Basis weights with the night-circuit size on the standard window's row.
    windows : array of int, shape ``(n,)``
        Each meter's window (index into :data:`~.economy7.WINDOWS`).

    Returns
    -------
    numpy.ndarray, same shape
        A copy with the size on row ``ROW_NIGHT + window`` and zeros on the other night rows.
    """
    out = weights.copy()
    size = out[:, ROW_NIGHT + STANDARD_WINDOW].copy()
    out[:, ROW_NIGHT:] = 0.0
    out[np.arange(out.shape[0]), ROW_NIGHT + np.asarray(windows, dtype=np.int64)] = size
    return out


def economy7_night_mask(period_ends: np.ndarray) -> np.ndarray:
    """Whether each half hour lies in the standard Economy 7 window, 00:30-07:30 GMT all year.

    The switch follows GMT (= UTC), so on the summer clock the window is 01:30-08:30 local. Each
    meter has its own window (:func:`~.economy7.window_masks`); this is the most common one.

    Parameters
    ----------
    period_ends : array of datetime64
        Period ends [UTC].

    Returns
    -------
    numpy.ndarray of bool, same shape
        True for the 14 half hours ending 01:00 ... 07:30 UTC.
    """
    ends = np.asarray(period_ends, dtype="datetime64[m]")
    minute = (ends - ends.astype("datetime64[D]")).astype(np.int64)
    start = (minute - 30) % 1440
    lo = NIGHT_START_UTC_SLOT * 30
    return (start >= lo) & (start < lo + NIGHT_SLOTS * 30)


def model_column_shapes(archetype_or_class: str | int) -> pd.DataFrame:
    """The model's average daily shape per season x day type, on the local clock.

    This is the calibrated shape before per-meter variation (relative power; a year of it
    averages about 1). Economy 7 night load is placed where the GMT window falls on the local
    clock: slots 1-14 in winter, 3-16 in the summer-time seasons.

    Parameters
    ----------
    archetype_or_class : str or int
        Archetype name or profile class 1-8.

    Returns
    -------
    pandas.DataFrame
        48 rows indexed by ``Time`` (period end, local clock) x the 15 profile columns.
    """
    if isinstance(archetype_or_class, str) and not archetype_or_class.isdigit():
        archetype_spec(archetype_or_class)
    t = class_tables(profile_class_of(archetype_or_class))
    values = t.day[SHIFT_STEPS.index(0)].copy()
    for c, name in enumerate(PROFILE_COLUMNS):
        offset = 0 if name.startswith("Wtr") else 2
        lo = NIGHT_START_UTC_SLOT + offset
        values[c, lo : lo + NIGHT_SLOTS] += t.night[c]
    times = [f"{(s + 1) // 2:02d}:{30 * ((s + 1) % 2):02d}" for s in range(CLOCK_SLOTS_PER_DAY)]
    df = pd.DataFrame(values.T, index=pd.Index(times, name="Time"), columns=list(PROFILE_COLUMNS))
    df.columns.name = "column"
    return df
