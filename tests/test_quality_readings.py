"""Data quality estimates and register reads: the rules that keep imperfect data valid and exact."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mhhs_workbench.model.quality import (
    NO_SPELL,
    REASON_COMMS_FAULT,
    REASON_DEENERGISED,
    REASON_INVALID,
    REASON_MISSING,
    REPORTED_QUALITY_CODES,
    MeterQualityPlan,
    QualityPlan,
    apply_plan,
    apply_quality,
    plan_meter,
    spread,
)
from mhhs_workbench.model.readings import RegisterCapacityError, read_instants, register_values
from mhhs_workbench.scenario import DataQuality

N_DAYS = 10
N = N_DAYS * 48


def _plan(deenergised=None, comms=None, missing=()):
    mask = np.zeros(N, dtype=bool)
    mask[list(missing)] = True
    invalid = np.zeros(N, dtype=bool)
    if missing:
        invalid[list(missing)[0]] = True
    return MeterQualityPlan(deenergised, comms, mask, invalid)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**9), st.lists(st.floats(0, 100), min_size=1, max_size=60))
def test_spread_is_exact_and_close_to_proportional(total, weights):
    out = spread(total, np.array(weights))
    assert out.sum() == total and (out >= 0).all()
    w = np.array(weights) if sum(weights) > 0 else np.ones(len(weights))
    assert np.all(np.abs(out - total * w / w.sum()) < 1 + 1e-6)


@pytest.mark.parametrize("advanced", [False, True])
def test_estimates_keep_every_read_advance_and_flag_each_case(advanced):
    rng = np.random.default_rng(1)
    true = rng.integers(1, 900, N)
    plan = _plan(deenergised=(2, 2), comms=(6, 2), missing=(5, 6, 7, 400))
    (reported,), quality, reasons = apply_plan(plan, [true], advanced=advanced)
    codes = np.array(REPORTED_QUALITY_CODES)[quality]
    days_true, days_rep = true.reshape(N_DAYS, 48).sum(1), reported.reshape(N_DAYS, 48).sum(1)
    # de-energised days carry nothing; the fault keeps its read-to-read advance as a whole, and
    # the day with a three-period gap its actual daily advance
    assert (days_rep[2:4] == 0).all()
    assert days_rep[6:8].sum() == days_true[6:8].sum()
    keep = [0, 1, 4, 5, 9]
    np.testing.assert_array_equal(days_rep[keep], days_true[keep])
    # the lone missing period is estimated from its neighbours alone
    assert min(true[399], true[401]) <= reported[400] <= max(true[399], true[401])
    assert days_rep[8] - days_true[8] == reported[400] - true[400]
    e0, e1, e4 = ("EA1", "EA2", "EA5") if advanced else ("E0", "E1", "E4")
    assert (codes[2 * 48 : 4 * 48] == "ZE").all() and (reasons[2 * 48 : 4 * 48] == REASON_DEENERGISED).all()
    assert (codes[6 * 48 : 8 * 48] == e4).all() and (reasons[6 * 48 : 8 * 48] == REASON_COMMS_FAULT).all()
    assert codes[400] == e0 and reasons[400] == REASON_MISSING
    assert (codes[5:8] == e1).all() and reasons[5] == REASON_INVALID and (reasons[6:8] == REASON_MISSING).all()
    assert (codes[[0, 1, 8, 250]] == "A").all() and (reasons[[0, 1, 8, 250]] == 0).all()
    assert set(codes.tolist()) == {"A", "ZE", e0, e1, e4}


def test_shaped_estimates_follow_the_meters_own_days_and_create_nothing():
    """Export-like row: zero at night every day; a gap spanning dusk and a night must stay dark."""
    day = np.zeros(48, dtype=np.int64)
    day[16:32] = 400  # daylight export from 08:00 to 16:00
    true = np.tile(day, N_DAYS)
    true[3 * 48 + 20 : 3 * 48 + 24] = [300, 500, 200, 100]  # an uneven afternoon on day 3
    gap = [3 * 48 + p for p in range(20, 40)]  # 10:00 to 20:00 on day 3, dusk included
    plan = _plan(comms=(6, 2), missing=gap)
    (reported,), quality, _ = apply_plan(plan, [true])
    codes = np.array(REPORTED_QUALITY_CODES)[quality]
    assert (codes[gap] == "E1").all()
    assert reported[gap].sum() == true[gap].sum()
    # nothing where the meter's own days show nothing, nothing above its recent maximum
    dark = np.tile(day == 0, N_DAYS)
    assert (reported[dark] == 0).all()
    assert reported.max() <= 500
    assert (codes[6 * 48 : 8 * 48] == "E4").all()
    np.testing.assert_array_equal(reported[6 * 48 : 8 * 48], true[6 * 48 : 8 * 48])


def test_plans_depend_on_the_meter_and_stay_apart():
    settings_ = DataQuality(missing_share=0.01, comms_fault_share=1.0, deenergised_share=1.0,
                            comms_fault_days=[1, 3], deenergised_days=[1, 3])
    for meter in range(50):
        plan = plan_meter(settings_, 7, meter, 30, metered=True)
        np.testing.assert_array_equal(plan.missing, plan_meter(settings_, 7, meter, 30, metered=True).missing)
        d = plan.deenergised
        assert d and 1 <= d[0] and d[0] + d[1] <= 29  # a normal day on either side
        if plan.comms_fault:
            c = plan.comms_fault
            assert c[0] + c[1] <= d[0] or c[0] >= d[0] + d[1]  # never overlapping
        # no missing periods inside a fault or a de-energised spell
        assert not plan.missing[d[0] * 48 : (d[0] + d[1]) * 48].any()
    unmetered = plan_meter(settings_, 7, 3, 30, metered=False)
    assert unmetered.deenergised is None and not unmetered.missing.any()


def test_reads_skip_faults_mark_energisation_and_estimate_a_cos_read_during_a_fault():
    plan = _plan(deenergised=(2, 2), comms=(6, 3))
    reads = read_instants(N_DAYS, plan, change_of_supplier_day=7)
    by_day = {}
    for r in reads:
        by_day.setdefault(r.boundary, []).append(r)
    assert by_day[0][0].event_code == "[ReadingInstl]"
    assert [r.event_code for r in by_day[2]] == ["[ReadingEnergisationChg]"]
    assert by_day[2][0].site_visit_check_code == "04" and by_day[4][0].site_visit_check_code == "03"
    assert 3 not in by_day  # de-energised: no remote reads
    assert 7 in by_day and [r.event_code for r in by_day[7]] == ["[ReadingCOS]"]
    assert by_day[7][0].reading_method == "E"  # the meter could not be read: the DS estimates
    assert 8 not in by_day and [r.event_code for r in by_day[9]] == ["[ReadingRemote]"]
    assert all(r.reading_method == "A" for b, rs in by_day.items() if b != 7 for r in rs)


def test_register_values_wrap_and_refuse_ambiguous_gaps():
    half_hours = np.full(3 * 48, 100)  # 4.8 kWh a day
    values = register_values(9_000, half_hours, np.array([0, 1, 2, 3]), 10_000)
    np.testing.assert_array_equal(values, [9_000, 3_800, 8_600, 3_400])
    with pytest.raises(RegisterCapacityError, match="roll over more than once"):
        register_values(0, half_hours, np.array([0, 3]), 10_000)


def test_half_hours_before_a_meters_install_are_neither_estimated_nor_used():
    true = np.full(N, 100, dtype=np.int64)
    true[: 3 * 48] = 5_000  # what the model gives before the meter exists: never measured
    plan = _plan(missing=(3 * 48, 3 * 48 + 5, 48))
    (reported,), quality, reasons = apply_quality(
        QualityPlan(np.array([NO_SPELL]), np.array([0]), np.array([NO_SPELL]), np.array([0]),
                    plan.missing[None], plan.invalid[None]),
        [true[None]], np.array([True]), first_period=np.array([3 * 48]))
    codes = np.array(REPORTED_QUALITY_CODES)[quality[0]]
    # the install's first half hour has no measured neighbour before it: not a lone E0 gap
    assert codes[3 * 48] == "E1" and codes[3 * 48 + 5] == "E0" and codes[48] == "A"
    assert reported[0, 3 * 48] == 100 and reported[0, 3 * 48 + 5] == 100
    assert reasons[0, 48] == 0
