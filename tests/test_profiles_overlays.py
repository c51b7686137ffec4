"""Overlays: heat pumps, rooftop PV, EV charging, street lighting and reactive energy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import missing_reference

from mhhs_workbench.codes.identifiers import LATITUDE_BY_GSP_GROUP, LONGITUDE_BY_GSP_GROUP
from mhhs_workbench.model.profiles import consumption, consumption_components, default_meters
from mhhs_workbench.model.profiles.reference import reference_heat_pump_daily, reference_temperature
from mhhs_workbench.model.profiles.solar import sun_vector
from mhhs_workbench.model.profiles.timegrid import TimeGrid
from mhhs_workbench.time.periods import day_range

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "profiles"
YEAR = day_range("2025-01-01", "2025-12-31")


@pytest.fixture(scope="module")
def reference_folder() -> Path:
    if not REFERENCE.is_dir():
        missing_reference(f"reference data not found at {REFERENCE} (../shared/reference/profiles)")
    return REFERENCE


@pytest.fixture(scope="module")
def pv_homes():
    meters = default_meters(40, seed=4).assign(pv_kwp=4.0)
    meters.loc[::2, "gsp_group"] = "_P"  # half in North Scotland, the longest summer days
    return meters, consumption_components(meters, YEAR, seed=1)


def test_heat_pump_follows_the_2013_temperature_relation(reference_folder: Path) -> None:
    days = day_range("2013-01-01", "2013-12-31")
    meters = default_meters(20, seed=4).assign(heat_pump_kwh=3000.0)
    c = consumption_components(
        meters, days, seed=1, temperature=reference_temperature(reference_folder)
    )
    daily = c.heat_pump_wh.sum(axis=0).reshape(days.size, 48).sum(axis=1)
    ref = reference_heat_pump_daily(reference_folder)
    r = np.corrcoef(daily, ref["elec"].to_numpy())[0, 1]
    r_temp = np.corrcoef(daily, ref["temperature_c"].to_numpy())[0, 1]
    print(f"heat pump daily energy vs 2013 reference r = {r:.4f}; vs temperature r = {r_temp:.3f}")
    assert r >= 0.9
    assert r_temp < -0.9
    assert np.array_equal(c.heat_pump_wh.sum(axis=1), np.full(20, 3_000_000))


def test_pv_is_zero_in_the_dark_and_peaks_at_noon(pv_homes) -> None:
    meters, c = pv_homes
    grid = TimeGrid.build(YEAR)
    for gsp in ("_P", meters.gsp_group.iloc[1]):
        rows = np.flatnonzero(meters.gsp_group.to_numpy() == gsp)
        samples = grid.period_ends[:, None] - np.array([30, 20, 10, 0], dtype="timedelta64[m]")
        up = sun_vector(samples, LATITUDE_BY_GSP_GROUP[gsp], LONGITUDE_BY_GSP_GROUP[gsp])[..., 2]
        dark = (up <= 0).all(axis=1)
        assert c.generation_wh[np.ix_(rows, dark)].max() == 0
        assert c.result.export_wh[np.ix_(rows, dark)].max() == 0
    day_mean = c.generation_wh.mean(axis=0).reshape(-1, 48).mean(axis=0)
    peak_end = (int(day_mean.argmax()) + 1) / 2  # period end [h UTC]
    assert 11.5 <= peak_end <= 13.5


def test_pv_yield_and_seasons(pv_homes) -> None:
    _, c = pv_homes
    kwh_per_kwp = c.generation_wh.sum(axis=1) / 4.0 / 1000.0
    daily = c.generation_wh.mean(axis=0).reshape(-1, 48).sum(axis=1)
    month = YEAR.astype("datetime64[M]").astype(np.int64) % 12 + 1
    ratio = daily[np.isin(month, [6, 7, 8])].mean() / daily[np.isin(month, [12, 1, 2])].mean()
    print(
        f"PV yield {kwh_per_kwp.mean():.0f} kWh/kWp "
        f"({kwh_per_kwp.min():.0f}-{kwh_per_kwp.max():.0f}); "
        f"summer/winter daily ratio {ratio:.2f}"
    )
    assert 3 <= ratio <= 7
    assert 800 <= kwh_per_kwp.mean() <= 1050


def test_import_and_export_are_consistent_with_generation(pv_homes) -> None:
    meters, c = pv_homes
    r = c.result
    use = c.self_use_wh
    assert np.array_equal(c.demand_wh - use, r.import_wh)
    assert np.array_equal(c.generation_wh - use, r.export_wh)
    assert np.array_equal(use, np.minimum(c.demand_wh, c.generation_wh))
    assert r.import_wh.min() >= 0 and r.export_wh.min() >= 0
    assert (np.minimum(r.import_wh, r.export_wh) == 0).all()  # never both in one half hour
    no_pv = consumption(meters.assign(pv_kwp=0.0), YEAR[:14], seed=1)
    assert not no_pv.export_wh.any()


def test_ev_sessions_smart_and_unmanaged() -> None:
    days = day_range("2025-01-06", "2025-03-02")  # eight weeks, GMT
    meters = default_meters(40, seed=8).assign(ev_kw=np.where(np.arange(40) % 2, 7.0, 3.5))
    meters = meters.assign(ev_smart=np.arange(40) < 20)
    c = consumption_components(meters, days, seed=3)
    ev = c.ev_wh
    assert ev.min() >= 0
    assert (ev <= (meters.ev_kw.to_numpy() * 500)[:, None]).all()
    starts = ((ev[:, 1:] > 0) & (ev[:, :-1] == 0)).sum(axis=1)
    per_week = starts / (days.size / 7)
    print(
        f"EV sessions per week: mean {per_week.mean():.2f}; annualised energy "
        f"{ev.sum(axis=1).mean() / 1000 * 365 / days.size:.0f} kWh"
    )
    assert 2.0 <= per_week.mean() <= 4.0
    slot = np.tile(np.arange(48), days.size)  # local = UTC slot in winter
    smart_slots = np.unique(slot[ev[:20].sum(axis=0) > 0])
    assert set(smart_slots) <= set(range(0, 11)) | {47}  # 23:30-05:30 local
    plug = (ev[20:, 1:] > 0) & (ev[20:, :-1] == 0)
    start_slots = (np.nonzero(plug)[1] + 1) % 48
    assert start_slots.min() >= 32 and start_slots.max() <= 45  # 16:00-22:30 local


def test_business_ev_charges_at_work_on_working_days() -> None:
    days = day_range("2025-01-06", "2025-03-02")  # eight weeks from a Monday, GMT
    meters = default_meters(30, archetype="non_domestic_unrestricted", seed=8).assign(ev_kw=7.0, ev_smart=False)
    ev = consumption_components(meters, days, seed=3).ev_wh
    starts = np.nonzero((ev[:, 1:] > 0) & (ev[:, :-1] == 0))
    slots, day = (starts[1] + 1) % 48, (starts[1] + 1) // 48
    assert slots.min() >= 13 and slots.max() <= 22  # plugged in on arrival, 06:30-11:00 local
    weekend = (day % 7) >= 5
    per_weekday, per_weekend_day = (~weekend).sum() / (30 * 40), weekend.sum() / (30 * 16)
    print(f"business EV sessions per site and weekday {per_weekday:.2f}, weekend day {per_weekend_day:.2f}")
    assert 0.6 <= per_weekday <= 0.95 and per_weekend_day <= 0.2
    # Christmas week: a working day's chance on the working days only
    xmas = day_range("2025-12-22", "2025-12-28")  # Mon-Sun; 25 and 26 December are bank holidays
    x = consumption_components(meters, xmas, seed=3).ev_wh.reshape(30, 7, 48).sum(axis=(0, 2))
    print(f"business EV energy by day of Christmas week [kWh]: {(x / 1000).round(0).tolist()}")
    assert x[3] + x[4] < 0.25 * (x[0] + x[1]) and x[2] > 0.25 * (x[0] + x[1]) / 2
    # the same chargers at homes charge in the evening
    homes = default_meters(30, seed=8).assign(ev_kw=7.0, ev_smart=False)
    home = consumption_components(homes, days, seed=3).ev_wh
    home_starts = (np.nonzero((home[:, 1:] > 0) & (home[:, :-1] == 0))[1] + 1) % 48
    assert home_starts.min() >= 32


def test_street_lighting_is_dusk_to_dawn() -> None:
    days = day_range("2025-06-20", "2025-06-21")
    meters = default_meters(12, "unmetered_street_lighting", seed=2)
    r = consumption(meters, days, seed=1)
    hour = np.tile(np.arange(48), days.size) / 2
    assert not r.import_wh[:, (hour >= 9) & (hour < 17)].any()  # broad daylight
    winter = consumption(meters, day_range("2025-12-20", "2025-12-21"), seed=1).import_wh
    assert (winter[:, hour == 20] > 0).all()  # evening darkness in December
    assert not r.export_wh.any() and not r.reactive_import_varh.any()


def test_reactive_energy_of_maximum_demand_sites() -> None:
    days = day_range("2025-01-06", "2025-01-19")
    md = consumption(default_meters(40, "maximum_demand_pc6", seed=3), days, seed=1)
    ratio = md.reactive_import_varh.sum() / md.import_wh.sum()
    assert 0.1 < ratio < 0.5
    assert md.reactive_export_varh.sum() < 0.05 * md.reactive_import_varh.sum()
    assert md.reactive_export_varh.any()  # some sites over-compensate at light load
    home = consumption(default_meters(10, seed=3), days, seed=1)
    assert not home.reactive_import_varh.any() and not home.reactive_export_varh.any()
