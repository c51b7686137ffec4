"""What makes each meter its own: annual level, shape, routines, day level, half-hourly noise.

Every number here derives from ``(seed, meter_index)`` through the counter-based hash in
:mod:`~mhhs_workbench.model.randomness`, so a meter is identical whatever chunk of meters it
is generated in. The layers of variation:

* **Shape**: weights on the archetype's basis rows (:mod:`~mhhs_workbench.model.profiles.shapes`): a
  time shift of the daily routine (normal, sd 45 minutes for homes), a share of flat always-on
  load (uniform -30 % ... +30 %), tilts toward morning/afternoon/evening (one- and two-cycle
  harmonics), and for Economy 7 the size of the storage heating (log-normal, sd 0.35). All have
  mean zero (size: mean one), so the population average stays the calibrated shape. Economy 7
  meters get 60 % of the shape variation: their day-time load is small beside the night.
* **Habits and routines** (homes): each meter's own habit profile over the local clock times
  one of its six day routines, picked per day (:func:`habit`): smooth log-normal profiles
  from a bank whose mean is 1 in every slot.
* **Day level**: an autocorrelated log-normal factor per day (AR(1), lag-one correlation 0.6),
  for busy and quiet days, holidays away and guests; each meter has its own log-sd (homes
  0.15-0.55), some households being steadier than others.
* **Half hours**: autocorrelated log-normal noise (AR(1) along the half hours, lag-one
  correlation 0.3-0.85 for homes: appliance, heating and cooking states last) plus spikes
  (kettles, showers, ovens, tumble driers) lasting one to three half hours.
* **Base load** (homes): a steady 15-35 % of the day's mean load, at most the day's lowest
  expected half hour (so the shape is kept), that noise never removes (fridges, standby):
  a home without PV does not read zero.

Half-hourly noise is drawn from a fixed **bank** of pre-computed AR(1) sequences rather than
generated per value: each (meter, day) picks one 48-long window of the bank at a hashed offset.
Building a bank (2 million values, 16 MiB) takes about 0.1 s once per process; picking a window
is a memory copy, far cheaper than hashing and transforming 48 new normals. The bank has four
sub-banks of increasing noisiness and persistence, and each meter is assigned one, so some
homes are calm and some erratic. Two meter-days share a window only by chance (about one in two
million per pair), and even then their shapes and levels differ, so no two meters are alike.
Within each day the noise is made energy-neutral (its load-weighted mean excess is subtracted),
so it reshapes the day without biasing the average shape.

Calibration: the domestic family is fitted to a year (2013) of 50 real London homes
(``docs/homes.md``, ``scripts/homes_report.py``, :mod:`.household_statistics`). For a year of
generated PC1 homes the median of each per-home statistic (lag-one autocorrelation, 95th
percentile over mean, share of half hours above three times the mean, coefficient of variation
of daily totals, correlation of a day with the home's average day, correlation between homes'
average days, share of zero half hours) lies within 20 % of the sample's median; about 5 % of
a typical home's half hours exceed three times its mean. A non-domestic site is steadier (many
appliances average out) and a maximum demand site steadier still.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mhhs_workbench.codes.archetypes import ArchetypeSpec
from mhhs_workbench.model.profiles.shapes import (
    N_BASE_ROWS,
    ROW_FLAT,
    ROW_HARMONICS,
    ROW_NIGHT,
    SHIFT_STEPS,
)
from mhhs_workbench.model.randomness import (
    Stream,
    hash_counter,
    meter_keys,
    meter_normal,
    meter_uniform,
    norm_ppf,
    stratified_uniform,
    uniform,
)
from mhhs_workbench.time.periods import CLOCK_SLOTS_PER_DAY, PERIODS_PER_UTC_DAY

#: Scale of the shape variation (shift, flat share, tilts) of Economy 7 meters [-].
ECONOMY7_SHAPE_SCALE = 0.6

#: Meter weights are multiples of this (see ``shapes``: keeps weighted sums exact).
WEIGHT_QUANTUM = 2.0**-10

_BANK_ROW = 512  # length of one AR(1) sequence in the bank [half hours]
_BANK_ROWS = 1024  # sequences per sub-bank
_DAY_BANK = 1 << 16  # length of the day-level noise sequence [days]
_BANK_SEED = 0x6D686873  # the bank is part of the model, the same for every data set
_HABIT_HARMONICS = 6  # habit profiles are smooth: harmonics 1-6 of the day
_HABIT_BANK = 4096  # profiles per habit bank
#: Routine deviations have a flat amplitude spectrum (``k ** -0``): sharper than habits [-].
MODE_SLOPE = 0.0
# further per-meter numbers of the NOISE_POOL stream (counter 0 picks the sub-bank)
_FLOOR_COUNTER = 1
_HABIT_COUNTER = 16  # + 0 ... habit_modes
_ROUTINE_COUNTER = 1 << 40  # + day number


@dataclass(frozen=True)
class NoiseFamily:
    """Noise settings of a noise class.

    Attributes
    ----------
    sigma : tuple of float
        Log-normal sd of half-hourly noise in each sub-bank [-].
    spike_rate : tuple of float
        Probability that a half hour carries a spike, per sub-bank [-].
    spike_mean : float
        Mean extra load of a spike, as a multiple of the half hour's expected load [-].
    phi : tuple of float
        Lag-one autocorrelation of the log half-hourly noise, per sub-bank [-].
    day_sigma : tuple of float
        Range of each meter's log-normal sd of the day-level factor (log-uniform within) [-].
    shift_sd : float
        Standard deviation of the routine's time shift [half hours].
    baseload : float
        Half-width of the uniform always-on share [-].
    harmonic_sd, harmonic_max : float
        Standard deviation and clip of each harmonic weight [-].
    spike_length : int
        Longest spike [half hours]; each spike lasts 1 ... ``spike_length`` half hours.
    habit_sigma : float
        Log-sd of each meter's fixed habit profile over the local clock slots [-] (0: none).
    floor : tuple of float
        Range of each meter's base-load floor (uniform within): the share of the expected
        half-hourly load that noise never removes (fridges, standby) [-].
    habit_modes : int
        Number of day routines of each meter (a working day, a day at home, a day out ...);
        each day follows one of them, at random [-].
    mode_sigma : float
        Log-sd of each routine's own deviation from the meter's habit [-].
    """

    sigma: tuple[float, ...]
    spike_rate: tuple[float, ...]
    spike_mean: float
    phi: tuple[float, ...]
    day_sigma: tuple[float, float]
    shift_sd: float
    baseload: float
    harmonic_sd: float
    harmonic_max: float
    spike_length: int = 1
    habit_sigma: float = 0.0
    floor: tuple[float, float] = (0.0, 0.0)
    habit_modes: int = 1
    mode_sigma: float = 0.0


NOISE_FAMILIES: dict[str, NoiseFamily] = {
    # calibrated against a year of 50 London homes (docs/homes.md, benchmarks/homes.py)
    "domestic": NoiseFamily(
        sigma=(0.65, 0.75, 0.85, 0.95),
        spike_rate=(0.01, 0.015, 0.02, 0.03),
        spike_mean=1.5,
        phi=(0.3, 0.5, 0.7, 0.85),
        day_sigma=(0.15, 0.55),
        shift_sd=1.5,
        baseload=0.30,
        harmonic_sd=0.15,
        harmonic_max=0.45,
        spike_length=3,
        habit_sigma=0.3,
        floor=(0.15, 0.35),
        habit_modes=6,
        mode_sigma=0.5,
    ),
    "non_domestic": NoiseFamily(
        sigma=(0.15, 0.20, 0.25, 0.30),
        spike_rate=(0.005, 0.01, 0.015, 0.02),
        spike_mean=0.6,
        phi=(0.7,) * 4,
        day_sigma=(0.10, 0.10),
        shift_sd=1.0,
        baseload=0.25,
        harmonic_sd=0.08,
        harmonic_max=0.20,
    ),
    "maximum_demand": NoiseFamily(
        sigma=(0.05, 0.07, 0.09, 0.11),
        spike_rate=(0.002, 0.004, 0.006, 0.008),
        spike_mean=0.3,
        phi=(0.8,) * 4,
        day_sigma=(0.06, 0.06),
        shift_sd=0.8,
        baseload=0.20,
        harmonic_sd=0.06,
        harmonic_max=0.15,
    ),
}


def annual_kwh(
    spec: ArchetypeSpec, seed: int, meter_index: np.ndarray, given: np.ndarray
) -> np.ndarray:
    """Annual consumption of each meter [kWh]: the given figure, or a draw around the typical.

    Draws are log-normal with mean :attr:`ArchetypeSpec.typical_annual_kwh` and log-sd
    :attr:`ArchetypeSpec.annual_spread`, stratified over blocks of 64 consecutive meter indices
    (see :func:`~mhhs_workbench.model.randomness.stratified_uniform`) and kept within the
    0.2 %-99.8 % quantiles.

    Parameters
    ----------
    spec : ArchetypeSpec
        The meters' archetype.
    seed : int
        Data-set seed.
    meter_index : array of int
        Global meter indices.
    given : array of float
        Requested annual consumption [kWh]; NaN where it should be drawn.
    """
    given = np.asarray(given, dtype=np.float64)
    out = given.copy()
    draw = np.isnan(given)
    if np.any(draw):
        lo, hi = _ANNUAL_QUANTILES
        u = np.clip(stratified_uniform(seed, meter_index[draw], Stream.ANNUAL_RANK), lo, hi)
        s = spec.annual_spread
        out[draw] = spec.typical_annual_kwh * np.exp(s * norm_ppf(u)) / _clipped_mean(s)
    return out


_ANNUAL_QUANTILES = (0.002, 0.998)


@lru_cache(maxsize=16)
def _clipped_mean(spread: float) -> float:
    """Mean of ``exp(spread * z)`` with z's quantiles clipped as in :func:`annual_kwh`."""
    u = np.clip((np.arange(100_000) + 0.5) / 100_000, *_ANNUAL_QUANTILES)
    return float(np.exp(spread * norm_ppf(u)).mean())


