"""Data quality: missing and invalid periods, communications faults and de-energised spells.

Each imperfection is turned into a *valid* estimate that SPEC.md's business rules accept,
following the DI-083 estimation hierarchy (methods in :mod:`~mhhs_workbench.model.estimation`):

==================  ======  =====  ==========================================================
case                ``q``   ``e``  value written
==================  ======  =====  ==========================================================
actual              A       null   as measured
single missing SP   E0      2, 3   from its two actual neighbours (2 missing, 3 invalid)
longer gap          E1      2, 3   the day's actual advance (ADA) left over by its actual
                                   periods, shaped by the meter's own days around it
comms fault         E4      4      advance between the reads around the fault (register read
                                   history), shaped by the meter's own days around it
de-energised        ZE      7      0 (nothing flows; ECS1011)
unmetered           E       10     the agreed dusk-to-dawn profile
==================  ======  =====  ==========================================================

A meter of the Advanced Data Service estimates with the ADS methods DI-083 reserves for it,
``EA(n+1)`` in place of ``En`` (:data:`~mhhs_workbench.codes.messages.ADS_METHOD_OF`): EA1, EA2 and
EA5. Shapes never put energy where the meter's own recent shape is zero (no export in darkness) and
never above its recent maximum, so far as the known advance allows.

The ADA and the read-to-read advance are kept exactly by E1 and E4; an E0 estimate stands on its
own, so the reported day total differs from the true one by its error. Register reads are
integrated from the *reported* values, so they always reconcile with what IF-021 sends.

Plans are drawn for a whole chunk of meters at once from keyed random streams of
``(seed, meter, ...)``: spells from six draws per meter, missing half hours from one draw per
meter and *absolute* half hour (UTC days since 1970 x 48 + period), so a meter's gaps on a day do
not depend on the chunk or on the date range around that day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mhhs_workbench.codes.messages import ADS_METHOD_OF, ESTIMATION_REASON_NAMES
from mhhs_workbench.model.estimation import (
    choose_profile,
    interpolate_single,
    neighbours,
    recent_maximum,
    recent_profiles,
    shaped_spread,
)
from mhhs_workbench.model.randomness import Stream, hash_counter, meter_keys, meter_uniform, uniform
from mhhs_workbench.scenario.sections import DataQuality
from mhhs_workbench.time.periods import PERIODS_PER_UTC_DAY


def _reason(name: str) -> str:
    """The DI-076 code of an estimation reason, by its catalogue name."""
    return next(code for code, text in ESTIMATION_REASON_NAMES.items() if text == name)


#: ``q`` values the quality index arrays of a data set refer to (a subset of the DI-083 codes):
#: the smart hierarchy's, then the ADS methods standing in for E0, E1 and E4.
REPORTED_QUALITY_CODES: tuple[str, ...] = (
    "A", "E", "E0", "E1", "E4", "ZE", ADS_METHOD_OF["E0"], ADS_METHOD_OF["E1"], ADS_METHOD_OF["E4"]
)
(ACTUAL, ESTIMATE, ESTIMATE_SINGLE_PERIOD, ESTIMATE_DAILY_ADVANCE, ESTIMATE_READ_HISTORY, ZERO_ADVANCE,
 ADS_SINGLE_PERIOD, ADS_DAILY_ADVANCE, ADS_READ_HISTORY) = range(len(REPORTED_QUALITY_CODES))
#: The ADS index in place of each smart-hierarchy index.
ADS_INDEX_OF: dict[int, int] = {
    ESTIMATE_SINGLE_PERIOD: ADS_SINGLE_PERIOD,
    ESTIMATE_DAILY_ADVANCE: ADS_DAILY_ADVANCE,
    ESTIMATE_READ_HISTORY: ADS_READ_HISTORY,
}

# Estimation reasons ``e`` (DI-076) as numbers; 0 stands for none (null)
REASON_NONE = 0
REASON_MISSING = int(_reason("Missing"))
REASON_INVALID = int(_reason("Invalid"))
REASON_COMMS_FAULT = int(_reason("CommsFault"))
REASON_DEENERGISED = int(_reason("De-energised"))
REASON_NON_SMART = int(_reason("NonSmart"))

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
    start = np.asarray(first)[:, None] * PERIODS_PER_UTC_DAY
    return (period >= start) & (period < start + np.asarray(length)[:, None] * PERIODS_PER_UTC_DAY)


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
    absolute = days[0].astype(np.int64) * PERIODS_PER_UTC_DAY + np.arange(n_days * PERIODS_PER_UTC_DAY, dtype=np.int64)
    keys = meter_keys(seed, idx, Stream.QUALITY_MISSING)[:, None]
    missing = (uniform(hash_counter(keys, absolute[None, :])) < settings.missing_share) & metered[:, None]
    invalid = np.zeros_like(missing)
    rows, cols = np.nonzero(missing)
    if rows.size:
        draw = uniform(hash_counter(meter_keys(seed, idx[rows], Stream.QUALITY_INVALID), absolute[cols]))
        invalid[rows, cols] = draw < settings.invalid_share
    for first, length in ((de_first, de_days), (co_first, co_days)):
        missing &= ~spell_mask(first, length, n_days * PERIODS_PER_UTC_DAY)
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
    plan: MeterQualityPlan, channels: list[np.ndarray], *, advanced: bool = False
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Apply one meter's plan to its true half-hourly values.

    Parameters
    ----------
    plan : MeterQualityPlan
        The meter's imperfections.
    channels : list of numpy.ndarray
        True values per measurement quantity [Wh], each shape ``(n_days * 48,)``.
    advanced : bool
        The meter belongs to the Advanced Data Service (ADS estimation codes).

    Returns
    -------
    reported : list of numpy.ndarray
        Values as the Data Service reports them [Wh].
    quality : numpy.ndarray of int8
        Index into :data:`REPORTED_QUALITY_CODES` per half hour.
    reasons : numpy.ndarray of int8
        Estimation reason per half hour (0 = none).
    """
    def spell(value: tuple[int, int] | None) -> tuple[np.ndarray, np.ndarray]:
        return (np.array([value[0]]), np.array([value[1]])) if value else (np.array([NO_SPELL]), np.array([0]))

    chunk = QualityPlan(*spell(plan.deenergised), *spell(plan.comms_fault), plan.missing[None], plan.invalid[None])
    reported, quality, reasons = apply_quality(
        chunk, [np.asarray(c)[None] for c in channels], np.array([True]), advanced=np.array([advanced])
    )
    return [r[0] for r in reported], quality[0], reasons[0]


