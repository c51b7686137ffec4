"""Individual meters are realistic individuals, not copies of the average.

Spike-share range: household half-hourly data are right-skewed; a few per cent of a home's half
hours exceed three times its mean (cooking, showers, laundry). The model is calibrated against
real homes (``tests/test_household_statistics.py``: a median of about 5 %, the sample's being
4.5 %); this test accepts a median of 1.5-6 % and requires every home to be within 0.1-12 %.
"""

from __future__ import annotations

import numpy as np
import pytest

from mhhs_workbench.model.profiles import consumption, default_meters
from mhhs_workbench.time.periods import day_range

YEAR = day_range("2025-01-01", "2025-12-31")


@pytest.fixture(scope="module")
def domestic() -> np.ndarray:
    return consumption(default_meters(200, seed=1), YEAR, seed=5).import_wh.astype(np.float64)


def _spike_share(values: np.ndarray) -> np.ndarray:
    return (values > 3 * values.mean(axis=1, keepdims=True)).mean(axis=1)


def test_two_meters_days_are_not_alike(domestic: np.ndarray) -> None:
    days = domestic.reshape(domestic.shape[0], -1, 48)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 200, 3000), rng.integers(0, 200, 3000)
    d = rng.integers(0, days.shape[1], 3000)
    keep = a != b
    r = [
        np.corrcoef(days[i, k], days[j, k])[0, 1]
        for i, j, k in zip(a[keep], b[keep], d[keep], strict=True)
    ]
    same = [
        np.corrcoef(days[i, k], days[i, (k + 7) % days.shape[1]])[0, 1]
        for i, k in zip(a, d, strict=True)
    ]
    print(
        f"median r between two meters' same day {np.median(r):.3f}; "
        f"one meter a week apart {np.median(same):.3f}"
    )
    assert np.median(r) < 0.6
    assert np.median(same) < 0.8


def test_no_meter_is_a_scaled_copy_of_the_average(domestic: np.ndarray) -> None:
    mean = domestic.mean(axis=0)
    r = np.array([np.corrcoef(row, mean)[0, 1] for row in domestic])
    assert r.max() < 0.95
    shapes = domestic / domestic.sum(axis=1, keepdims=True)
    cross = np.corrcoef(shapes[:50])
    assert cross[~np.eye(50, dtype=bool)].max() < 0.95


def test_spike_share_is_realistic(domestic: np.ndarray) -> None:
    share = _spike_share(domestic)
    print(
        f"half hours above 3x the meter's mean: median {100 * np.median(share):.2f} %, "
        f"10-90 % {100 * np.percentile(share, 10):.2f}-{100 * np.percentile(share, 90):.2f} %"
    )
    assert 0.015 <= np.median(share) <= 0.06
    assert share.min() >= 0.001 and share.max() <= 0.12


def test_noise_is_autocorrelated(domestic: np.ndarray) -> None:
    shape = domestic.mean(axis=0)
    resid = np.log((domestic + 1.0) / (shape + 1.0))
    resid -= resid.mean(axis=1, keepdims=True)
    lag1 = np.mean([np.corrcoef(row[1:], row[:-1])[0, 1] for row in resid[:50]])
    assert lag1 > 0.2


def test_non_domestic_sites_are_steadier_than_homes(domestic: np.ndarray) -> None:
    days = YEAR[:91]
    home = np.median(_spike_share(domestic[:, : days.size * 48]))
    shop = consumption(default_meters(100, "non_domestic_unrestricted", seed=2), days, 5).import_wh
    factory = consumption(default_meters(100, "maximum_demand_pc8", seed=2), days, 5).import_wh
    cv = [np.median(x.std(axis=1) / x.mean(axis=1)) for x in (domestic, shop, factory)]
    assert cv[0] > cv[2]
    assert np.median(_spike_share(factory.astype(float))) < home
