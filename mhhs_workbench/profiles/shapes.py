"""Archetype shapes: the calibrated average daily load per season x day type, in local time.

Each profile class has 15 daily shapes (5 Elexon seasons x weekday / Saturday / Sunday-or-bank-
holiday), each an 8-harmonic Fourier series over the local clock slots, in **relative power**
units: the class's mean power over a year is 1. Economy 7 classes add a night-circuit component
that lives in the switched window, 00:30-07:30 **GMT** all year (01:30-08:30 on the summer
clock), described by a cubic Bernstein polynomial (non-negative coefficients, so the term is
never negative) over the 14 half hours of the window.

The generator evaluates the shapes into a small **basis** (rows x half hours, shared by every
meter of an archetype and nation); a meter's expected load is a weighted sum of the rows (see
:mod:`mhhs_workbench.profiles.individuality`):

* rows 0-6: the average day-time shape delayed by -1.5 h ... +1.5 h (30-minute steps), for
  households that get up and go to bed earlier or later than average;
* row 7: a flat line at the column's mean, mixed in for sites with more always-on load;
* rows 8-11: the column mean times cos/sin of one and two cycles a day, which tilt the day
  toward morning, afternoon or evening use without changing the daily energy;
* row 12: the night-circuit component (Economy 7 only; zero otherwise).

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

from . import fourier
from .archetypes import archetype_spec
from .parameters import class_parameters
from .reference import PROFILE_COLUMNS, profile_class_of
from .timegrid import TimeGrid
from .weather import climatology

#: Delays of the shifted day-time shapes [half hours].
SHIFT_STEPS: tuple[int, ...] = (-3, -2, -1, 0, 1, 2, 3)
ROW_FLAT = len(SHIFT_STEPS)
ROW_HARMONICS = ROW_FLAT + 1
N_HARMONIC_ROWS = 4
ROW_NIGHT = ROW_HARMONICS + N_HARMONIC_ROWS
N_BASE_ROWS = ROW_NIGHT + 1

#: Economy 7 window: starts at this UTC (= GMT) slot, 00:30, and lasts 14 half hours (7 hours).
NIGHT_START_UTC_SLOT = 1
NIGHT_SLOTS = 14

#: Temperature factor limits [-]: a very cold or hot day at most scales load by these.
TEMPERATURE_FACTOR_RANGE = (0.5, 1.6)

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
        Day-time shape of each column, delayed by each shift.
    mean : numpy.ndarray, shape ``(15,)``
        Mean of each column's day-time shape.
    night : numpy.ndarray, shape ``(15, 14)``
        Night-circuit component over the window (zeros unless Economy 7).
    beta_day, beta_night : float
        Load change per °C colder than normal [1/°C].
    """

    day: np.ndarray
    mean: np.ndarray
    night: np.ndarray
    beta_day: float
    beta_night: float


@lru_cache(maxsize=16)
def class_tables(profile_class: int) -> ClassTables:
    """Evaluate the calibrated shapes of a profile class (cached)."""
    p = class_parameters(profile_class)
    coefs = np.array([p["columns"][c] for c in PROFILE_COLUMNS], dtype=np.float64)
    slots = np.arange(fourier.SLOTS_PER_DAY)
    day = np.stack([fourier.evaluate(coefs, fourier.slot_phase(slots, s)) for s in SHIFT_STEPS])
    day = np.clip(day, 0.02, None)  # a fitted series never quite reaches zero load
    night = np.zeros((len(PROFILE_COLUMNS), NIGHT_SLOTS))
    if "night" in p:
        coef = np.array([p["night"][c] for c in PROFILE_COLUMNS], dtype=np.float64)
        night = np.clip(coef @ night_basis(coef.shape[1]).T * p["night_scale"], 0.0, None)
    return ClassTables(
        day=day,
        mean=coefs[:, 0].copy(),
        night=night,
        beta_day=float(p["temperature_sensitivity"]),
        beta_night=float(p.get("night_temperature_sensitivity", 0.0)),
    )


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
    col = grid.local_columns(nation)
    slot = grid.local_slots
    tf_day = temperature_factor(grid.local_day_list, temperature_c, t.beta_day)[
        grid.local_day_index
    ]
    out = np.zeros((N_BASE_ROWS, grid.n_periods), dtype=np.float64)
    out[:ROW_FLAT] = t.day[:, col, slot] * tf_day
    mean = t.mean[col] * tf_day
    out[ROW_FLAT] = mean
    theta = fourier.slot_phase(slot)
    for i, (k, fn) in enumerate(((1, np.cos), (1, np.sin), (2, np.cos), (2, np.sin))):
        out[ROW_HARMONICS + i] = mean * fn(k * theta)
    if np.any(t.night):
        j = grid.utc_slots - NIGHT_START_UTC_SLOT
        inside = (j >= 0) & (j < NIGHT_SLOTS)
        tf_night = temperature_factor(grid.local_day_list, temperature_c, t.beta_night)[
            grid.local_day_index
        ]
        out[ROW_NIGHT, inside] = t.night[col[inside], j[inside]] * tf_night[inside]
    return quantise(out, BASIS_QUANTUM)


def economy7_night_mask(period_ends: np.ndarray) -> np.ndarray:
    """Whether each half hour lies in the Economy 7 night window, 00:30-07:30 GMT all year.

    The switch follows GMT (= UTC), so on the summer clock the window is 01:30-08:30 local.

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
    times = [f"{(s + 1) // 2:02d}:{30 * ((s + 1) % 2):02d}" for s in range(48)]
    df = pd.DataFrame(values.T, index=pd.Index(times, name="Time"), columns=list(PROFILE_COLUMNS))
    df.columns.name = "column"
    return df