def apply_quality(
    plan: QualityPlan, channels: list[np.ndarray], metered: np.ndarray, *, advanced: np.ndarray | None = None,
    first_period: np.ndarray | None = None,
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Apply a chunk's plan to its true half-hourly values (see :func:`apply_plan`).

    Parameters
    ----------
    plan : QualityPlan
        The imperfections, one entry (or row of ``missing``) per value row.
    channels : list of numpy.ndarray
        True values per measurement quantity [Wh], each shape ``(n_rows, n_days * 48)``.
    metered : array of bool
        Unmetered supplies are reported as estimates (``E``, reason 10) of their profile.
    advanced : array of bool, optional
        Rows of Advanced Data Service meters, which use the ADS methods (``EA*``); none if omitted.
    first_period : array of int, optional
        Per row, the first half hour its meter measures (install inside the data set); earlier
        ones are neither estimated nor used to estimate. From the start if omitted.

    Returns
    -------
    reported : list of numpy.ndarray of int64
        Values as the Data Service reports them [Wh]; every read-to-read advance of E1 days and
        E4 spells is kept exactly.
    quality : numpy.ndarray of int8, shape ``(n_rows, n_days * 48)``
        Index into :data:`REPORTED_QUALITY_CODES`.
    reasons : numpy.ndarray of int8, same shape
        Estimation reason (0 = none).
    """
    n, t = channels[0].shape
    metered = np.asarray(metered, dtype=bool)
    advanced = np.zeros(n, dtype=bool) if advanced is None else np.asarray(advanced, dtype=bool)
    quality = np.where(metered[:, None], np.int8(ACTUAL), np.int8(ESTIMATE)).repeat(t, axis=1)
    reasons = np.where(metered[:, None], np.int8(REASON_NONE), np.int8(REASON_NON_SMART)).repeat(t, axis=1)
    dead = spell_mask(plan.deenergised_first, plan.deenergised_days, t)
    fault = spell_mask(plan.comms_first, plan.comms_days, t)
    measured = np.ones((n, t), dtype=bool)
    if first_period is not None:
        measured = np.arange(t)[None, :] >= np.asarray(first_period)[:, None]
    gap = np.asarray(plan.missing, dtype=bool) & ~dead & ~fault & measured
    # what the Data Service holds as actual, and so may estimate from
    available = metered[:, None] & ~dead & ~fault & ~gap & measured
    single = gap & neighbours(channels[0], available)[2]
    longer = gap & ~single
    day_groups = _day_groups(longer)
    fault_groups = _fault_groups(plan, t)

    reported = []
    for channel in channels:
        true = np.asarray(channel, dtype=np.int64)
        out = true.copy()
        out[dead] = 0  # nothing flows through a de-energised meter
        left, right, _ = neighbours(true, available)
        out[single] = interpolate_single(left[single], right[single])
        for row, before, after, slots, cols in (day_groups, fault_groups):
            if row.size:
                estimate = _estimate(true, available, row, before, after, slots, true[row[:, None], cols])
                out[np.broadcast_to(row[:, None], cols.shape)[slots], cols[slots]] = estimate[slots]
        reported.append(out)

    quality[dead] = ZERO_ADVANCE
    reasons[dead] = REASON_DEENERGISED
    quality[fault] = ESTIMATE_READ_HISTORY
    reasons[fault] = REASON_COMMS_FAULT
    quality[single] = ESTIMATE_SINGLE_PERIOD
    quality[longer] = ESTIMATE_DAILY_ADVANCE
    reasons[gap] = np.where(np.asarray(plan.invalid, dtype=bool)[gap], REASON_INVALID, REASON_MISSING)
    for smart, ads in ADS_INDEX_OF.items():
        quality[advanced[:, None] & (quality == smart)] = ads
    return reported, quality, reasons


def _day_groups(longer: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(row, day before, day after, slots, columns)`` of each row-day holding an E1 gap."""
    n, t = longer.shape
    by_day = longer.reshape(n, -1, PERIODS_PER_UTC_DAY)
    row, day = np.nonzero(by_day.any(axis=2))
    cols = day[:, None] * PERIODS_PER_UTC_DAY + np.arange(PERIODS_PER_UTC_DAY)
    return row, day - 1, day + 1, by_day[row, day], cols


def _fault_groups(plan: QualityPlan, t: int) -> tuple[np.ndarray, ...]:
    """``(row, day before, day after, slots, columns)`` of each row's communications fault."""
    row = np.flatnonzero(np.asarray(plan.comms_first) != NO_SPELL)
    first = np.asarray(plan.comms_first, dtype=np.int64)[row]
    length = np.asarray(plan.comms_days, dtype=np.int64)[row]
    width = int(length.max()) * PERIODS_PER_UTC_DAY if row.size else 0
    slot = np.arange(width)
    slots = slot[None, :] < length[:, None] * PERIODS_PER_UTC_DAY
    cols = np.minimum(first[:, None] * PERIODS_PER_UTC_DAY + slot, t - 1)  # padding slots repeat the last column
    return row, first - 1, first + length, slots, cols


def _estimate(
    true: np.ndarray, available: np.ndarray, row: np.ndarray, before: np.ndarray, after: np.ndarray,
    slots: np.ndarray, values: np.ndarray,
) -> np.ndarray:
    """Share each group's true total over its slots by the meter's recent shape, capped [Wh]."""
    total = np.where(slots, values, 0).sum(axis=1)
    cap = recent_maximum(true, available, row, before + 1, after - 1)
    weights = choose_profile(recent_profiles(true, available, row, before, after, slots), total, cap)
    return shaped_spread(total, weights, slots, cap)
