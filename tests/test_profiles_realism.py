"""Realism of the fleet: no step at season boundaries, sites that differ, own reactive power, own
Economy 7 switching windows (load, registers and a valid data set)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import missing_reference

from mhhs_workbench.codes.archetypes import archetype_spec
from mhhs_workbench.dataset import generate_dataset
from mhhs_workbench.model.chunk import DatasetFrame
from mhhs_workbench.model.profiles import consumption, default_meters, reference_profile
from mhhs_workbench.model.profiles.economy7 import (
    NATIONAL_SHARES,
    USUAL_WINDOW,
    WINDOWS,
    economy7_windows,
    window_indices,
    window_masks,
)
from mhhs_workbench.model.profiles.plotting import population_column_means
from mhhs_workbench.notebook.message_frames import if021_frame, if041_frame
from mhhs_workbench.pipeline.chunks import generate_chunk
from mhhs_workbench.scenario import DataQuality, MeterMix, Scenario
from mhhs_workbench.time.periods import day_range, profile_day_types
from mhhs_workbench.validation.files import validate_files

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "profiles"
YEAR = day_range("2025-01-01", "2025-12-31")
WTR_WD, AUT_WD = 0, 12  # profile columns (season * 3 + day type)


@pytest.fixture(scope="module")
def reference_folder() -> Path:
    if not REFERENCE.is_dir():
        missing_reference(f"reference data not found at {REFERENCE} (../shared/reference/profiles)")
    return REFERENCE


def _weekly_weekday_means(archetype: str, n: int) -> pd.Series:
    """Fleet energy per ordinary weekday (no bank holidays), averaged per Monday-start week, for
    a year at a constant 10 °C (so only the shapes and the calendar move demand)."""
    temperature = pd.Series(10.0, index=pd.DatetimeIndex(YEAR.astype("datetime64[ns]")))
    result = consumption(default_meters(n, archetype, seed=1), YEAR, seed=5, temperature=temperature)
    daily = result.import_wh.reshape(n, YEAR.size, 48).sum(axis=(0, 2)).astype(float)
    weekday = profile_day_types(YEAR, "ENG") == 0
    monday = YEAR - ((YEAR.astype(np.int64) + 3) % 7).astype("timedelta64[D]")
    return pd.Series(daily[weekday]).groupby(monday[weekday]).mean()


@pytest.mark.parametrize(
    "archetype", ["domestic_unrestricted", "domestic_economy7", "maximum_demand_pc5"]
)
def test_no_step_in_demand_at_the_october_clock_change(archetype: str, reference_folder: Path) -> None:
    weeks = _weekly_weekday_means(archetype, 600)
    change = np.abs(np.log(weeks.to_numpy()[1:] / weeks.to_numpy()[:-1]))
    starts = weeks.index.to_numpy()[1:]  # Monday of the later week of each pair
    october = np.datetime64("2025-10-27")  # the Monday after the clock change (26 October)
    month = starts.astype("datetime64[M]").astype(np.int64) % 12 + 1
    # other adjacent weeks of autumn and winter, away from the March clock change
    others = np.isin(month, [9, 10, 11, 12, 1, 2]) & (starts != october)
    across = float(change[starts == october][0])
    # the step that switching Elexon's Autumn to Winter weekday overnight would make
    ref = reference_profile(archetype_spec(archetype).profile_class, reference_folder)
    old_step = abs(np.log(ref.iloc[:, WTR_WD].sum() / ref.iloc[:, AUT_WD].sum()))
    print(
        f"{archetype}: across the change x{np.exp(across):.3f}, largest other autumn/winter "
        f"week x{np.exp(change[others].max()):.3f}, season switch x{np.exp(old_step):.3f}"
    )
    assert across <= change[others].max()
    assert across < old_step / 3


@pytest.mark.parametrize(
    "archetype", ["maximum_demand_pc5", "maximum_demand_pc6", "maximum_demand_pc7"]
)
def test_maximum_demand_sites_have_their_own_operating_pattern(archetype: str) -> None:
    n = 60
    days = day_range("2025-01-06", "2025-06-29")
    result = consumption(default_meters(n, archetype, seed=2), days, seed=5)
    average_day = result.import_wh.reshape(n, days.size, 48).mean(axis=1)
    pairs = np.corrcoef(average_day)[np.triu_indices(n, 1)]
    print(f"{archetype}: median pairwise correlation of average days {np.median(pairs):.3f}")
    assert np.median(pairs) < 0.85
    assert np.percentile(pairs, 10) < 0.7  # some sites work quite other hours


@pytest.mark.parametrize("profile_class", [5, 6, 7])
def test_fleet_of_differing_sites_keeps_the_class_shape(
    profile_class: int, reference_folder: Path
) -> None:
    archetype = f"maximum_demand_pc{profile_class}"
    result = consumption(default_meters(400, archetype, seed=3), YEAR, seed=11)
    generated = population_column_means(result, YEAR)
    ref = reference_profile(profile_class, reference_folder).to_numpy().T
    r = np.array([np.corrcoef(generated[c], ref[c])[0, 1] for c in range(15)])
    working = np.arange(15) % 3 != 2  # weekday and Saturday columns (Sundays are nearly flat)
    print(f"PC{profile_class}: weekday/Saturday column r min {r[working].min():.3f}")
    assert r[working].min() >= 0.95


def test_reactive_power_is_not_proportional_to_active() -> None:
    days = day_range("2025-02-03", "2025-03-30")
    meters = pd.concat(
        [default_meters(40, f"maximum_demand_pc{pc}", seed=4, start_index=100 * pc) for pc in (5, 6, 7, 8)]
    )
    result = consumption(meters, days, seed=9)
    ri, re, ai = result.reactive_import_varh, result.reactive_export_varh, result.import_wh
    assert ri.dtype == re.dtype == np.int64 and ri.min() >= 0 and re.min() >= 0
    net = (ri - re).astype(float)
    r = np.array([np.corrcoef(ai[i], net[i])[0, 1] for i in range(len(meters))])
    ratio = net.sum(axis=1) / ai.sum(axis=1)
    print(f"reactive vs active r: median {np.median(r):.3f}, below 0.9 for {np.mean(r < 0.9):.0%}")
    assert np.mean(r < 0.9) > 0.6
    assert np.median(r) < 0.9
    assert np.median(r) > 0.5  # still driven by the site's load
    assert np.ptp(ratio) > 0.1  # power factors differ between sites


def test_economy7_meters_switch_at_several_times_with_a_regional_tendency() -> None:
    meters = default_meters(4000, "domestic_economy7", seed=3)
    groups = meters["gsp_group"].to_numpy()
    windows = economy7_windows(8, meters["meter_index"].to_numpy(), groups)
    shares = np.bincount(windows, minlength=len(WINDOWS)) / windows.size
    print("window shares", dict(zip([w.label for w in WINDOWS], shares.round(3), strict=True)))
    assert np.count_nonzero(shares > 0.02) >= 5 and shares.max() < 0.7
    assert any("+" in WINDOWS[k].label for k in np.flatnonzero(shares > 0.02))  # split windows
    for group, usual in USUAL_WINDOW.items():
        mine = windows[groups == group]
        assert np.mean(mine == usual) > NATIONAL_SHARES[usual] + 0.1
    again = economy7_windows(8, meters["meter_index"].to_numpy()[::-1], groups[::-1])[::-1]
    assert np.array_equal(again, windows)  # keyed by meter, whatever the order


def test_economy7_load_follows_the_meter_window() -> None:
    days = day_range("2025-01-13", "2025-02-09")
    meters = default_meters(800, "domestic_economy7", seed=6)
    windows = economy7_windows(3, meters["meter_index"].to_numpy(), meters["gsp_group"].to_numpy())
    result = consumption(meters, days, seed=3)
    own = window_masks(windows, result.period_ends)
    inside = np.where(own, result.import_wh, 0).sum(1) / own.sum(1)
    outside = np.where(own, 0, result.import_wh).sum(1) / (~own).sum(1)
    assert np.median(inside / outside) > 1.5  # storage and water heating charge in the window
    boost = window_indices(["01:00-06:00+13:00-15:00"])[0]
    minute = (result.period_ends - result.period_ends.astype("datetime64[D]")).astype(np.int64)
    afternoon = (minute > 13 * 60) & (minute <= 15 * 60)  # the boost's 13:00-15:00 UTC
    per_meter = result.import_wh[:, afternoon].mean(axis=1) / result.import_wh.mean(axis=1)
    assert per_meter[windows == boost].mean() > 1.3 * per_meter[windows == 0].mean()


def _e7_scenario(**changes) -> Scenario:
    base = dict(
        name="e7",
        seed=21,
        start_date=dt.date(2025, 10, 24),
        end_date=dt.date(2025, 10, 28),  # spans the October clock change
        meters=MeterMix(
            count=40,
            archetypes={"domestic_economy7": 0.7, "non_domestic_economy7": 0.3},
            pv_share=0.2,
        ),
        data_quality=DataQuality(missing_share=0.02, comms_fault_share=0.2, deenergised_share=0.1,
                                 comms_fault_days=[1, 2], deenergised_days=[1, 2]),
    )
    base.update(changes)
    return Scenario(**base)


def test_night_register_advances_follow_each_meter_window() -> None:
    frame = DatasetFrame(_e7_scenario())
    chunk = generate_chunk(frame, 0, 0, 40)
    meters = chunk.meters
    assert meters["economy7_window"].nunique() >= 3
    # the register's window is the one the consumption model charged the night load in
    drawn = economy7_windows(frame.scenario.seed, meters["meter_index"].to_numpy(), meters["gsp_group"].to_numpy())
    assert np.array_equal(window_indices(meters["economy7_window"].to_numpy()), drawn)
    ai = chunk.row_mqid == 0
    import_wh = np.zeros((len(meters), frame.n_days * 48), dtype=np.int64)
    import_wh[chunk.row_meter[ai]] = chunk.values[ai]
    masks = window_masks(window_indices(meters["economy7_window"].to_numpy()), frame.period_ends)
    reads = pd.DataFrame(chunk.reads)
    capacity = 10 ** (meters["register_digits"].to_numpy() + 3)
    checked = 0
    for j, mpan in enumerate(meters["mpan"]):
        night = reads[(reads["mpan"] == mpan) & (reads["register_id"] == "02")]
        night = night.drop_duplicates("read_datetime").sort_values("read_datetime")
        stamps = night["read_datetime"].to_numpy().astype("datetime64[m]")
        values = night["reading_wh"].to_numpy()
        for a in range(1, len(stamps)):
            sl = (frame.period_ends > stamps[a - 1]) & (frame.period_ends <= stamps[a])
            used = int(import_wh[j, sl & masks[j]].sum())
            assert (values[a] - values[a - 1]) % capacity[j] == used, (mpan, stamps[a])
            checked += 1
    assert checked > 50


def test_economy7_data_set_validates_and_reads_reconcile(tmp_path: Path, official_spec_dir) -> None:
    out = tmp_path / "e7"
    generate_dataset(_e7_scenario(), out, progress=False, chunk_size=7)
    report = validate_files([out], spec_dir=official_spec_dir, business_rules=True)
    assert report.ok, report
    meters = pd.read_parquet(out / "tables" / "meters.parquet").set_index("mpan")
    periods = if021_frame([out / "messages"])
    ai = periods[periods["mqid"] == "AI"]
    ends = ai["sp"].dt.tz_localize(None).to_numpy().astype("datetime64[m]")
    windows = window_indices(ai["mpan"].map(meters["economy7_window"]).fillna("").to_numpy())
    inside = np.zeros(len(ai), dtype=bool)
    for k in np.unique(windows):
        rows = windows == k
        inside[rows] = window_masks(np.array([k]), ends[rows])[0]
    reads = if041_frame([out / "messages"]).drop_duplicates(["mpan", "register_id", "read_datetime"])
    checked = 0
    for (mpan, register), group in reads[reads["register_id"].isin(["01", "02"])].groupby(
        ["mpan", "register_id"]
    ):
        mine = ai[(ai["mpan"] == mpan).to_numpy() & (inside == (register == "02"))]
        series = mine.set_index("sp")["value_wh"].sort_index()
        group = group.sort_values("read_datetime")
        times, values = group["read_datetime"].to_list(), group["reading_wh"].to_numpy()
        capacity = 10 ** (int(meters.loc[mpan, "register_digits"]) + 3)
        for i in range(1, len(times)):
            used = int(series[(series.index > times[i - 1]) & (series.index <= times[i])].sum())
            assert (values[i] - values[i - 1]) % capacity == used, (mpan, register, times[i])
            checked += 1
    assert checked > 50
