"""Reactive energy of maximum demand sites (RI import, RE export).

Motors, transformers and fluorescent lighting draw lagging reactive power roughly in proportion
to active load: each site has a power factor between 0.90 and 0.98 (``tan phi`` 0.20-0.48),
which drifts a little from day to day. About 30 % of sites have fixed power-factor-correction
capacitors, which supply a constant leading reactive power; at light load (nights, weekends)
they over-compensate and the meter records a little reactive **export** (RE).
"""

from __future__ import annotations

import numpy as np

from .randomness import Stream, hash_counter, meter_keys, meter_uniform, normal

POWER_FACTOR_RANGE = (0.90, 0.98)
CORRECTION_SHARE = 0.3


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
        The site's mean active import per half hour over a year [Wh] (sizes the capacitors).
    day_numbers : array of int, shape ``(n_days,)``
        Days since 1970-01-01 of the UTC days.

    Returns
    -------
    ri, re : numpy.ndarray of int64, same shape as ``active_wh``
        Reactive import and export [varh], non-negative.
    """
    idx = np.asarray(meter_index, dtype=np.int64)
    n, t = active_wh.shape
    lo, hi = POWER_FACTOR_RANGE
    pf = lo + (hi - lo) * meter_uniform(seed, idx, Stream.REACTIVE_PF)
    tan_phi = np.sqrt(1.0 - pf * pf) / pf
    drift = 1.0 + 0.05 * normal(
        hash_counter(meter_keys(seed, idx, Stream.REACTIVE_DAY)[:, None], day_numbers[None, :])
    )
    corrected = meter_uniform(seed, idx, Stream.REACTIVE_CORRECTION) < CORRECTION_SHARE
    capacitor = np.where(corrected, 0.5 * tan_phi * np.asarray(mean_wh, dtype=np.float64), 0.0)
    q = active_wh.reshape(n, -1, 48) * (tan_phi[:, None] * drift)[:, :, None]
    q = q.reshape(n, t) - capacitor[:, None]
    ri = np.rint(np.clip(q, 0.0, None)).astype(np.int64)
    re = np.rint(np.clip(-q, 0.0, None)).astype(np.int64)
    return ri, re