def _shift_weights(shift: np.ndarray, steps: tuple[int, ...]) -> np.ndarray:
    """Linear-interpolation weights of a continuous shift over integer shift steps."""
    s = np.clip(shift, steps[0], steps[-1])
    lo = np.clip(np.floor(s).astype(np.int64), steps[0], steps[-1] - 1)
    frac = s - lo
    w = np.zeros((s.size, len(steps)))
    rows = np.arange(s.size)
    w[rows, lo - steps[0]] = 1.0 - frac
    w[rows, lo - steps[0] + 1] = frac
    return w


def base_weights(spec: ArchetypeSpec, seed: int, meter_index: np.ndarray) -> np.ndarray:
    """Each meter's weights on the archetype basis rows (see :mod:`.shapes`).

    Returns
    -------
    numpy.ndarray, shape ``(n, N_BASE_ROWS)``
        Weights, multiples of :data:`WEIGHT_QUANTUM`.
    """
    fam = NOISE_FAMILIES[spec.noise_class]
    idx = np.asarray(meter_index, dtype=np.int64)
    n = idx.size
    w = np.zeros((n, N_BASE_ROWS))
    # an Economy 7 home's day-time load is small beside its night circuit: strong tilts would
    # push it onto the load floor, which biases the class shape
    k = ECONOMY7_SHAPE_SCALE if spec.economy7 else 1.0
    shift = k * fam.shift_sd * meter_normal(seed, idx, Stream.SHAPE_SHIFT)
    flat = k * fam.baseload * (2 * meter_uniform(seed, idx, Stream.SHAPE_BASELOAD) - 1)
    w[:, :ROW_FLAT] = _shift_weights(shift, SHIFT_STEPS) * (1.0 - flat)[:, None]
    w[:, ROW_FLAT] = flat
    top = k * fam.harmonic_max
    for i in range(ROW_NIGHT - ROW_HARMONICS):
        c = k * fam.harmonic_sd * meter_normal(seed, idx, Stream.SHAPE_HARMONIC + i)
        w[:, ROW_HARMONICS + i] = np.clip(c, -top, top)
    if spec.economy7:
        z = meter_normal(seed, idx, Stream.NIGHT_SIZE)
        w[:, ROW_NIGHT] = np.exp(0.35 * np.clip(z, -2.5, 2.5) - 0.5 * 0.35**2)
    return np.round(w / WEIGHT_QUANTUM) * WEIGHT_QUANTUM


