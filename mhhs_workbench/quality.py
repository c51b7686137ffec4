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

Plans are drawn for a whole chunk of meters at once from keyed random streams of
``(seed, meter, ...)``: spells from six draws per meter, missing half hours from one draw per
meter and *absolute* half hour (UTC days since 1970 x 48 + period), so a meter's gaps on a day do
not depend on the chunk or on the date range around that day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .messages.codes import ESTIMATION_REASON_NAMES
from .profiles.randomness import Stream, hash_counter, meter_keys, meter_uniform, uniform
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

PERIODS = PERIODS_PER_UTC_DAY
#: Spell arrays hold this for "no spell".
NO_SPELL = -1


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


@dataclass(frozen=True)
class QualityPlan:
    """What goes wrong for a chunk of meters over the data set's days.

    Attributes
    ----------
    deenergised_first, deenergised_days : numpy.ndarray of int64
        First day index and length [days] of each meter's de-energised spell; ``NO_SPELL`` / 0
        for none.
    comms_first, comms_days : numpy.ndarray of int64
        The same for a communications fault.
    missing : numpy.ndarray of bool, shape ``(n_meters, n_days * 48)``
        Half hours that are missing or invalid.
    invalid : numpy.ndarray of bool, same shape
        The subset of ``missing`` that was invalid rather than absent.
    """

    deenergised_first: np.ndarray
    deenergised_days: np.ndarray
    comms_first: np.ndarray
    comms_days: np.ndarray
    missing: np.ndarray
    invalid: np.ndarray

    def meter(self, j: int) -> MeterQualityPlan:
        """The plan of the chunk's ``j``-th meter."""
        de = (int(self.deenergised_first[j]), int(self.deenergised_days[j]))
        co = (int(self.comms_first[j]), int(self.comms_days[j]))
        return MeterQualityPlan(
            de if de[0] != NO_SPELL else None,
            co if co[0] != NO_SPELL else None,
            self.missing[j],
            self.invalid[j],
        )


