"""Clock changes, leap days and local time: people live by the local clock."""

from __future__ import annotations

import numpy as np
import pytest

from mhhs_workbench.model.profiles import (
    consumption,
    default_meters,
    economy7_night_mask,
    model_column_shapes,
)
from mhhs_workbench.model.profiles.timegrid import TimeGrid, local_slot_multiplicity
from mhhs_workbench.time.periods import day_range, utc_period_ends, utc_to_local

SPRING, AUTUMN = np.datetime64("2025-03-30"), np.datetime64("2025-10-26")


def test_grid_matches_settlement_time() -> None:
    days = day_range("2025-03-28", "2025-11-01")
    grid = TimeGrid.build(days)
    dates, _ = utc_to_local(utc_period_ends(days).ravel())
    assert np.array_equal(grid.local_dates, dates)
    assert np.array_equal(grid.period_ends, utc_period_ends(days).ravel())


def test_clock_slots_skip_and_repeat() -> None:
    grid = TimeGrid.build(day_range("2025-03-29", "2025-10-27"))
    spring = grid.local_slots[grid.local_dates == SPRING]
    autumn = grid.local_slots[grid.local_dates == AUTUMN]
    assert spring.size == 46 and not np.isin([2, 3], spring).any()
    assert autumn.size == 50 and np.sum(autumn == 2) == 2 and np.sum(autumn == 3) == 2
    assert np.array_equal(
        local_slot_multiplicity(np.array([SPRING, AUTUMN]))[:, 2:4], [[0, 0], [2, 2]]
    )


@pytest.mark.parametrize(
    "first,last",
    [("2025-03-29", "2025-03-31"), ("2025-10-25", "2025-10-27"), ("2024-02-28", "2024-03-01")],
)
def test_special_days_generate_valid_values(first: str, last: str) -> None:
    days = day_range(first, last)
    meters = default_meters(
        30, "domestic_economy7", seed=1, pv_share=0.5, ev_share=0.5, heat_pump_share=0.5
    )
    result = consumption(meters, days, seed=2)
    assert result.period_ends.dtype == np.dtype("datetime64[m]")
    assert np.array_equal(result.period_ends, utc_period_ends(days).ravel())
    for a in (
        result.import_wh,
        result.export_wh,
        result.reactive_import_varh,
        result.reactive_export_varh,
    ):
        assert a.dtype == np.int64 and a.shape == (30, days.size * 48) and a.min() >= 0
    # the storage-heater night circuit runs in the GMT window on both sides of a change
    night = economy7_night_mask(result.period_ends)
    per_half_hour = result.import_wh.mean(axis=0)
    assert per_half_hour[night].mean() > 1.3 * per_half_hour[~night].mean()


def test_shapes_follow_the_local_clock() -> None:
    meters = default_meters(300, seed=6)
    model = model_column_shapes("domestic_unrestricted")
    for first, last, column, offset in (
        ("2025-01-13", "2025-01-17", "Wtr Wd", 0),  # GMT: UTC slot = local slot
        ("2025-06-16", "2025-06-20", "Smr Wd", 2),  # BST: UTC slot u is local slot u + 2
    ):
        days = day_range(first, last)
        utc_mean = consumption(meters, days, seed=1).import_wh.mean(axis=0).reshape(-1, 48).mean(0)
        local = model[column].to_numpy()
        r = {shift: np.corrcoef(utc_mean, np.roll(local, -shift))[0, 1] for shift in (0, 2)}
        assert r[offset] > 0.95
        assert r[offset] > r[2 - offset]