def _family_number(noise_class: str) -> int:
    return list(NOISE_FAMILIES).index(noise_class)


@lru_cache(maxsize=4)
def noise_bank(noise_class: str) -> tuple[np.ndarray, np.ndarray]:
    """The half-hourly noise bank of a noise class (built once, then cached).

    Returns
    -------
    bank : numpy.ndarray, shape ``(n_sub * rows * 512,)``
        Multiplicative noise factors (mean 1 in each sub-bank) [-].
    windows : numpy.ndarray, shape ``(len(bank) - 47, 48)``
        Read-only sliding-window view of ``bank``: ``windows[i]`` is ``bank[i:i + 48]``.
    """
    fam = NOISE_FAMILIES[noise_class]
    subs = []
    for g, (sigma, rate, phi) in enumerate(zip(fam.sigma, fam.spike_rate, fam.phi, strict=True)):
        rng = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence([_BANK_SEED, _family_number(noise_class), g]))
        )
        eps = rng.standard_normal((_BANK_ROWS, _BANK_ROW))
        x = np.empty_like(eps)
        x[:, 0] = eps[:, 0]
        scale = np.sqrt(1 - phi**2)
        for j in range(1, _BANK_ROW):  # AR(1) along each sequence, vectorised over sequences
            x[:, j] = phi * x[:, j - 1] + scale * eps[:, j]
        f = np.exp(sigma * x - 0.5 * sigma * sigma)
        spikes = rng.random(f.shape) < rate
        size = spikes * rng.exponential(fam.spike_mean, f.shape)
        if fam.spike_length == 1:
            f += size
        else:
            # an appliance cycle runs on: each spike lasts 1 ... spike_length half hours
            length = rng.integers(1, fam.spike_length + 1, f.shape)
            for lag in range(fam.spike_length):
                f[:, lag:] += np.where(length > lag, size, 0.0)[:, : _BANK_ROW - lag]
        f /= f.mean()
        subs.append(f.ravel())
    bank = np.concatenate(subs)
    bank.setflags(write=False)
    return bank, sliding_window_view(bank, PERIODS_PER_UTC_DAY)


