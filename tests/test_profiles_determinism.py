"""Same seed and meter give the same values whatever chunk they are generated in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mhhs_workbench.model.profiles import consumption, consumption_components, default_meters
from mhhs_workbench.time.periods import day_range

FIELDS = ("import_wh", "export_wh", "reactive_import_varh", "reactive_export_varh")
DAYS = day_range("2025-03-27", "2025-04-02")  # spans the March clock change


@pytest.fixture(scope="module")
def mixed() -> pd.DataFrame:
    homes = default_meters(26, seed=2, pv_share=0.4, ev_share=0.4, heat_pump_share=0.4)
    homes = homes.assign(annual_kwh=np.where(np.arange(26) % 3 == 0, 3200.0, np.nan))
    e7 = default_meters(8, "domestic_economy7", seed=2, start_index=40, pv_share=0.5)
    md = default_meters(10, "maximum_demand_pc5", seed=2, start_index=900)
    ums = default_meters(6, "unmetered_street_lighting", seed=2, start_index=5000)
    return pd.concat([homes, e7, md, ums], ignore_index=True)


def test_chunks_of_seven_equal_one_go(mixed: pd.DataFrame) -> None:
    assert len(mixed) == 50
    whole = consumption(mixed, DAYS, seed=9)
    parts = [consumption(mixed.iloc[i : i + 7], DAYS, seed=9) for i in range(0, 50, 7)]
    for f in FIELDS:
        assert np.array_equal(getattr(whole, f), np.concatenate([getattr(p, f) for p in parts])), f
    shuffled = mixed.sample(frac=1.0, random_state=3)
    again = consumption(shuffled, DAYS, seed=9)
    order = shuffled.index.to_numpy()
    for f in FIELDS:
        assert np.array_equal(getattr(again, f), getattr(whole, f)[order]), f


def test_same_seed_repeats_and_other_seeds_differ(mixed: pd.DataFrame) -> None:
    a = consumption(mixed, DAYS, seed=9)
    b = consumption(mixed, DAYS, seed=9)
    c = consumption(mixed, DAYS, seed=10)
    for f in FIELDS:
        assert np.array_equal(getattr(a, f), getattr(b, f))
    assert (a.import_wh != c.import_wh).mean() > 0.5


def test_time_chunks_agree_to_rounding() -> None:
    meters = default_meters(12, seed=4, ev_share=0.5, heat_pump_share=0.5)
    both = consumption_components(meters, day_range("2025-01-01", "2025-02-28"), seed=3)
    jan = consumption_components(meters, day_range("2025-01-01", "2025-01-31"), seed=3)
    feb = consumption_components(meters, day_range("2025-02-01", "2025-02-28"), seed=3)
    for part in ("base_wh", "heat_pump_wh"):
        joined = np.concatenate([getattr(jan, part), getattr(feb, part)], axis=1)
        assert np.abs(joined - getattr(both, part)).max() <= 1
    joined_ev = np.concatenate([jan.ev_wh, feb.ev_wh], axis=1)
    assert np.array_equal(joined_ev, both.ev_wh)  # EV sessions are whole-Wh by construction
