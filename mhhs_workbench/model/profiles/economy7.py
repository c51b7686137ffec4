"""Economy 7 switching windows: when each meter's cheap-rate (night) register runs.

Economy 7 gives seven cheap hours a day, switched by the meter's clock or a radio/teleswitch
signal on GMT all year (so on the summer clock each window is an hour later by the wall clock).
Which seven hours depends on the distribution area and, within an area, on the meter: most run
one block overnight, some a block starting earlier or later, and some split the seven hours
into two blocks, either two overnight blocks or a shorter night plus an afternoon boost.

The model uses a small fixed set of windows (:data:`WINDOWS`, times in UTC = GMT). Each GSP
group has a usual window (:data:`USUAL_WINDOW`, an illustrative regional tendency, not a
distributor's published table); a meter takes its group's usual window with probability
:data:`USUAL_SHARE`, otherwise one drawn from :data:`NATIONAL_SHARES`. The draw is keyed by
``(seed, meter_index)`` alone (plus the GSP group), so a meter's window is the same whatever the
chunk it is generated in, and the meter register, the load shape (storage and water heating
charge in the window) and the night register reads all follow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from mhhs_workbench.codes.identifiers import GSP_GROUPS
from mhhs_workbench.model.randomness import Stream, meter_uniform
from mhhs_workbench.time.periods import PERIODS_PER_UTC_DAY

#: Random stream of the window draw (kept clear of the numbers listed in ``randomness.Stream``).
STREAM_WINDOW = Stream.E7_WINDOW

#: Half hours in every window (seven hours).
WINDOW_SLOTS = 14


@dataclass(frozen=True)
class SwitchWindow:
    """One Economy 7 switching pattern.

    Attributes
    ----------
    label : str
        The window as written in the meter register, UTC (= GMT) clock times, blocks joined by
        ``+`` (e.g. ``'00:30-07:30'``, ``'01:00-06:00+13:00-15:00'``).
    slots : tuple of int
        The UTC half-hour slots (0 = 00:00-00:30 UTC) of the window in switching order: the
        night-circuit load shape is laid over them in this order.
    """

    label: str
    slots: tuple[int, ...]


def _block(start: str, end: str) -> list[int]:
    """UTC slots of ``start``-``end`` (HH:MM), wrapping over midnight."""
    a = int(start[:2]) * 2 + int(start[3:]) // 30
    b = int(end[:2]) * 2 + int(end[3:]) // 30
    return [s % PERIODS_PER_UTC_DAY for s in range(a, b if b > a else b + PERIODS_PER_UTC_DAY)]


def _window(*blocks: tuple[str, str]) -> SwitchWindow:
    slots = [s for a, b in blocks for s in _block(a, b)]
    return SwitchWindow("+".join(f"{a}-{b}" for a, b in blocks), tuple(slots))


#: The windows, the model's standard one (index 0) first.
WINDOWS: tuple[SwitchWindow, ...] = (
    _window(("00:30", "07:30")),
    _window(("00:00", "07:00")),
    _window(("01:00", "08:00")),
    _window(("23:00", "06:00")),
    _window(("22:30", "00:30"), ("02:30", "07:30")),  # split night
    _window(("01:00", "06:00"), ("13:00", "15:00")),  # short night plus an afternoon boost
)
STANDARD_WINDOW = 0

#: Usual window of each GSP group (index into :data:`WINDOWS`).
USUAL_WINDOW: dict[str, int] = {
    "_A": 0, "_B": 1, "_C": 0, "_D": 4, "_E": 2, "_F": 0, "_G": 1,
    "_H": 0, "_J": 0, "_K": 2, "_L": 0, "_M": 1, "_N": 5, "_P": 5,
}  # fmt: skip

#: Share of meters on their group's usual window [-].
USUAL_SHARE = 0.5

#: Shares of the windows among the other meters [-] (sum 1). Over Great Britain about half the
#: meters run the standard window and a third one starting half an hour earlier or later, so
#: the class average keeps the sharp step of Elexon's Economy 7 profile.
NATIONAL_SHARES: tuple[float, ...] = (0.6, 0.12, 0.12, 0.08, 0.04, 0.04)

WINDOW_BY_LABEL: dict[str, int] = {w.label: i for i, w in enumerate(WINDOWS)}


def economy7_windows(seed: int, meter_index: np.ndarray, gsp_group: np.ndarray) -> np.ndarray:
    """Each meter's switching window (index into :data:`WINDOWS`).

    Parameters
    ----------
    seed : int
        Data-set seed.
    meter_index : array of int, shape ``(n,)``
        Global meter indices.
    gsp_group : array of str, shape ``(n,)``
        GSP group of each meter (``'_A'`` ... ``'_P'``).

    Returns
    -------
    numpy.ndarray of int64, shape ``(n,)``
    """
    idx = np.asarray(meter_index, dtype=np.int64)
    groups = np.asarray(gsp_group).astype(str)
    usual_of = np.array([USUAL_WINDOW[g] for g in GSP_GROUPS])
    usual = usual_of[np.searchsorted(np.array(GSP_GROUPS), groups)]
    cum = np.cumsum(NATIONAL_SHARES)
    other = np.searchsorted(cum / cum[-1], meter_uniform(seed, idx, STREAM_WINDOW, 1), side="right")
    other = np.minimum(other, len(WINDOWS) - 1)
    keep = meter_uniform(seed, idx, STREAM_WINDOW, 0) < USUAL_SHARE
    return np.where(keep, usual, other).astype(np.int64)


def window_labels(windows: np.ndarray) -> np.ndarray:
    """Register text of window indices (object array of str)."""
    return np.array([w.label for w in WINDOWS], dtype=object)[np.asarray(windows, dtype=np.int64)]


def window_indices(labels: np.ndarray) -> np.ndarray:
    """Window indices of register labels; an empty or unknown label means the standard window.

    Parameters
    ----------
    labels : array of str
        ``economy7_window`` texts of a meter register.
    """
    text = np.asarray(labels, dtype=object).astype(str)
    distinct, inverse = np.unique(text, return_inverse=True)
    known = [WINDOW_BY_LABEL.get(x, STANDARD_WINDOW) for x in distinct]  # a few labels only
    return np.array(known, dtype=np.int64)[inverse.ravel()]


@lru_cache(maxsize=1)
def slot_positions() -> np.ndarray:
    """Position of each UTC slot within each window, -1 outside it.

    Returns
    -------
    numpy.ndarray of int64, shape ``(len(WINDOWS), 48)``
    """
    out = np.full((len(WINDOWS), PERIODS_PER_UTC_DAY), -1, dtype=np.int64)
    for k, w in enumerate(WINDOWS):
        out[k, list(w.slots)] = np.arange(len(w.slots))
    out.setflags(write=False)
    return out


def _utc_slots(period_ends: np.ndarray) -> np.ndarray:
    ends = np.asarray(period_ends, dtype="datetime64[m]")
    minute = (ends - ends.astype("datetime64[D]")).astype(np.int64)
    return ((minute - 30) % 1440) // 30


def window_masks(windows: np.ndarray, period_ends: np.ndarray) -> np.ndarray:
    """Whether each half hour lies in each meter's own window.

    Parameters
    ----------
    windows : array of int, shape ``(n,)``
        Window index of each meter.
    period_ends : array of datetime64, shape ``(t,)``
        Period ends [UTC].

    Returns
    -------
    numpy.ndarray of bool, shape ``(n, t)``
    """
    inside = slot_positions() >= 0  # (k, 48)
    return inside[:, _utc_slots(period_ends)][np.asarray(windows, dtype=np.int64)]