@lru_cache(maxsize=4)
def day_bank(noise_class: str) -> np.ndarray:
    """Day-level noise sequences of a noise class, one per level of day-to-day variation.

    A unit-variance Gaussian AR(1) sequence (lag-one correlation 0.6) ``x`` turned into
    log-normal factors ``exp(s x - s^2 / 2)`` (mean 1) for each of :data:`DAY_LEVELS` sds
    ``s``, spaced log-evenly over the family's ``day_sigma`` range.

    Returns
    -------
    numpy.ndarray, shape ``(DAY_LEVELS, _DAY_BANK)``
        Factors [-].
    """
    rng = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([_BANK_SEED, _family_number(noise_class), 99]))
    )
    eps = rng.standard_normal(_DAY_BANK)
    phi = 0.6
    # a long scalar recurrence is slow in Python; run it as 64 interleaved vector lanes
    lanes = eps.reshape(64, -1)
    y = np.empty_like(lanes)
    y[:, 0] = lanes[:, 0]
    for j in range(1, lanes.shape[1]):
        y[:, j] = phi * y[:, j - 1] + np.sqrt(1 - phi * phi) * lanes[:, j]
    x = y.ravel()
    x = (x - x.mean()) / x.std()
    lo, hi = NOISE_FAMILIES[noise_class].day_sigma
    sigma = lo * (hi / lo) ** ((np.arange(DAY_LEVELS) + 0.5) / DAY_LEVELS)
    f = np.exp(sigma[:, None] * x[None, :] - 0.5 * sigma[:, None] ** 2)
    f /= f.mean(axis=1, keepdims=True)
    f.setflags(write=False)
    return f


