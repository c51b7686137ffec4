"""Whole-array formatting of values the DIP carries as strings."""

from __future__ import annotations

import numpy as np


def wh_to_kwh_strings(wh: np.ndarray) -> np.ndarray:
    """Format integer watt-hours as kWh strings with exactly three decimals.

    Parameters
    ----------
    wh : array of int
        Energy [Wh]; must be non-negative (the DIP's values never are).

    Returns
    -------
    numpy.ndarray of str
        ``'1234.567'`` for 1,234,567 Wh; same shape as ``wh``.
    """
    wh = np.asarray(wh, dtype=np.int64)
    if wh.size and wh.min() < 0:
        raise ValueError(f"negative energy {wh.min()} Wh cannot be written")
    whole = (wh // 1000).astype("U16")  # int64 Wh has at most 16 whole kWh digits
    frac = np.char.zfill((wh % 1000).astype("U3"), 3)
    return np.char.add(np.char.add(whole, "."), frac)
