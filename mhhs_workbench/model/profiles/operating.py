"""Operating patterns of non-domestic sites: opening hours, shifts, weekend working, base load.

Elexon's non-domestic profile classes are averages over very different businesses: an office
open 08:00-18:00 on weekdays, a shop open seven days, a factory on two shifts, a cold store that
never stops. Each non-domestic site therefore gets its own keyed **operating pattern**, a level
per day type (weekday, Saturday, Sunday or bank holiday) and local clock half hour:

``p = b + (1 - b) * open``

where ``open`` is 1 in operating hours (with one-hour ramps at opening and closing) and ``b`` the
site's base-load share (refrigeration, servers, standby, security lighting) when closed. Sites
are of four kinds, with shares depending on the profile class (higher load factor classes run
longer):

* day: one shift of 8-11 hours opening 06:00-09:30;
* extended: 12-15 hours opening 05:30-09:00 (retail, hospitality, health);
* two-shift: 16-18 hours from 05:00-07:00;
* continuous: around the clock, at 70 % outside office hours (08:00-18:00).

Saturday and Sunday are full, half (the first half of the weekday hours; a continuous site runs
at its night level all day) or closed days, drawn with kind-dependent probabilities.

The class shape is multiplied by a factor built from ``r = max(1 + a (p / E[p] - 1), f_min)``,
where ``E[p]`` is the pattern's expectation over the class's distribution of sites (the mean of a
fixed large sample of sites, part of the model) and ``a`` (:data:`AMPLIFY`) widens the
differences between sites. ``r`` is divided by a common divisor per day type x slot and then
by the site's own year of day-time energy, so that (1) a site's pattern moves energy between
hours and days without changing its annual consumption (which the model fixes separately) and
(2) the factors of the reference sample average exactly 1 at every day type x slot (the common
divisor is found by fixed-point iteration). The fleet average therefore keeps Elexon's class
shape, while single sites differ widely. Draws are keyed by ``(seed, meter_index)``; the kind
and the weekend habits are stratified over runs of consecutive meters.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from mhhs_workbench.codes.archetypes import ArchetypeSpec
from mhhs_workbench.model.profiles.context import RangeContext
from mhhs_workbench.model.profiles.season_blend import BLEND_REFERENCE_YEAR
from mhhs_workbench.model.profiles.shapes import ROW_NIGHT, SHIFT_STEPS, class_tables
from mhhs_workbench.model.randomness import Stream, meter_uniform, stratified_uniform
from mhhs_workbench.time.periods import CLOCK_SLOTS_PER_DAY, profile_day_types

#: Random stream of the pattern draws, with counters 0-8 (clear of ``randomness.Stream``).
STREAM_OPERATING = Stream.SITE_OPERATING

#: Shares of the four kinds (day, extended, two-shift, continuous) per profile class: the low
#: load factor classes are mostly day-time businesses, PC8 mostly works around the clock.
KIND_SHARES: dict[int, tuple[float, float, float, float]] = {
    3: (0.60, 0.30, 0.05, 0.05),
    4: (0.60, 0.30, 0.05, 0.05),
    5: (0.70, 0.20, 0.07, 0.03),
    6: (0.55, 0.25, 0.12, 0.08),
    7: (0.40, 0.30, 0.18, 0.12),
    8: (0.15, 0.20, 0.30, 0.35),
}

#: Base-load share when closed [-] per profile class: uniform between these.
BASE_SHARE: dict[int, tuple[float, float]] = {
    3: (0.10, 0.50),
    4: (0.10, 0.50),
    5: (0.05, 0.35),
    6: (0.08, 0.40),
    7: (0.10, 0.45),
    8: (0.20, 0.60),
}

#: Per kind: operating hours (least, most) [h] and opening time (earliest, latest) [h, local].
HOURS = np.array([(8.0, 11.0), (12.0, 15.0), (16.0, 18.0), (24.0, 24.0)])
OPENING = np.array([(6.0, 9.5), (5.5, 9.0), (5.0, 7.0), (0.0, 0.0)])

CONTINUOUS = 3
#: Level of a continuous site outside office hours, and its office hours (opening, length) [h].
CONTINUOUS_LEVEL = 0.7
OFFICE = (8.0, 10.0)

#: Per kind: probabilities of a (full, half) working Saturday and Sunday; the rest are closed.
SATURDAY = np.array([(0.15, 0.25), (0.60, 0.20), (0.40, 0.30), (0.90, 0.10)])
SUNDAY = np.array([(0.05, 0.10), (0.40, 0.20), (0.15, 0.15), (0.85, 0.10)])

#: Width of the ramp at opening and closing [h].
RAMP_HOURS = 1.0

#: Site deviations from the class mean are amplified by this factor [-], per profile class.
#: Maximum demand class shapes are more peaked than the average pattern, so scaling them by
#: ``p / E[p]`` alone would leave part of the class's day-time bump common to every site; the
#: small-business classes' shapes are already close to the average pattern.
AMPLIFY: dict[int, float] = {3: 1.0, 4: 1.0, 5: 1.6, 6: 1.6, 7: 1.6, 8: 1.6}
#: Lowest multiplier of the class shape [-] (a closed site still draws its standby load).
LOWEST_FACTOR = 0.08

#: Fixed sample of sites that defines the expectation ``E[p]`` (part of the model, not a seed).
_REFERENCE_SEED = 0x0B5E
_REFERENCE_SITES = 8192


@dataclass(frozen=True)
class OperatingModulation:
    """Per-site multipliers of the class shape.

    Attributes
    ----------
    factor : numpy.ndarray, shape ``(n, 3 * 48)``
        Multiplier of the class shape per day type (0 weekday, 1 Saturday, 2 Sunday or bank
        holiday) x local clock slot, ``p / E[p]`` [-]; the fleet mean is about 1 everywhere.
    day_energy : numpy.ndarray, shape ``(n, 3)``
        The site's day energy relative to the class's, per day type [-].
    """

    factor: np.ndarray
    day_energy: np.ndarray


def _open_fraction(hour: np.ndarray, opening: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Share of each half hour (centre ``hour``) the site is open, with linear ramps; wraps."""
    close = opening + hours
    best = np.zeros(np.broadcast_shapes(hour.shape, opening.shape))
    for wrap in (-24.0, 0.0, 24.0):
        x = hour + wrap
        up = np.clip((x - opening) / RAMP_HOURS + 0.5, 0.0, 1.0)
        down = np.clip((close - x) / RAMP_HOURS + 0.5, 0.0, 1.0)
        best = np.maximum(best, np.minimum(up, down))
    return np.where(hours >= 24.0, 1.0, best)