def plan_spells(
    settings: DataQuality, seed: int, meter_index: np.ndarray, n_days: int, metered: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Draw each meter's de-energised spell and communications fault (cheap: six draws a meter).

    Spells keep a normal day before and after them, and a fault never overlaps a de-energised
    spell. Returns ``(deenergised_first, deenergised_days, comms_first, comms_days)``.
    """
    idx = np.asarray(meter_index, dtype=np.int64)
    u = [meter_uniform(seed, idx, Stream.QUALITY_SPELL, k) for k in range(6)]
    metered = np.asarray(metered, dtype=bool)

    def spell(share: float, bounds: list[int], draws: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = bounds
        hit = metered & (draws[0] < share) & (n_days >= lo + 2)
        length = np.minimum(np.minimum((lo + draws[1] * (hi - lo + 1)).astype(np.int64), hi), n_days - 2)
        first = 1 + (draws[2] * (n_days - length - 1)).astype(np.int64)
        return np.where(hit, first, NO_SPELL), np.where(hit, length, 0)

    de_first, de_days = spell(settings.deenergised_share, settings.deenergised_days, u[0:3])
    co_first, co_days = spell(settings.comms_fault_share, settings.comms_fault_days, u[3:6])
    clash = (de_first != NO_SPELL) & (co_first != NO_SPELL) & (co_first + co_days > de_first) & (
        co_first < de_first + de_days
    )
    co_first = np.where(clash, NO_SPELL, co_first)
    co_days = np.where(clash, 0, co_days)
    return de_first, de_days, co_first, co_days


def spell_mask(first: np.ndarray, length: np.ndarray, n_periods: int) -> np.ndarray:
    """Half hours inside each meter's spell, shape ``(n_meters, n_periods)`` (none for ``NO_SPELL``)."""
    period = np.arange(n_periods)
    start = np.asarray(first)[:, None] * PERIODS
    return (period >= start) & (period < start + np.asarray(length)[:, None] * PERIODS)


def plan_meters(
    settings: DataQuality,
    seed: int,
    meter_index: np.ndarray,
    days: np.ndarray,
    metered: np.ndarray,
) -> QualityPlan:
    """Draw the imperfections of a chunk of meters.

    Parameters
    ----------
    settings : DataQuality
        Shares and spell lengths.
    seed : int
        Data-set seed.
    meter_index : array of int
        Global meter indices.
    days : array of datetime64[D]
        The data set's consecutive UTC days.
    metered : array of bool
        Whether each meter is metered (unmetered supplies have no imperfections).
    """
    idx = np.asarray(meter_index, dtype=np.int64)
    days = np.asarray(days, dtype="datetime64[D]")
    n_days = days.size
    metered = np.asarray(metered, dtype=bool)
    de_first, de_days, co_first, co_days = plan_spells(settings, seed, idx, n_days, metered)
    absolute = days[0].astype(np.int64) * PERIODS + np.arange(n_days * PERIODS, dtype=np.int64)
    keys = meter_keys(seed, idx, Stream.QUALITY_MISSING)[:, None]
    missing = (uniform(hash_counter(keys, absolute[None, :])) < settings.missing_share) & metered[:, None]
    invalid = np.zeros_like(missing)
    rows, cols = np.nonzero(missing)
    if rows.size:
        draw = uniform(hash_counter(meter_keys(seed, idx[rows], Stream.QUALITY_INVALID), absolute[cols]))
        invalid[rows, cols] = draw < settings.invalid_share
    for first, length in ((de_first, de_days), (co_first, co_days)):
        missing &= ~spell_mask(first, length, n_days * PERIODS)
    invalid &= missing
    return QualityPlan(de_first, de_days, co_first, co_days, missing, invalid)


def plan_meter(
    settings: DataQuality, seed: int, meter_index: int, n_days: int, *, metered: bool, first_day: str = "2025-01-01"
) -> MeterQualityPlan:
    """One meter's plan (see :func:`plan_meters`); ``first_day`` is the data set's first UTC day."""
    days = np.datetime64(first_day, "D") + np.arange(n_days)
    return plan_meters(settings, seed, np.array([meter_index]), days, np.array([metered])).meter(0)


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
    def spell(value: tuple[int, int] | None) -> tuple[np.ndarray, np.ndarray]:
        return (np.array([value[0]]), np.array([value[1]])) if value else (np.array([NO_SPELL]), np.array([0]))

    chunk = QualityPlan(*spell(plan.deenergised), *spell(plan.comms_fault), plan.missing[None], plan.invalid[None])
    reported, quality, reasons = apply_quality(chunk, [np.asarray(c)[None] for c in channels], np.array([True]))
    return [r[0] for r in reported], quality[0], reasons[0]


def apply_quality(
    plan: QualityPlan, channels: list[np.ndarray], metered: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Apply a chunk's plan to its true half-hourly values (see :func:`apply_plan`).

    Parameters
    ----------
    plan : QualityPlan
        The chunk's imperfections.
    channels : list of numpy.ndarray
        True values per measurement quantity [Wh], each shape ``(n_meters, n_days * 48)``.
    metered : array of bool
        Unmetered supplies are reported as estimates (``E``, reason 10) of their profile.

    Returns
    -------
    reported : list of numpy.ndarray of int64
        Values as the Data Service reports them [Wh], same sums over every read interval.
    quality : numpy.ndarray of int8, shape ``(n_meters, n_days * 48)``
        Index into :data:`REPORTED_QUALITY_CODES`.
    reasons : numpy.ndarray of int8, same shape
        Estimation reason (0 = none).
    """
    n, t = channels[0].shape
    metered = np.asarray(metered, dtype=bool)
    quality = np.where(metered[:, None], np.int8(ACTUAL), np.int8(ESTIMATE)).repeat(t, axis=1)
    reasons = np.where(metered[:, None], np.int8(REASON_NONE), np.int8(REASON_NON_SMART)).repeat(t, axis=1)
    reported = [np.array(c, dtype=np.int64) for c in channels]
    dead = spell_mask(plan.deenergised_first, plan.deenergised_days, t)
    if dead.any():
        for r in reported:
            r[dead] = 0  # nothing flows through a de-energised meter
        quality[dead] = ZERO_ADVANCE
        reasons[dead] = REASON_DEENERGISED

    for j in np.flatnonzero(plan.comms_first != NO_SPELL):
        first, length = int(plan.comms_first[j]), int(plan.comms_days[j])
        sl = slice(first * PERIODS, (first + length) * PERIODS)
        outside = np.ones(t, dtype=bool)
        outside[sl] = False
        for r in reported:
            # shape: the meter's own average day outside the fault
            shape = r[j, outside].reshape(-1, PERIODS).mean(axis=0)
            r[j, sl] = spread(int(r[j, sl].sum()), np.tile(shape, length))
        quality[j, sl] = ESTIMATE_READ_HISTORY
        reasons[j, sl] = REASON_COMMS_FAULT

    gap = plan.missing
    if gap.any():
        # each day's missing energy shared equally over its missing half hours, exactly
        g = gap.reshape(n, -1, PERIODS)
        count = g.sum(axis=2, keepdims=True)
        rank = np.cumsum(g, axis=2) - 1
        for r in reported:
            day = r.reshape(n, -1, PERIODS)
            total = np.where(g, day, 0).sum(axis=2, keepdims=True)
            share = total // np.maximum(count, 1) + (rank < total % np.maximum(count, 1))
            day[g] = share[g]
        quality[gap] = ESTIMATE_DAILY_ADVANCE
        reasons[gap] = REASON_MISSING
        reasons[plan.invalid] = REASON_INVALID
    return reported, quality, reasons
