"""Daily temperature: the synthetic series, the user's CSV and its errors, and its effect."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mhhs_workbench.model.profiles import (
    TemperatureDataError,
    consumption_components,
    daily_temperature,
    default_meters,
    load_temperature_csv,
    synthetic_temperature,
)
from mhhs_workbench.time.periods import day_range


def test_synthetic_series_is_deterministic_by_date_and_plausible() -> None:
    years = synthetic_temperature(day_range("2020-01-01", "2029-12-31"))
    part = synthetic_temperature(day_range("2025-03-01", "2025-03-31"))
    assert part.equals(years.loc["2025-03-01":"2025-03-31"])
    assert part.name == "temperature_c" and part.index.name == "date"
    month = years.index.month
    assert 8.5 < years.mean() < 11.5
    assert years[month == 1].mean() < 6 and years[month == 7].mean() > 14
    assert 1.5 < (years - years.rolling(31, center=True, min_periods=1).mean()).std() < 3.5
    assert years.min() > -15 and years.max() < 30


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "temps.csv"
    p.write_text(text, encoding="utf-8")
    return p


def test_load_csv(tmp_path: Path) -> None:
    s = load_temperature_csv(
        _write(tmp_path, "date,temperature_c,note\n2025-01-02,3.5,x\n2025-01-01,-1.25,y\n")
    )
    assert list(s.index.strftime("%Y-%m-%d")) == ["2025-01-01", "2025-01-02"]
    assert s.tolist() == [-1.25, 3.5]


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("day,temperature_c\n2025-01-01,3\n", "missing column(s) date"),
        ("date,temperature_c\n2025-01-01,3\n2025-13-01,4\n", "line 3, column date: '2025-13-01'"),
        (
            "date,temperature_c\n2025-01-01,warm\n",
            "line 2, column temperature_c: 'warm' is not a number",
        ),
        ("date,temperature_c\n2025-01-01,55\n", "outside the plausible"),
        ("date,temperature_c\n2025-01-01,nan\n", "outside the plausible"),
        ("date,temperature_c\n2025-01-01,3\n2025-01-01,4\n", "repeats line 2"),
        ("date,temperature_c\n", "no data rows"),
    ],
)
def test_load_csv_errors_name_the_place(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(TemperatureDataError, match=None) as err:
        load_temperature_csv(_write(tmp_path, text))
    assert fragment in str(err.value)
    assert "temps.csv" in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TemperatureDataError, match="not found"):
        load_temperature_csv(tmp_path / "nope.csv")


def test_user_series_overrides_covered_days_only() -> None:
    days = day_range("2025-01-01", "2025-01-10")
    user = pd.Series([-5.0, -6.0], index=pd.to_datetime(["2025-01-03", "2025-01-04"]))
    t = daily_temperature(days, user)
    base = synthetic_temperature(days).to_numpy()
    assert t[2] == -5.0 and t[3] == -6.0
    assert np.array_equal(np.delete(t, [2, 3]), np.delete(base, [2, 3]))
    with pytest.raises(TemperatureDataError, match="repeats"):
        daily_temperature(days, pd.Series([1.0, 2.0], index=pd.to_datetime(["2025-01-03"] * 2)))


def test_cold_spell_raises_demand() -> None:
    days = day_range("2025-01-06", "2025-01-19")
    meters = default_meters(60, "domestic_economy7", seed=3).assign(heat_pump_kwh=3000.0)
    normal = consumption_components(meters, days, seed=2)
    cold_days = pd.DatetimeIndex(days[7:].astype("datetime64[ns]"))
    cold = synthetic_temperature(days[7:]) - 6.0
    cold.index = cold_days
    chilly = consumption_components(meters, days, seed=2, temperature=cold)
    week2 = slice(7 * 48, None)
    assert chilly.base_wh[:, week2].sum() > 1.1 * normal.base_wh[:, week2].sum()
    assert chilly.heat_pump_wh[:, week2].sum() > 1.15 * normal.heat_pump_wh[:, week2].sum()