def operating_levels(seed: int, meter_index: np.ndarray, profile_class: int) -> np.ndarray:
    """Each site's operating level ``p`` per day type x local slot [-].

    Parameters
    ----------
    seed : int
        Data-set seed.
    meter_index : array of int, shape ``(n,)``
        Global meter indices.
    profile_class : int
        Elexon profile class 3-8.

    Returns
    -------
    numpy.ndarray, shape ``(n, 3, 48)``
        Between the base share (closed) and 1 (open).
    """
    idx = np.asarray(meter_index, dtype=np.int64)

    def u(counter: int) -> np.ndarray:
        return meter_uniform(seed, idx, STREAM_OPERATING, counter)[:, None]

    def strata(counter: int) -> np.ndarray:
        # stratified over runs of consecutive meters: a fleet holds the kinds and weekend
        # habits in close to their shares, so its mean keeps the class shape
        return stratified_uniform(seed, idx, Stream.SITE_OPERATING_STRATA + counter)[:, None]

    cum = np.cumsum(KIND_SHARES[profile_class])
    kind = np.minimum(np.searchsorted(cum / cum[-1], strata(0)[:, 0], side="right"), 3)
    lo, hi = HOURS[kind].T
    hours = (lo + (hi - lo) * u(1)[:, 0])[:, None]
    lo, hi = OPENING[kind].T
    opening = np.round((lo + (hi - lo) * u(2)[:, 0]) * 2.0)[:, None] / 2.0  # on the half hour
    b_lo, b_hi = BASE_SHARE[profile_class]
    base = b_lo + (b_hi - b_lo) * u(3)
    hour = (np.arange(CLOCK_SLOTS_PER_DAY) + 0.5) / 2.0
    full = _open_fraction(hour[None, :], opening, hours)
    half = _open_fraction(hour[None, :], opening, hours / 2.0)
    # a continuous process still has day-time offices, workshops and deliveries on top
    nonstop = kind[:, None] == CONTINUOUS
    office = _open_fraction(hour[None, :], np.full((idx.size, 1), OFFICE[0]), np.full((idx.size, 1), OFFICE[1]))
    full = np.where(nonstop, CONTINUOUS_LEVEL + (1.0 - CONTINUOUS_LEVEL) * office, full)
    half = np.where(nonstop, CONTINUOUS_LEVEL, half)
    days = [full]
    for counter, table in ((4, SATURDAY), (5, SUNDAY)):
        draw = strata(counter)
        p_full, p_half = table[kind].T
        days.append(
            np.where(draw < p_full[:, None], full, np.where(draw < (p_full + p_half)[:, None], half, 0.0))
        )
    open_ = np.stack(days, axis=1)  # (n, 3, 48)
    return base[:, :, None] + (1.0 - base[:, :, None]) * open_


@lru_cache(maxsize=8)
def expected_levels(profile_class: int) -> np.ndarray:
    """``E[p]`` of a class: the mean operating level of the fixed reference sample, ``(3, 48)``."""
    sample = operating_levels(_REFERENCE_SEED, np.arange(_REFERENCE_SITES), profile_class)
    out = sample.mean(axis=0)
    out.setflags(write=False)
    return out


def _raw_factor(levels: np.ndarray, profile_class: int) -> np.ndarray:
    """Amplified, floored ``p / E[p]`` before its normalisation."""
    ratio = levels / expected_levels(profile_class)
    return np.maximum(1.0 + AMPLIFY[profile_class] * (ratio - 1.0), LOWEST_FACTOR)


