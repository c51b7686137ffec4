"""Annual consumption: drawn means, exact figures to the Wh, a level independent of the range."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mhhs_workbench.codes.archetypes import archetype_spec
from mhhs_workbench.model.profiles import (
    ARCHETYPES,
    consumption,
    consumption_components,
    default_meters,
    typical_annual_kwh,
)
from mhhs_workbench.model.profiles import individuality as ind
from mhhs_workbench.time.periods import day_range


def _meters(annual: list[float], archetypes: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "meter_index": np.arange(len(annual)) * 13 + 5,
            "archetype": archetypes,
            "gsp_group": ["_A", "_N", "_K", "_P", "_C", "_L"][: len(annual)],
            "annual_kwh": annual,
        }
    )


@pytest.mark.parametrize("archetype", ARCHETYPES)
def test_drawn_annual_mean_within_two_percent(archetype: str) -> None:
    idx = np.arange(1000, 1512)
    levels = ind.annual_kwh(archetype_spec(archetype), 42, idx, np.full(idx.size, np.nan))
    error = levels.mean() / typical_annual_kwh(archetype) - 1
    assert abs(error) < 0.02, error
    assert levels.std() / levels.mean() > 0.2  # a real spread, not one value


def test_generated_population_mean_within_two_percent() -> None:
    year = day_range("2025-01-01", "2025-12-31")
    meters = default_meters(512, "domestic_unrestricted", seed=9)
    total = consumption(meters, year, seed=4).import_wh.sum(axis=1) / 1000.0
    error = total.mean() / 2700.0 - 1
    print(f"domestic population mean {total.mean():.1f} kWh vs 2,700 ({100 * error:+.2f} %)")
    assert abs(error) < 0.02
    requested = meters.assign(annual_kwh=3100.0)
    total = consumption(requested, year, seed=4).import_wh.sum(axis=1) / 1000.0
    assert abs(total.mean() / 3100.0 - 1) < 1e-9


@pytest.mark.parametrize("year", [2025, 2024])
def test_exact_annual_figure_to_the_wh(year: int) -> None:
    days = day_range(f"{year}-01-01", f"{year}-12-31")
    annual = [1234.567, 2700.0, 9999.9994, 150_000.0, 20_000.0, 4_321.0]
    archetypes = [
        "domestic_unrestricted",
        "domestic_economy7",
        "non_domestic_economy7",
        "maximum_demand_pc6",
        "unmetered_street_lighting",
        "non_domestic_unrestricted",
    ]
    meters = _meters(annual, archetypes)
    result = consumption(meters, days, seed=77)
    assert result.import_wh.shape == (6, days.size * 48)
    expected = np.rint(np.array(annual) * 1000).astype(np.int64)
    assert np.array_equal(result.import_wh.sum(axis=1), expected)


def test_overlays_keep_annual_archetype_load_and_heat_pump_exact() -> None:
    days = day_range("2024-01-01", "2024-12-31")
    meters = _meters([3000.0, 4000.0], ["domestic_unrestricted", "domestic_economy7"]).assign(
        pv_kwp=[4.0, 0.0], ev_kw=[7.0, 3.5], ev_smart=[False, True], heat_pump_kwh=[2500.5, 3333.0]
    )
    c = consumption_components(meters, days, seed=1)
    assert np.array_equal(c.base_wh.sum(axis=1), [3_000_000, 4_000_000])
    assert np.array_equal(c.heat_pump_wh.sum(axis=1), [2_500_500, 3_333_000])
    assert np.array_equal(c.annual_kwh, [3000.0, 4000.0])


def test_partial_range_has_the_full_year_level() -> None:
    meters = default_meters(20, "domestic_economy7", seed=3)
    full = consumption_components(meters, day_range("2025-01-01", "2025-12-31"), seed=8)
    part = consumption_components(meters, day_range("2025-02-01", "2025-02-28"), seed=8)
    sl = slice(31 * 48, 59 * 48)
    diff = part.base_wh - full.base_wh[:, sl]
    # same floats, rounded from a different starting point: each value within 1 Wh
    assert np.abs(diff).max() <= 1
    assert np.abs(part.base_wh.sum(1) - full.base_wh[:, sl].sum(1)).max() <= 1
    assert np.array_equal(part.annual_kwh, full.annual_kwh)
