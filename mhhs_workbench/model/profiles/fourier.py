"""Daily Fourier series over the 48 local clock slots.

A daily shape is ``a0 + sum_k (a_k cos k theta + b_k sin k theta)`` with ``theta`` the phase of
the slot centre, ``2 pi (slot + 0.5) / 48``. Coefficients are stored as
``[a0, a1, b1, a2, b2, ...]``.
"""

from __future__ import annotations

import numpy as np

from mhhs_workbench.time.periods import CLOCK_SLOTS_PER_DAY


def slot_phase(slots: np.ndarray | float, shift_slots: float = 0.0) -> np.ndarray:
    """Phase [rad] of slot centres, for a shape delayed by ``shift_slots`` half hours."""
    return 2 * np.pi * (np.asarray(slots, dtype=np.float64) + 0.5 - shift_slots) / CLOCK_SLOTS_PER_DAY


def design(theta: np.ndarray, harmonics: int) -> np.ndarray:
    """Design matrix ``(len(theta), 2 * harmonics + 1)`` of the series at phases ``theta``."""
    cols = [np.ones_like(theta)]
    for k in range(1, harmonics + 1):
        cols += [np.cos(k * theta), np.sin(k * theta)]
    return np.column_stack(cols)


def evaluate(coefficients: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Evaluate series at phases.

    Parameters
    ----------
    coefficients : array, shape ``(..., 2K + 1)``
        One or more coefficient vectors.
    theta : array, shape ``(n,)``
        Phases [rad].

    Returns
    -------
    numpy.ndarray, shape ``(..., n)``
    """
    c = np.asarray(coefficients, dtype=np.float64)
    harmonics = (c.shape[-1] - 1) // 2
    return c @ design(np.asarray(theta, dtype=np.float64), harmonics).T


def fit(values: np.ndarray, harmonics: int) -> np.ndarray:
    """Least-squares coefficients of a 48-slot daily shape."""
    theta = slot_phase(np.arange(CLOCK_SLOTS_PER_DAY))
    coef, *_ = np.linalg.lstsq(design(theta, harmonics), np.asarray(values, float), rcond=None)
    return coef
