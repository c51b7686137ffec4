"""What makes each meter its own: annual level, shape weights, day-to-day and half-hourly noise.

Every number here derives from ``(seed, meter_index)`` through the counter-based hash in
:mod:`~mhhs_workbench.profiles.randomness`, so a meter is identical whatever chunk of meters it
is generated in. Three layers of variation:

* **Shape**: weights on the archetype's basis rows (:mod:`~mhhs_workbench.profiles.shapes`): a
  time shift of the daily routine (normal, sd 36 minutes for homes), a share of flat always-on
  load (uniform -30 % ... +30 %), tilts toward morning/afternoon/evening (one- and two-cycle
  harmonics), and for Economy 7 the size of the storage heating (log-normal, sd 0.35). All have
  mean zero (size: mean one), so the population average stays the calibrated shape.
* **Day level**: an autocorrelated log-normal factor per day (AR(1), lag-one correlation 0.6),
  for busy and quiet days, holidays away and guests.
* **Half hours**: autocorrelated log-normal noise (AR(1) along the half hours) plus occasional
  spikes (kettles, showers, ovens, tumble driers), which make the distribution right-skewed.

Half-hourly noise is drawn from a fixed **bank** of pre-computed AR(1) sequences rather than
generated per value: each (meter, day) picks one 48-long window of the bank at a hashed offset.
Building a bank (2 million values, 16 MiB) takes about 0.1 s once per process; picking a window
is a memory copy, far cheaper than hashing and transforming 48 new normals. The bank has four
sub-banks of increasing noisiness and spikiness, and each meter is assigned one, so some homes
are calm and some erratic. Two meter-days share a window only by chance (about one in two
million per pair), and even then their shapes and levels differ, so no two meters are alike.
Within each day the noise is made energy-neutral (its load-weighted mean excess is subtracted),
so it reshapes the day without biasing the average shape.

Spike calibration: household smart-meter data are right-skewed; the mean half hour is well above
the median, and a few per cent of half hours exceed three times the household's mean (showers,
cooking, laundry). The domestic bank is tuned so that a typical home has about 3 % of its half
hours above three times its mean (most homes 1.5-4.5 %; the tests accept a median of 1.5-6 %),
while a non-domestic site is steadier (many appliances average out) and a maximum demand site
steadier still.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .archetypes import ArchetypeSpec
from .randomness import (
    Stream,
    hash_counter,
    meter_keys,
    meter_normal,
    meter_uniform,
    norm_ppf,
    stratified_uniform,
)
from .shapes import (
    N_BASE_ROWS,
    ROW_FLAT,
    ROW_HARMONICS,
    ROW_NIGHT,
    SHIFT_STEPS,
)

#: Meter weights are multiples of this (see ``shapes``: keeps weighted sums exact).
WEIGHT_QUANTUM = 2.0**-10

_BANK_ROW = 512  # length of one AR(1) sequence in the bank [half hours]
_BANK_ROWS = 1024  # sequences per sub-bank
_DAY_BANK = 1 << 16  # length of the day-level noise sequence [days]
_BANK_SEED = 0x6D686873  # the bank is part of the model, the same for every data set


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
    phi : float
        Lag-one autocorrelation of half-hourly noise [-].
    day_sigma : float
        Log-normal sd of the day-level factor [-].
    shift_sd : float
        Standard deviation of the routine's time shift [half hours].
    baseload : float
        Half-width of the uniform always-on share [-].
    harmonic_sd, harmonic_max : float
        Standard deviation and clip of each harmonic weight [-].
    """

    sigma: tuple[float, ...]
    spike_rate: tuple[float, ...]
    spike_mean: float
    phi: float
    day_sigma: float
    shift_sd: float
    baseload: float
    harmonic_sd: float
    harmonic_max: float


NOISE_FAMILIES: dict[str, NoiseFamily] = {
    "domestic": NoiseFamily(
        sigma=(0.30, 0.40, 0.50, 0.60),
        spike_rate=(0.03, 0.045, 0.06, 0.08),
        spike_mean=2.0,
        phi=0.55,
        day_sigma=0.15,
        shift_sd=1.2,
        baseload=0.30,
        harmonic_sd=0.12,
        harmonic_max=0.30,
    ),
    "non_domestic": NoiseFamily(
        sigma=(0.15, 0.20, 0.25, 0.30),
        spike_rate=(0.005, 0.01, 0.015, 0.02),
        spike_mean=0.6,
        phi=0.7,
        day_sigma=0.10,
        shift_sd=1.0,
        baseload=0.25,
        harmonic_sd=0.08,
        harmonic_max=0.20,
    ),
    "maximum_demand": NoiseFamily(
        sigma=(0.05, 0.07, 0.09, 0.11),
        spike_rate=(0.002, 0.004, 0.006, 0.008),
        spike_mean=0.3,
        phi=0.8,
        day_sigma=0.06,
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
    (see :func:`~mhhs_workbench.profiles.randomness.stratified_uniform`) and kept within the
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
    shift = fam.shift_sd * meter_normal(seed, idx, Stream.SHAPE_SHIFT)
    flat = fam.baseload * (2 * meter_uniform(seed, idx, Stream.SHAPE_BASELOAD) - 1)
    w[:, :ROW_FLAT] = _shift_weights(shift, SHIFT_STEPS) * (1.0 - flat)[:, None]
    w[:, ROW_FLAT] = flat
    for i in range(ROW_NIGHT - ROW_HARMONICS):
        c = fam.harmonic_sd * meter_normal(seed, idx, Stream.SHAPE_HARMONIC + i)
        w[:, ROW_HARMONICS + i] = np.clip(c, -fam.harmonic_max, fam.harmonic_max)
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
    for g, (sigma, rate) in enumerate(zip(fam.sigma, fam.spike_rate, strict=True)):
        rng = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence([_BANK_SEED, _family_number(noise_class), g]))
        )
        eps = rng.standard_normal((_BANK_ROWS, _BANK_ROW))
        x = np.empty_like(eps)
        x[:, 0] = eps[:, 0]
        scale = np.sqrt(1 - fam.phi**2)
        for j in range(1, _BANK_ROW):  # AR(1) along each sequence, vectorised over sequences
            x[:, j] = fam.phi * x[:, j - 1] + scale * eps[:, j]
        f = np.exp(sigma * x - 0.5 * sigma * sigma)
        spikes = rng.random(f.shape) < rate
        f += spikes * rng.exponential(fam.spike_mean, f.shape)
        f /= f.mean()
        subs.append(f.ravel())
    bank = np.concatenate(subs)
    bank.setflags(write=False)
    return bank, sliding_window_view(bank, 48)


@lru_cache(maxsize=4)
def day_bank(noise_class: str) -> np.ndarray:
    """Day-level noise sequence of a noise class: AR(1) log-normal factors with mean 1 [-]."""
    fam = NOISE_FAMILIES[noise_class]
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
    f = np.exp(fam.day_sigma * x - 0.5 * fam.day_sigma**2)
    f /= f.mean()
    f.setflags(write=False)
    return f


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
    col = ((h & np.uint64(0xFFFFFFFF)) % np.uint64(_BANK_ROW - 47)).astype(np.int64)
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
    return bank[(start[:, None] + day_numbers[None, :]) % _DAY_BANK]
