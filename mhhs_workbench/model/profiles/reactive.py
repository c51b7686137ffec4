"""Reactive energy of maximum demand sites (RI import, RE export).

A site's reactive power is not a fixed fraction of its active power: it depends on the mix of
loads running. The model sums three parts per half hour [varh]:

* **base**: transformer magnetising current and always-on motors (pumps, fans, refrigeration
  compressors) draw lagging reactive power whatever the active load; a share ``c`` (uniform
  0.3-0.7) of the site's mean reactive demand, following the motors' own duty cycle over the
  day (``1 + m_b cos(2 pi (slot - phase_b) / 48)``, ``m_b`` uniform 0-0.9);
* **load-dependent**: the rest follows active import at the site's load power factor (uniform
  0.85-0.97, ``tan phi`` 0.25-0.62), weighted by a **load-mix** cycle over the day (motor-heavy
  hours against lighting and IT hours: ``1 + m cos(2 pi (slot - phase) / 48)``, amplitude ``m``
  uniform 0-0.9 at a site-specific phase) and by the site's own half-hourly reactive noise
  (motor starts, compressors cycling; autocorrelated log-normal, sd 0.2-0.45 per site);
* **correction**: about 30 % of sites have fixed power-factor-correction capacitors, a constant
  leading reactive power; at light load they over-compensate and the meter records a little
  reactive **export** (RE).

Base and load-dependent parts drift together by a few per cent from day to day. Reactive energy is
therefore correlated with active import but not proportional to it. All draws are keyed by
``(seed, meter_index)`` (and the day for day-level values).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mhhs_workbench.model.randomness import Stream, hash_counter, meter_keys, meter_uniform, normal
from mhhs_workbench.time.periods import PERIODS_PER_UTC_DAY

POWER_FACTOR_RANGE = (0.85, 0.97)
CORRECTION_SHARE = 0.3
#: Share of the site's mean reactive demand that does not follow active load [-].
BASE_SHARE_RANGE = (0.3, 0.7)
#: Largest amplitude of the daily cycle of the load-dependent part (load mix) [-].
MIX_AMPLITUDE_MAX = 0.9
#: Largest amplitude of the daily cycle of the base part (compressor and pump duty) [-].
BASE_AMPLITUDE_MAX = 0.9
#: Log-sd range of the site's half-hourly reactive noise [-].
NOISE_SIGMA_RANGE = (0.2, 0.45)
#: Lag-one autocorrelation of the half-hourly reactive noise [-].
NOISE_PHI = 0.7

_BANK_ROW = 512  # one AR(1) sequence of the noise bank [half hours]
_BANK_ROWS = 1024
_BANK_SEED = 0x52454143  # the bank is part of the model, the same for every data set
_NOISE_SUBSTREAM = 1 << 20


@lru_cache(maxsize=1)
def _noise_windows() -> np.ndarray:
    """Sliding 48-long windows over a fixed bank of unit AR(1) normal sequences (read-only)."""
    rng = np.random.Generator(np.random.PCG64(_BANK_SEED))
    eps = rng.standard_normal((_BANK_ROWS, _BANK_ROW))
    x = np.empty_like(eps)
    x[:, 0] = eps[:, 0]
    scale = np.sqrt(1.0 - NOISE_PHI**2)
    for j in range(1, _BANK_ROW):
        x[:, j] = NOISE_PHI * x[:, j - 1] + scale * eps[:, j]
    bank = x.ravel()
    bank.setflags(write=False)
    return sliding_window_view(bank, PERIODS_PER_UTC_DAY)


def _site_noise(
    seed: int, idx: np.ndarray, day_numbers: np.ndarray, sigma: np.ndarray
) -> np.ndarray:
    """Log-normal reactive noise, mean 1, ``(n, n_days, 48)``; one bank window per meter-day."""
    # a sub-stream of the site's power-factor keys (whose own counters are 0-4)
    keys = hash_counter(meter_keys(seed, idx, Stream.REACTIVE_PF), _NOISE_SUBSTREAM)
    h = hash_counter(keys[:, None], day_numbers[None, :])
    row = ((h >> np.uint64(32)) % np.uint64(_BANK_ROWS)).astype(np.int64)
    col = ((h & np.uint64(0xFFFFFFFF)) % np.uint64(_BANK_ROW - PERIODS_PER_UTC_DAY + 1)).astype(np.int64)
    z = _noise_windows()[row * _BANK_ROW + col]
    s = sigma[:, None, None]
    return np.exp(s * z - 0.5 * s * s)


def reactive_varh(
    active_wh: np.ndarray,
    seed: int,
    meter_index: np.ndarray,
    mean_wh: np.ndarray,
    day_numbers: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Reactive import and export per half hour from active import.

    Parameters
    ----------
    active_wh : numpy.ndarray of int64, shape ``(n, n_days * 48)``
        Active import AI [Wh].
    seed : int
        Data-set seed.
    meter_index : array of int, shape ``(n,)``
        Global meter indices.
    mean_wh : array of float, shape ``(n,)``
        The site's mean active import per half hour over a year [Wh] (sizes the base part and
        the capacitors).
    day_numbers : array of int, shape ``(n_days,)``
        Days since 1970-01-01 of the UTC days.

    Returns
    -------
    ri, re : numpy.ndarray of int64, same shape as ``active_wh``
        Reactive import and export [varh], non-negative.
    """
    idx = np.asarray(meter_index, dtype=np.int64)
    n, t = active_wh.shape
    days = np.asarray(day_numbers, dtype=np.int64)

    def u(counter: int) -> np.ndarray:
        return meter_uniform(seed, idx, Stream.REACTIVE_PF, counter)

    lo, hi = POWER_FACTOR_RANGE
    pf = lo + (hi - lo) * u(0)
    tan_phi = np.sqrt(1.0 - pf * pf) / pf
    b_lo, b_hi = BASE_SHARE_RANGE
    base_share = b_lo + (b_hi - b_lo) * u(1)
    amplitude = MIX_AMPLITUDE_MAX * u(2)
    phase = PERIODS_PER_UTC_DAY * u(3)
    base_amplitude = BASE_AMPLITUDE_MAX * u(5)
    base_phase = PERIODS_PER_UTC_DAY * u(6)
    s_lo, s_hi = NOISE_SIGMA_RANGE
    sigma = s_lo + (s_hi - s_lo) * u(4)

    mean = np.asarray(mean_wh, dtype=np.float64)
    drift = 1.0 + 0.05 * normal(
        hash_counter(meter_keys(seed, idx, Stream.REACTIVE_DAY)[:, None], days[None, :])
    )
    slot = np.arange(PERIODS_PER_UTC_DAY)
    mix = 1.0 + amplitude[:, None] * np.cos(2 * np.pi * (slot[None, :] - phase[:, None]) / PERIODS_PER_UTC_DAY)
    duty = 1.0 + base_amplitude[:, None] * np.cos(
        2 * np.pi * (slot[None, :] - base_phase[:, None]) / PERIODS_PER_UTC_DAY
    )
    load_part = (1.0 - base_share) * tan_phi  # per Wh of active import
    q = active_wh.reshape(n, -1, PERIODS_PER_UTC_DAY) * load_part[:, None, None]
    q *= mix[:, None, :]
    q *= _site_noise(seed, idx, days, sigma)
    q += (base_share * tan_phi * mean)[:, None, None] * duty[:, None, :]
    q *= drift[:, :, None]
    corrected = meter_uniform(seed, idx, Stream.REACTIVE_CORRECTION) < CORRECTION_SHARE
    capacitor = np.where(corrected, 0.5 * tan_phi * mean, 0.0)
    q = q.reshape(n, t) - capacitor[:, None]
    ri = np.rint(np.clip(q, 0.0, None)).astype(np.int64)
    re = np.rint(np.clip(-q, 0.0, None)).astype(np.int64)
    return ri, re
