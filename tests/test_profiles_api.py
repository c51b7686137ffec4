"""Public API: names, defaults and precise errors for bad input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from mhhs_workbench.model.profiles import (
    ARCHETYPE_SPECS,
    ARCHETYPES,
    ConsumptionResult,
    consumption,
    default_meters,
    typical_annual_kwh,
)
from mhhs_workbench.time.periods import day_range

DAYS = day_range("2025-05-01", "2025-05-02")


def test_archetypes_and_specs() -> None:
    assert ARCHETYPES == (
        "domestic_unrestricted",
        "domestic_economy7",
        "non_domestic_unrestricted",
        "non_domestic_economy7",
        "maximum_demand_pc5",
        "maximum_demand_pc6",
        "maximum_demand_pc7",
        "maximum_demand_pc8",
        "unmetered_street_lighting",
    )
    assert ARCHETYPE_SPECS["unmetered_street_lighting"].connection_types == ("U",)
    assert set(ARCHETYPE_SPECS["maximum_demand_pc5"].connection_types) == {"L", "H"}
    assert all(ARCHETYPE_SPECS[a].reactive == a.startswith("maximum_demand") for a in ARCHETYPES)
    with pytest.raises(ValueError, match="unknown archetype"):
        typical_annual_kwh("bakery")


def test_minimal_table_and_result_types() -> None:
    meters = pd.DataFrame(
        {"meter_index": [3, 1], "archetype": "domestic_unrestricted", "gsp_group": "_C"}
    )
    r = consumption(meters, DAYS, seed=1)
    assert isinstance(r, ConsumptionResult) and dataclasses.is_dataclass(r)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.import_wh = None  # type: ignore[misc]
    assert r.import_wh.shape == (2, 96) and r.import_wh.dtype == np.int64
    assert not r.export_wh.any() and not r.reactive_import_varh.any()
    assert r.period_ends.shape == (96,) and str(r.period_ends[0]) == "2025-05-01T00:30"
    assert (r.import_wh.sum(axis=1) > 0).all()
    nan_overlays = meters.assign(pv_kwp=np.nan, ev_kw=np.nan, ev_smart=None, heat_pump_kwh=np.nan)
    assert np.array_equal(consumption(nan_overlays, DAYS, seed=1).import_wh, r.import_wh)
    empty = consumption(meters.iloc[:0], DAYS, seed=1)
    assert empty.import_wh.shape == (0, 96)


def test_default_meters() -> None:
    m = default_meters(
        500, seed=3, pv_share=0.2, ev_share=0.1, heat_pump_share=0.05, start_index=100
    )
    assert list(m.columns) == [
        "meter_index",
        "archetype",
        "gsp_group",
        "annual_kwh",
        "pv_kwp",
        "ev_kw",
        "ev_smart",
        "heat_pump_kwh",
    ]
    assert m.meter_index.iloc[0] == 100 and m.annual_kwh.isna().all()
    assert 0.12 < (m.pv_kwp > 0).mean() < 0.28 and 0.05 < (m.ev_kw > 0).mean() < 0.15
    assert set(m.ev_kw.unique()) <= {0.0, 3.5, 7.0}
    assert m.gsp_group.nunique() == 14
    assert default_meters(10, "unmetered_street_lighting", pv_share=1.0).pv_kwp.eq(0).all()


@pytest.mark.parametrize(
    "change,message",
    [
        ({"archetype": "bakery"}, "row 0: archetype 'bakery'"),
        ({"gsp_group": "_I"}, "row 0: gsp_group '_I'"),
        ({"pv_kwp": -1.0}, "row 0: pv_kwp -1.0 must be finite and zero or positive"),
        ({"annual_kwh": 0.0}, "annual_kwh 0.0 must be finite and positive"),
        ({"ev_kw": "fast"}, "ev_kw 'fast' is not a number"),
        ({"meter_index": -2}, "meter_index -2 is not a non-negative integer"),
    ],
)
def test_bad_rows_are_named(change: dict, message: str) -> None:
    meters = pd.DataFrame(
        {"meter_index": [0], "archetype": ["domestic_unrestricted"], "gsp_group": ["_A"]}
    )
    with pytest.raises(ValueError) as err:
        consumption(meters.assign(**change), DAYS, seed=1)
    assert message in str(err.value)


def test_table_level_errors() -> None:
    meters = pd.DataFrame(
        {"meter_index": [0, 0], "archetype": "domestic_unrestricted", "gsp_group": "_A"}
    )
    with pytest.raises(ValueError, match="repeated"):
        consumption(meters, DAYS, seed=1)
    with pytest.raises(ValueError, match="lacks column"):
        consumption(meters.drop(columns="gsp_group"), DAYS, seed=1)
    lamp = pd.DataFrame(
        {
            "meter_index": [0],
            "archetype": "unmetered_street_lighting",
            "gsp_group": "_A",
            "pv_kwp": 1.0,
        }
    )
    with pytest.raises(ValueError, match="cannot carry"):
        consumption(lamp, DAYS, seed=1)
    # heat pumps are fitted to homes: a business row with one is refused with the reason
    shop = lamp.assign(archetype="non_domestic_unrestricted", pv_kwp=5.0, heat_pump_kwh=4000.0)
    with pytest.raises(ValueError, match="row 0: non_domestic_unrestricted cannot carry heat_pump_kwh 4000.0: "
                                         "heat pumps are modelled for homes only"):
        consumption(shop, DAYS, seed=1)
    assert consumption(shop.assign(heat_pump_kwh=0.0), DAYS, seed=1).import_wh.sum() > 0
    with pytest.raises(ValueError, match="consecutive"):
        consumption(
            meters.iloc[:1], np.array(["2025-01-01", "2025-01-03"], dtype="datetime64[D]"), seed=1
        )