@lru_cache(maxsize=8)
def class_day_shapes(profile_class: int) -> tuple[np.ndarray, np.ndarray]:
    """The class's average day per day type and the year's share of each day type.

    Returns
    -------
    shape : numpy.ndarray, shape ``(3, 48)``
        Day-time shape (relative power) averaged over the seasons, per day type.
    days : numpy.ndarray, shape ``(3,)``
        Share of the reference year's days of each day type (England & Wales) [-].
    """
    seasons = class_tables(profile_class).day[SHIFT_STEPS.index(0)]  # (15, 48)
    shape = seasons.reshape(-1, 3, CLOCK_SLOTS_PER_DAY).mean(axis=0)
    year = BLEND_REFERENCE_YEAR
    calendar = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
    days = np.bincount(profile_day_types(calendar, "ENG"), minlength=3) / calendar.size
    shape.setflags(write=False)
    days.setflags(write=False)
    return shape, days


def _per_site(raw: np.ndarray, divisor: np.ndarray, profile_class: int) -> np.ndarray:
    """``raw / divisor`` scaled so that each site's year of day-time energy is the class's.

    A site's annual consumption is fixed apart from its pattern; were the pattern to change its
    yearly energy, the model's scaling to the annual figure would undo part of it and bias the
    fleet's shape.
    """
    shape, days = class_day_shapes(profile_class)
    f = raw / divisor
    weight = shape * days[:, None]
    # a plain product and row sums: the same per-site arithmetic whatever the block size
    energy = (f * weight).sum(axis=2).sum(axis=1) / weight.sum()
    return f / energy[:, None, None]


@lru_cache(maxsize=8)
def common_divisor(profile_class: int) -> np.ndarray:
    """Divisor ``(3, 48)`` that gives the reference sample's per-site factors a mean of 1.

    Found by fixed-point iteration: divide by the current mean of the normalised factors until
    it is 1 to within 1e-9 (a few tens of steps).
    """
    sample = operating_levels(_REFERENCE_SEED, np.arange(_REFERENCE_SITES), profile_class)
    raw = _raw_factor(sample, profile_class)
    divisor = raw.mean(axis=0)
    for _ in range(200):
        mean = _per_site(raw, divisor, profile_class).mean(axis=0)
        divisor = divisor * mean
        if np.abs(mean - 1.0).max() < 1e-9:
            break
    divisor.setflags(write=False)
    return divisor


def operating_modulation(
    seed: int, meter_index: np.ndarray, profile_class: int
) -> OperatingModulation:
    """Multipliers of the class shape for a block of non-domestic sites.

    Parameters
    ----------
    seed : int
        Data-set seed.
    meter_index : array of int, shape ``(n,)``
        Global meter indices.
    profile_class : int
        Elexon profile class 3-8.
    """
    levels = operating_levels(seed, meter_index, profile_class)
    factor = _per_site(_raw_factor(levels, profile_class), common_divisor(profile_class), profile_class)
    shape, _ = class_day_shapes(profile_class)
    day_energy = (factor * shape).sum(axis=2) / shape.sum(axis=1)
    return OperatingModulation(factor.reshape(factor.shape[0], -1), day_energy)


def operated_rows(weights: np.ndarray, rows: np.ndarray, multiplier: np.ndarray) -> np.ndarray:
    """``weights @ rows`` with the day-time rows' sum scaled by an operating multiplier.

    The night-circuit rows (Economy 7 storage and water heating, from ``ROW_NIGHT`` on) run on
    the meter's timed circuit whatever the business does, so they are not scaled.

    Parameters
    ----------
    weights : numpy.ndarray, shape ``(n, N_BASE_ROWS)``
        Basis weights of the sites.
    rows : numpy.ndarray, shape ``(N_BASE_ROWS, k)``
        Basis rows (half hours) or their day sums.
    multiplier : numpy.ndarray, shape ``(n, k)``
        Operating multiplier of each site and column [-].
    """
    out = weights[:, :ROW_NIGHT] @ rows[:ROW_NIGHT]
    out *= multiplier
    out += weights[:, ROW_NIGHT:] @ rows[ROW_NIGHT:]
    return out


def site_operation(
    spec: ArchetypeSpec, seed: int, meter_index: np.ndarray, ctx: RangeContext, nation: str
) -> tuple[np.ndarray, np.ndarray] | None:
    """Operating multipliers of a block of sites over a run, or None for domestic and lighting.

    Parameters
    ----------
    spec : ArchetypeSpec
        The sites' archetype.
    seed : int
        Data-set seed.
    meter_index : array of int, shape ``(n,)``
        Global meter indices.
    ctx : RangeContext
        The run's days.
    nation : str
        Nation whose bank holidays count as Sundays.

    Returns
    -------
    day : numpy.ndarray, shape ``(n, n_year_days)``
        Day-energy multiplier of every UTC day of the run's whole years [-].
    half_hour : numpy.ndarray, shape ``(n, n_periods)``
        Shape multiplier of every half hour of the requested days [-].
    """
    if spec.domestic or spec.profile_class is None:
        return None
    op = operating_modulation(seed, meter_index, spec.profile_class)
    return op.day_energy[:, ctx.years.utc_day_types(nation)], op.factor[:, ctx.operating_keys(nation)]