#: Levels of day-to-day variation: each meter keeps steady days or not, at one of these.
DAY_LEVELS = 8


def noise_offsets(
    noise_class: str, seed: int, meter_index: np.ndarray, day_numbers: np.ndarray
) -> np.ndarray:
    """Start of each (meter, day)'s 48-long noise window in the bank.

    Parameters
    ----------
    noise_class : str
        Noise class of the meters.
    seed : int
        Data-set seed.
    meter_index : array of int, shape ``(n,)``
        Global meter indices.
    day_numbers : array of int, shape ``(n_days,)``
        Days since 1970-01-01 of the UTC days.

    Returns
    -------
    numpy.ndarray of int64, shape ``(n, n_days)``
        Offsets into :func:`noise_bank`; a window never crosses from one sequence to the next.
    """
    n_sub = len(NOISE_FAMILIES[noise_class].sigma)
    idx = np.asarray(meter_index, dtype=np.int64)
    sub = (meter_uniform(seed, idx, Stream.NOISE_POOL) * n_sub).astype(np.int64)
    h = hash_counter(meter_keys(seed, idx, Stream.NOISE_OFFSET)[:, None], day_numbers[None, :])
    row = ((h >> np.uint64(32)) % np.uint64(_BANK_ROWS)).astype(np.int64)
    col = ((h & np.uint64(0xFFFFFFFF)) % np.uint64(_BANK_ROW - PERIODS_PER_UTC_DAY + 1)).astype(np.int64)
    return (sub[:, None] * _BANK_ROWS + row) * _BANK_ROW + col


def day_noise(
    noise_class: str, seed: int, meter_index: np.ndarray, day_numbers: np.ndarray
) -> np.ndarray:
    """Day-level factor of each (meter, day) [-], mean 1, autocorrelated from day to day.

    Parameters
    ----------
    noise_class : str
        Noise class of the meters.
    seed : int
        Data-set seed.
    meter_index : array of int, shape ``(n,)``
        Global meter indices.
    day_numbers : array of int, shape ``(n_days,)``
        Days since 1970-01-01.

    Returns
    -------
    numpy.ndarray, shape ``(n, n_days)``
    """
    bank = day_bank(noise_class)
    idx = np.asarray(meter_index, dtype=np.int64)
    start = (meter_uniform(seed, idx, Stream.DAY_NOISE_OFFSET) * _DAY_BANK).astype(np.int64)
    # counter 0 is the start; some homes keep steady days, others do not
    level = (meter_uniform(seed, idx, Stream.DAY_NOISE_OFFSET, 1) * DAY_LEVELS).astype(np.int64)
    flat = (start[:, None] + day_numbers[None, :]) % _DAY_BANK + (level * _DAY_BANK)[:, None]
    return np.take(bank.ravel(), flat)


@lru_cache(maxsize=4)
def habit_bank(noise_class: str) -> tuple[np.ndarray, np.ndarray]:
    """Banks of habit profiles over the 48 local clock slots (built once, then cached).

    Each profile is the exponential of a smooth random periodic function: harmonics 1-6 of the
    day with random phases and amplitudes falling as ``k ** -slope``, scaled so that its log
    value in every slot has sd ``sigma``; each bank is then divided by its mean in every slot,
    so a population picking profiles at random keeps the class shape.

    Returns
    -------
    own : numpy.ndarray, shape ``(_HABIT_BANK, 48)``
        Meters' own habits (slope 1, sd ``habit_sigma``) [-].
    routine : numpy.ndarray, shape ``(_HABIT_BANK, 48)``
        Routines' deviations from a meter's habit (slope :data:`MODE_SLOPE`, sd
        ``mode_sigma``) [-].
    """
    fam = NOISE_FAMILIES[noise_class]
    rng = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([_BANK_SEED, _family_number(noise_class), 77]))
    )
    theta = 2 * np.pi * (np.arange(CLOCK_SLOTS_PER_DAY) + 0.5) / CLOCK_SLOTS_PER_DAY
    k = np.arange(1, _HABIT_HARMONICS + 1)
    waves = np.concatenate([np.cos(np.outer(k, theta)), np.sin(np.outer(k, theta))])
    out = []
    for sigma, slope in ((fam.habit_sigma, 1.0), (fam.mode_sigma, MODE_SLOPE)):
        amp = k**-slope
        amp = amp * sigma / np.sqrt(np.sum(amp**2))
        z = rng.standard_normal((_HABIT_BANK, 2 * k.size))
        f = np.exp((z * np.concatenate([amp, amp])) @ waves)
        f /= f.mean(axis=0)
        f.setflags(write=False)
        out.append(f)
    return out[0], out[1]


