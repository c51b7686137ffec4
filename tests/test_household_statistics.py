"""Generated homes behave like real ones: per-home statistics against a year of 50 London homes.

The real statistics are computed here from the household sample in the reference folder
(``../shared/reference/households/``); nothing is copied from it. A year of generated PC1 homes
(no PV, EV or heat pump) must put the median of every statistic inside the sample's 10th-90th
percentile range of homes and within 20 % of the sample's median.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import missing_reference

from mhhs_workbench.model.profiles import consumption, default_meters
from mhhs_workbench.model.profiles import household_statistics as hs
from mhhs_workbench.model.profiles import individuality as ind
from mhhs_workbench.time.periods import day_range
from mhhs_workbench.ui import ProfileDesigner

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
GENERATED_HOMES = 80


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    if not (REFERENCE / hs.SAMPLE_FILE).is_file():
        missing_reference(f"household sample not found at {REFERENCE / hs.SAMPLE_FILE}")
    _, _, kwh = hs.read_sample(REFERENCE)
    return hs.home_statistics(kwh)


@pytest.fixture(scope="module")
def generated() -> pd.DataFrame:
    return hs.home_statistics(hs.generated_homes(GENERATED_HOMES))


@pytest.mark.parametrize("statistic", list(hs.STATISTICS))
def test_generated_homes_match_real_homes(
    statistic: str, real: pd.DataFrame, generated: pd.DataFrame
) -> None:
    table = hs.comparison_table(generated, real)
    row = table.loc[statistic]
    print(
        f"{hs.STATISTICS[statistic]}: generated median {row.generated_median:.4g} "
        f"({row.generated_p10:.4g}-{row.generated_p90:.4g}), real median {row.real_median:.4g} "
        f"({row.real_p10:.4g}-{row.real_p90:.4g})"
    )
    assert row.real_p10 <= row.generated_median <= row.real_p90
    assert abs(row.generated_median - row.real_median) <= 0.2 * abs(row.real_median)


def test_the_sample_is_read_whole(real: pd.DataFrame) -> None:
    homes, starts, kwh = hs.read_sample(REFERENCE)
    assert homes.size == kwh.shape[0] == 50
    assert starts.size == kwh.shape[1] == 365 * 48
    assert np.isfinite(kwh).sum() == 828_988  # every reading lands in its own cell
    assert len(real) >= 45  # only homes with too few complete days are left out


def test_homes_without_pv_read_zero_no_more_often_than_real_homes(real: pd.DataFrame) -> None:
    values = hs.generated_homes(GENERATED_HOMES)
    share = (values == 0).mean()
    print(
        f"zero half hours: generated {100 * share:.4f} %, real median home "
        f"{100 * real.zero_share.median():.4f} %, real mean {100 * real.zero_share.mean():.3f} %"
    )
    assert share <= real.zero_share.mean()
    assert np.median((values == 0).mean(axis=1)) <= real.zero_share.median()


def test_a_fortnight_of_homes_without_pv_has_almost_no_zeros() -> None:
    days = day_range("2025-01-06", "2025-01-19")
    values = consumption(default_meters(300, seed=4), days, seed=9).import_wh
    zeros = (values == 0).sum(axis=1)
    print(f"zero half hours in 14 days: max {zeros.max()} per home, total {zeros.sum()}")
    assert zeros.max() <= 2
    assert np.median(zeros) == 0


def test_habits_average_out_to_the_class_shape() -> None:
    for bank in ind.habit_bank("domestic"):
        np.testing.assert_allclose(bank.mean(axis=0), 1.0, rtol=1e-9)
    profiles = ind.habit("domestic", 3, np.arange(20_000))
    mean = profiles.mean(axis=(0, 1))
    assert np.abs(mean - 1).max() < 0.03
    assert profiles.std(axis=0).mean() > 0.3  # yet homes differ


def _noisy(idx: np.ndarray, days: np.ndarray, slots: np.ndarray) -> np.ndarray:
    load = np.tile(1.0 + 0.5 * np.sin(np.arange(48) / 48 * 2 * np.pi), (idx.size, days.size, 1))
    ind.apply_half_hour_noise("domestic", 7, idx, days.astype(np.int64), slots, load)
    return load


def test_routines_and_base_load_are_the_same_whatever_the_chunk() -> None:
    days = day_range("2025-03-29", "2025-04-01")  # across the clock change
    slots = np.concatenate(
        [np.roll(np.arange(48), -2 * int(d >= np.datetime64("2025-03-30"))) for d in days]
    )
    idx = np.arange(40, 90)
    whole = _noisy(idx, days, slots)
    np.testing.assert_array_equal(whole[10:20], _noisy(idx[10:20], days, slots))
    # a day keeps its energy (mean expected load 1) unless noise was cut at zero (the engine
    # then rescales the day), and no half hour falls below the lowest base load
    day_mean = whole.mean(axis=2)
    assert np.median(np.abs(day_mean - 1)) < 0.01 and abs(day_mean.mean() - 1) < 0.03
    assert whole.min() >= ind.NOISE_FAMILIES["domestic"].floor[0] - 1e-12


@pytest.mark.slow
def test_designer_reference_view_shows_real_homes(real: pd.DataFrame) -> None:
    designer = ProfileDesigner(reference_dir=REFERENCE / "profiles")
    assert designer.homes_png is not None and designer.homes_png.startswith(b"\x89PNG")
    (output,) = designer.homes.outputs
    assert "image/png" in output["data"]
    assert "50 London homes" in designer.homes_note.value
    shown = designer.homes_png
    designer.controls["annual_kwh"].value = 4000.0  # other controls leave the view alone
    assert designer.homes_png is shown


def test_designer_says_why_real_homes_are_not_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # nowhere near a reference folder, none named
    monkeypatch.delenv("MHHS_WORKBENCH_REFERENCE", raising=False)
    designer = ProfileDesigner()
    assert designer.homes_png is None and designer.homes.outputs == ()
    assert "give the reference data folder" in designer.homes_note.value
    designer.controls["reference_dir"].value = str(tmp_path)
    assert designer.homes_png is None and designer.homes.outputs == ()
    assert "lcl_2013_50_homes.parquet" in designer.homes_note.value
    assert "not shown" in designer.homes_note.value


# ------------------------------------------------------------ the statistics themselves


def test_statistics_of_known_series() -> None:
    rng = np.random.default_rng(1)
    n_days = 90
    ar = np.empty(n_days * 48)
    ar[0] = 0.0
    for t in range(1, ar.size):  # AR(1) with lag-one correlation 0.8
        ar[t] = 0.8 * ar[t - 1] + 0.6 * rng.standard_normal()
    day = 1 + 0.5 * np.sin(np.arange(48) / 48 * 2 * np.pi)
    routine = np.tile(day, n_days)
    flat = np.ones(n_days * 48)
    flat[:48] = 0.0  # one day off: 48 zeros
    values = np.vstack([np.exp(0.3 * ar), routine, flat])
    stats = hs.home_statistics(values)
    assert abs(stats.lag1[0] - 0.8) < 0.05
    assert stats.own_day_r[1] == pytest.approx(1.0)
    assert stats.daily_cv[1] == pytest.approx(0.0, abs=1e-12)
    assert stats.zero_share[2] == pytest.approx(1 / n_days)
    assert stats.above_3x_mean[1] == 0.0
    assert stats.p95_over_mean[1] == pytest.approx(day.max() / day.mean(), rel=0.01)


def test_gaps_are_left_out_and_short_homes_dropped() -> None:
    n_days = hs.MIN_COMPLETE_DAYS + 5
    base = np.tile(1 + np.arange(48) / 48, n_days)
    gappy = base.copy()
    gappy[100:150] = np.nan  # spoils two days
    short = np.full_like(base, np.nan)
    short[: 48 * 10] = base[: 48 * 10]
    stats = hs.home_statistics(np.vstack([base, gappy, short]))
    assert len(stats) == 2  # the home with ten days is too short to judge
    assert stats.daily_cv[1] == pytest.approx(0.0, abs=1e-12)
    assert stats.lag1[1] == pytest.approx(stats.lag1[0], abs=0.01)
    assert stats.cross_home_r[0] == pytest.approx(1.0)


def test_comparison_table_judges_medians() -> None:
    real = pd.DataFrame({k: np.linspace(1.0, 2.0, 11) for k in hs.STATISTICS})
    close = real * 1.1
    far = real * 1.5
    assert hs.comparison_table(close, real)["fits"].all()
    assert not hs.comparison_table(far, real)["fits"].any()
    text = hs.markdown_table(hs.comparison_table(close, real))
    assert text.count("\n") == len(hs.STATISTICS) + 2
