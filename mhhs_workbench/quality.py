"""Data quality: missing and invalid periods, communications faults and de-energised spells.

Each imperfection is turned into a *valid* estimate that SPEC.md's business rules accept:

================  =====  =====  ===========================================================
case              ``q``  ``e``  value written
================  =====  =====  ===========================================================
actual            A      null   as measured
missing period    E1     2      day's actual advance shared over the day's missing periods
invalid period    E1     3      as for missing (the daily advance is still actual)
comms fault       E4     4      advance between the reads around the fault, spread by shape
de-energised      ZE     7      0 (nothing flows; ECS1011)
unmetered         E      10     the agreed dusk-to-dawn profile
================  =====  =====  ===========================================================

Estimates keep every sum the registers see: a meter's reported half hours always add up to its
register advance between any two reads, which is what a Data Service's estimation must honour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .messages.codes import ESTIMATION_REASON_NAMES
from .scenario import DataQuality
from .settlement_time import PERIODS_PER_UTC_DAY


def _reason(name: str) -> str:
    """The DI-076 code of an estimation reason, by its catalogue name."""
    return next(code for code, text in ESTIMATION_REASON_NAMES.items() if text == name)


#: ``q`` values the quality index arrays of a data set refer to (a subset of the DI-083 codes).
REPORTED_QUALITY_CODES: tuple[str, ...] = ("A", "E", "E1", "E4", "ZE")
ACTUAL, ESTIMATE, ESTIMATE_DAILY_ADVANCE, ESTIMATE_READ_HISTORY, ZERO_ADVANCE = range(5)

# Estimation reasons ``e`` (DI-076) as numbers; 0 stands for none (null)
REASON_NONE = 0
REASON_MISSING = int(_reason("Missing"))
REASON_INVALID = int(_reason("Invalid"))
REASON_COMMS_FAULT = int(_reason("CommsFault"))
REASON_DEENERGISED = int(_reason("De-energised"))
REASON_NON_SMART = int(_reason("NonSmart"))

STREAM_QUALITY = 2
PERIODS = PERIODS_PER_UTC_DAY


@dataclass(frozen=True)
class MeterQualityPlan:
    """What goes wrong for one meter over the data set's days.

    Attributes
    ----------
    deenergised : tuple of int or None
        ``(first_day, n_days)`` index range of a de-energised spell.
    comms_fault : tuple of int or None
        ``(first_day, n_days)`` index range of a communications fault.
    missing : numpy.ndarray of bool
        Half hours that are missing or invalid, shape ``(n_days * 48,)``.
    invalid : numpy.ndarray of bool
        The subset of ``missing`` that was invalid rather than absent.
    """

    deenergised: tuple[int, int] | None
    comms_fault: tuple[int, int] | None
    missing: np.ndarray
    invalid: np.ndarray


def plan_meter(settings: DataQuality, seed: int, meter_index: int, n_days: int, *, metered: bool) -> MeterQualityPlan:
    """Draw one meter's imperfections from its own random stream (independent of chunking)."""
    rng = np.random.default_rng([seed, STREAM_QUALITY, meter_index])
    u = rng.random(8)
    n = n_days * PERIODS
    none = np.zeros(n, dtype=bool)
    if not metered:
        return MeterQualityPlan(None, None, none, none)

    deenergised = None
    lo, hi = settings.deenergised_days
    if u[0] < settings.deenergised_share and n_days >= lo + 2:
        length = int(min(lo + u[1] * (hi - lo + 1), hi, n_days - 2))
        first = 1 + int(u[2] * (n_days - length - 1))  # a normal day before and after
        deenergised = (first, length)

    comms = None
    lo, hi = settings.comms_fault_days
    if u[3] < settings.comms_fault_share and n_days >= lo + 2:
        length = int(min(lo + u[4] * (hi - lo + 1), hi, n_days - 2))
        first = 1 + int(u[5] * (n_days - length - 1))
        if deenergised is None or first + length <= deenergised[0] or first >= sum(deenergised):
            comms = (first, length)

    missing = rng.random(n) < settings.missing_share
    invalid = missing & (rng.random(n) < settings.invalid_share)
    for spell in (deenergised, comms):
        if spell:
            missing[spell[0] * PERIODS : (spell[0] + spell[1]) * PERIODS] = False
    invalid &= missing
    return MeterQualityPlan(deenergised, comms, missing, invalid)


def spread(total: int, weights: np.ndarray) -> np.ndarray:
    """Split a whole number of Wh over periods in proportion to ``weights``, summing exactly.

    Uses the largest-remainder method; equal weights are used when all weights are zero.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.sum() <= 0:
        w = np.ones_like(w)
    exact = total * w / w.sum()
    out = np.floor(exact).astype(np.int64)
    rest = int(total - out.sum())
    if rest:
        out[np.argsort(-(exact - out), kind="stable")[:rest]] += 1
    return out


def apply_plan(
    plan: MeterQualityPlan, channels: list[np.ndarray]
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Apply one meter's plan to its true half-hourly values.

    Parameters
    ----------
    plan : MeterQualityPlan
        The meter's imperfections.
    channels : list of numpy.ndarray
        True values per measurement quantity [Wh], each shape ``(n_days * 48,)``.

    Returns
    -------
    reported : list of numpy.ndarray
        Values as the Data Service reports them [Wh], same sums over every read interval.
    quality : numpy.ndarray of int8
        Index into :data:`REPORTED_QUALITY_CODES` per half hour.
    reasons : numpy.ndarray of int8
        Estimation reason per half hour (0 = none).
    """
    n = channels[0].size
    quality = np.zeros(n, dtype=np.int8)
    reasons = np.zeros(n, dtype=np.int8)
    reported = [c.astype(np.int64, copy=True) for c in channels]

    if plan.deenergised:
        sl = slice(plan.deenergised[0] * PERIODS, sum(plan.deenergised) * PERIODS)
        for r in reported:
            r[sl] = 0  # nothing flows through a de-energised meter
        quality[sl] = ZERO_ADVANCE
        reasons[sl] = REASON_DEENERGISED

    if plan.comms_fault:
        first, length = plan.comms_fault
        sl = slice(first * PERIODS, (first + length) * PERIODS)
        outside = np.ones(n, dtype=bool)
        outside[sl] = False
        for r in reported:
            # shape: the meter's own average day outside the fault
            shape = r[outside].reshape(-1, PERIODS).mean(axis=0) if outside.any() else np.ones(PERIODS)
            r[sl] = spread(int(r[sl].sum()), np.tile(shape, length))
        quality[sl] = ESTIMATE_READ_HISTORY
        reasons[sl] = REASON_COMMS_FAULT

    if plan.missing.any():
        days_hit = np.unique(np.flatnonzero(plan.missing) // PERIODS)
        for d in days_hit:
            sl = slice(d * PERIODS, (d + 1) * PERIODS)
            gap = plan.missing[sl]
            for r in reported:
                day = r[sl]
                day[gap] = spread(int(day[gap].sum()), np.ones(int(gap.sum())))
        quality[plan.missing] = ESTIMATE_DAILY_ADVANCE
        reasons[plan.missing] = REASON_MISSING
        reasons[plan.invalid] = REASON_INVALID
    return reported, quality, reasons


def unmetered_flags(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Quality and reason arrays for an unmetered supply: every period an estimate (``E``, 10)."""
    return np.full(n, ESTIMATE, dtype=np.int8), np.full(n, REASON_NON_SMART, dtype=np.int8)