def habit(noise_class: str, seed: int, meter_index: np.ndarray) -> np.ndarray:
    """Each meter's habit profiles over the 48 local clock slots, one per day routine [-].

    The meter's own habit (a late cook, an evening television, a night-time freezer) times
    each routine's deviation from it (a working day, a day at home, a day out), picked from
    :func:`habit_bank` by hashes of the meter. Their mean over meters is 1 in every slot, so
    they reshape each home's days without moving the class shape.

    Parameters
    ----------
    noise_class : str
        Noise class of the meters.
    seed : int
        Data-set seed.
    meter_index : array of int, shape ``(n,)``
        Global meter indices.

    Returns
    -------
    numpy.ndarray, shape ``(n, habit_modes, 48)``
        Factors (all ones when the noise class has no habit).
    """
    fam = NOISE_FAMILIES[noise_class]
    idx = np.asarray(meter_index, dtype=np.int64)
    if fam.habit_sigma == 0 and fam.mode_sigma == 0:
        return np.ones((idx.size, fam.habit_modes, CLOCK_SLOTS_PER_DAY))
    own, routine = habit_bank(noise_class)
    keys = meter_keys(seed, idx, Stream.NOISE_POOL)[:, None]
    h = hash_counter(keys, _HABIT_COUNTER + np.arange(1 + fam.habit_modes))
    pick = (h % np.uint64(_HABIT_BANK)).astype(np.int64)
    return np.take(own, pick[:, :1], axis=0) * np.take(routine, pick[:, 1:], axis=0)


def day_routines(
    noise_class: str, seed: int, meter_index: np.ndarray, day_numbers: np.ndarray
) -> np.ndarray:
    """Which of its routines (:func:`habit`) each meter follows on each day: ``(n, n_days)``."""
    fam = NOISE_FAMILIES[noise_class]
    keys = meter_keys(seed, np.asarray(meter_index, dtype=np.int64), Stream.NOISE_POOL)
    h = hash_counter(keys[:, None], _ROUTINE_COUNTER + np.asarray(day_numbers, dtype=np.int64))
    return (uniform(h) * fam.habit_modes).astype(np.int64)


