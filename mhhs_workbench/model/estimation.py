"""A Data Service's estimation methods for missing half hours, over whole chunks of rows.

Each method works on value rows (one meter's one measurement quantity) x UTC half hours, in
integer Wh (varh for reactive), and treats every row on its own, so a row's estimates never
depend on which other rows share its chunk.

* :func:`interpolate_single` - one missing period from its two neighbours (``E0``).
* :func:`shaped_spread` - a known amount of energy (the actual daily advance, ``E1``, or the
  advance between two register reads, ``E4``) shared over missing periods by the meter's own shape
  on the days around them, capped at the meter's recent maximum.

Shapes never put energy where the meter's own recent shape is zero, so an export estimate never
lands in darkness and an import estimate never spikes from nothing.
"""

from __future__ import annotations

import numpy as np

from mhhs_workbench.time.periods import PERIODS_PER_UTC_DAY

#: Days before an estimate whose actual values give the meter's recent shape and maximum.
RECENT_DAYS = 7


def neighbours(values: np.ndarray, available: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each half hour's previous and next value and whether both are actual.

    Parameters
    ----------
    values : numpy.ndarray of int64, shape ``(n_rows, n_periods)``
        True values [Wh].
    available : numpy.ndarray of bool, same shape
        Half hours the Data Service holds as actual.

    Returns
    -------
    left, right : numpy.ndarray of int64
        Values of the half hours before and after [Wh] (0 at the data set's ends).
    both : numpy.ndarray of bool
        Both neighbours exist and are actual.
    """
    left = np.zeros_like(values)
    right = np.zeros_like(values)
    left[:, 1:] = values[:, :-1]
    right[:, :-1] = values[:, 1:]
    both = np.zeros_like(available)
    both[:, 1:-1] = available[:, :-2] & available[:, 2:]
    return left, right, both


def interpolate_single(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The ``E0`` estimate of a single missing period from its neighbours [Wh].

    The rounded mean of the two, except that a neighbour at zero means the flow stopped at that
    edge (darkness for export, self-supply for import), so the estimate is zero: the result always
    lies between the neighbours.
    """
    return np.where(np.minimum(left, right) > 0, (left + right + 1) // 2, 0)


def gather(values: np.ndarray, available: np.ndarray, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """``values[row, col]`` where that half hour exists and is actual, else -1.

    ``row`` has one entry per group, ``col`` shape ``(n_groups, n_slots)``.
    """
    inside = (col >= 0) & (col < values.shape[1])
    safe = np.where(inside, col, 0)
    rows = np.broadcast_to(row[:, None], col.shape)
    ok = inside & available[rows, safe]
    return np.where(ok, values[rows, safe], -1)


def recent_profiles(
    values: np.ndarray, available: np.ndarray, row: np.ndarray, before_day: np.ndarray,
    after_day: np.ndarray, slots: np.ndarray,
) -> list[np.ndarray]:
    """Candidate profile weights [Wh] for the slots of each group, from the meter's own actual days.

    Slot ``s`` of a group stands for period ``s % 48`` of some day; each candidate is the meter's
    value at that period on actual days around the group, narrowest first:

    1. the smaller of the day before and the day after where both are actual (a period dark or
       idle on either side stays at zero), else the one that is;
    2. whichever of the two is larger;
    3. the sum over the :data:`RECENT_DAYS` days before.

    Parameters
    ----------
    values, available : numpy.ndarray, shape ``(n_rows, n_periods)``
        True values [Wh] and the half hours held as actual.
    row : numpy.ndarray of int64, shape ``(n_groups,)``
        Value row of each group.
    before_day, after_day : numpy.ndarray of int64, shape ``(n_groups,)``
        Day index just before and just after the group's missing days.
    slots : numpy.ndarray of bool, shape ``(n_groups, n_slots)``
        Which slots of each group are to be estimated; others weigh 0.
    """
    period = np.arange(slots.shape[1]) % PERIODS_PER_UTC_DAY
    before = gather(values, available, row, before_day[:, None] * PERIODS_PER_UTC_DAY + period)
    after = gather(values, available, row, after_day[:, None] * PERIODS_PER_UTC_DAY + period)
    both = (before >= 0) & (after >= 0)
    one_side = np.maximum(np.maximum(before, after), 0)
    week = np.zeros(slots.shape, dtype=np.int64)
    for k in range(RECENT_DAYS):
        week += np.maximum(gather(values, available, row, (before_day[:, None] - k) * PERIODS_PER_UTC_DAY + period), 0)
    return [np.where(slots, stage, 0) for stage in (np.where(both, np.minimum(before, after), one_side), one_side, week)]


def choose_profile(candidates: list[np.ndarray], total: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Per group, the first candidate profile whose non-zero slots can hold ``total`` under ``cap``.

    A narrower shape is preferred, but not at the price of a spike: where its shaped slots would
    need more than ``cap`` each, the next, broader candidate is taken. Where none can, the
    broadest non-zero one is (the cap then gives way); where all are zero, zeros (equal sharing
    in :func:`shaped_spread`).
    """
    weights = np.zeros_like(candidates[0])
    chosen = np.zeros(weights.shape[0], dtype=bool)
    for fits in (True, False):
        for candidate in reversed(candidates) if not fits else candidates:
            shaped = (candidate > 0).sum(axis=1)
            take = ~chosen & (shaped > 0) & ((shaped * cap >= total) if fits else True)
            weights[take] = candidate[take]
            chosen |= take
    return weights


def recent_maximum(values: np.ndarray, available: np.ndarray, row: np.ndarray, first_day: np.ndarray,
                   last_day: np.ndarray) -> np.ndarray:
    """Each group's cap [Wh]: the meter's largest actual value from :data:`RECENT_DAYS` days
    before ``first_day`` to the day after ``last_day``."""
    n = values.shape[0]
    daily = np.where(available, values, 0).reshape(n, -1, PERIODS_PER_UTC_DAY).max(axis=2)
    n_days = daily.shape[1]
    cap = np.zeros(row.size, dtype=np.int64)
    longest = int((last_day - first_day).max()) if row.size else 0
    for k in range(-RECENT_DAYS, longest + 2):
        day = first_day + k
        inside = (day >= 0) & (day < n_days) & (day <= last_day + 1)
        cap = np.maximum(cap, np.where(inside, daily[row, np.clip(day, 0, n_days - 1)], 0))
    return cap


def shaped_spread(total: np.ndarray, weights: np.ndarray, slots: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Share each group's ``total`` [Wh] over its slots by ``weights``, none above ``cap``, exactly.

    Slots of zero weight get nothing. Slots whose proportional share would pass the cap are held
    at it and the rest is shared again among the others (water filling); where the shaped slots
    cannot hold the total under the cap, the cap rises to the least that can. Integer arithmetic
    throughout; remainders go to the largest fractional shares, earliest first.

    Parameters
    ----------
    total : numpy.ndarray of int64, shape ``(n_groups,)``
        Energy to share [Wh].
    weights : numpy.ndarray of int64, shape ``(n_groups, n_slots)``
        Non-negative profile.
    slots : numpy.ndarray of bool, same shape
        Slots to be filled; others get 0.
    cap : numpy.ndarray of int64, shape ``(n_groups,)``
        Largest value a slot should take [Wh].

    Returns
    -------
    numpy.ndarray of int64, same shape as ``weights``
        Whole Wh per slot, summing to ``total`` per group.
    """
    weights = np.where(slots, np.asarray(weights, dtype=np.int64), 0)
    flat = weights.sum(axis=1) == 0
    weights = np.where(flat[:, None] & slots, 1, weights)
    positive = weights > 0
    n_positive = np.maximum(positive.sum(axis=1), 1)
    cap = np.maximum(np.asarray(cap, dtype=np.int64), -(-total // n_positive))
    free = positive.copy()
    for _ in range(weights.shape[1] + 1):
        rest = total - cap * (positive & ~free).sum(axis=1)
        w = np.where(free, weights, 0)
        w_sum = np.maximum(w.sum(axis=1), 1)
        # a free slot whose share rest * w / w_sum passes the cap is held at the cap
        over = free & (rest[:, None] * w > (cap * w_sum)[:, None])
        if not over.any():
            break
        free &= ~over
    numerator = rest[:, None] * w
    out = np.where(free, numerator // w_sum[:, None], np.where(positive, cap[:, None], 0))
    deficit = total - out.sum(axis=1)
    key = np.where(free, numerator % w_sum[:, None], -1)
    order = np.argsort(-key, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(order.shape[1]), order.shape), axis=1)
    return out + (free & (rank < deficit[:, None]))