def apply_half_hour_noise(
    noise_class: str,
    seed: int,
    meter_index: np.ndarray,
    day_numbers: np.ndarray,
    local_slots: np.ndarray,
    load: np.ndarray,
) -> None:
    """Turn expected half-hourly loads into noisy ones, in place, keeping each day's energy.

    With ``e`` the expected load of a half hour, ``a`` the day's steady base load, ``y`` the
    meter's bank window (:func:`noise_offsets`) times its day's routine (:func:`habit`), the
    result is::

        a + (e - a) * max(y - c, 0)

    where ``c`` is the mean excess of ``y`` over 1 weighted by ``e - a``, so the day keeps its
    energy: a spike borrows its energy from the rest of the day (rescaling by the realised sum
    instead would damp the half hours that dominate the day, such as an Economy 7 night,
    because their own noise inflates the divisor). The base load ``a`` (fridges, standby) is
    the meter's floor share ``b`` of the day's mean expected load, but no more than the day's
    lowest expected load, so the expected shape is kept; no half hour falls below it, so
    homes do not read zero.

    Parameters
    ----------
    noise_class : str
        Noise class of the meters.
    seed : int
        Data-set seed.
    meter_index : array of int, shape ``(n,)``
        Global meter indices.
    day_numbers : array of int, shape ``(n_days,)``
        Days since 1970-01-01 of the UTC days.
    local_slots : array of int, shape ``(n_days * 48,)``
        Local clock slot of each half hour.
    load : numpy.ndarray, shape ``(n, n_days, 48)``
        Expected load of each half hour (relative power, positive) [-]; overwritten.
    """
    fam = NOISE_FAMILIES[noise_class]
    idx = np.asarray(meter_index, dtype=np.int64)
    _, windows = noise_bank(noise_class)
    offsets = noise_offsets(noise_class, seed, idx, day_numbers)
    habits = fam.habit_sigma or fam.mode_sigma
    if habits:
        table, rows = _habit_table(noise_class, seed, idx, day_numbers, local_slots)
    lo, hi = fam.floor
    b = (lo + (hi - lo) * meter_uniform(seed, idx, Stream.NOISE_POOL, _FLOOR_COUNTER))[:, None]
    # a few days at a time, so that the passes below run on arrays that stay in cache
    for d in range(0, load.shape[1], _DAYS_AT_ONCE):
        days = slice(d, d + _DAYS_AT_ONCE)
        part = load[:, days]  # a view: written in place
        noise = windows[offsets[:, days]]
        if habits:
            noise *= np.take(table, rows[:, days], axis=0)
        total = part.sum(axis=2)
        if hi > 0:
            base = np.minimum(b * total / part.shape[2], part.min(axis=2))
            total -= part.shape[2] * base
            base = base[:, :, None]
            part -= base
        weighted = np.einsum("ijk,ijk->ij", part, noise)
        c = np.divide(weighted - total, total, out=np.zeros_like(total), where=total > 0)
        c = c[:, :, None]
        # max(y, c) - c = max(y - c, 0) in two passes
        np.maximum(noise, c, out=noise)
        noise -= c
        part *= noise
        if hi > 0:
            part += base


_DAYS_AT_ONCE = 4  # 256 meters x 4 days of float64: about 0.4 MiB per array


def _habit_table(
    noise_class: str,
    seed: int,
    idx: np.ndarray,
    day_numbers: np.ndarray,
    local_slots: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Each (meter, day)'s routine over its UTC half hours, as a table and row numbers.

    The routines are tabulated once per meter for each distinct local-slot pattern of a UTC
    day (GMT, BST and the two clock-change days); ``table[rows[i, d]]`` is meter ``i``'s
    routine on day ``d`` over its 48 UTC half hours. Copying whole days out of the table is
    far cheaper than indexing every half hour.

    Returns
    -------
    table : numpy.ndarray, shape ``(n * habit_modes * n_patterns, 48)``
    rows : numpy.ndarray of int64, shape ``(n, n_days)``
    """
    modes = NOISE_FAMILIES[noise_class].habit_modes
    slots = np.asarray(local_slots).reshape(-1, PERIODS_PER_UTC_DAY)
    start = slots[:, 0]
    regular = (slots == (start[:, None] + np.arange(PERIODS_PER_UTC_DAY)) % CLOCK_SLOTS_PER_DAY).all(axis=1)
    # a regular day is known by its first slot; each clock-change day is its own pattern
    key = np.where(regular, start, CLOCK_SLOTS_PER_DAY + np.arange(start.size))
    _, first, day_pattern = np.unique(key, return_index=True, return_inverse=True)
    patterns = slots[first]
    profiles = habit(noise_class, seed, idx)  # (n, modes, 48)
    table = profiles[:, :, patterns].reshape(-1, PERIODS_PER_UTC_DAY)  # rows (meter, mode, pattern)
    routine = day_routines(noise_class, seed, idx, day_numbers)
    rows = (np.arange(idx.size)[:, None] * modes + routine) * len(patterns)
    rows += day_pattern.reshape(1, -1)
    return table, rows
