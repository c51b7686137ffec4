"""Generated populations reproduce Elexon's profile class shapes (season x day type, local time)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import missing_reference

from mhhs_workbench.codes.archetypes import archetype_for_class, typical_annual_kwh
from mhhs_workbench.model.profiles import (
    ARCHETYPES,
    consumption,
    default_meters,
    economy7_night_mask,
    model_column_shapes,
    reference_profile,
)
from mhhs_workbench.model.profiles.economy7 import economy7_windows, window_masks
from mhhs_workbench.model.profiles.parameters import class_parameters
from mhhs_workbench.model.profiles.plotting import population_column_means
from mhhs_workbench.time.periods import day_range, utc_period_ends

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "profiles"
YEAR = day_range("2025-01-01", "2025-12-31")
MIN_R = {1: 0.95, 2: 0.95, 3: 0.90, 4: 0.90}
WTR_WD, HSR_WD = 0, 9  # column indices (season * 3 + day type)


@pytest.fixture(scope="module")
def reference_folder() -> Path:
    if not REFERENCE.is_dir():
        missing_reference(f"reference data not found at {REFERENCE} (../shared/reference/profiles)")
    return REFERENCE


@pytest.mark.parametrize("profile_class", [1, 2, 3, 4])
def test_population_matches_reference_shape(profile_class: int, reference_folder: Path) -> None:
    archetype = archetype_for_class(profile_class)
    result = consumption(default_meters(500, archetype, seed=3), YEAR, seed=11)
    generated = population_column_means(result, YEAR)
    ref = reference_profile(profile_class, reference_folder).to_numpy().T
    r = np.array([np.corrcoef(generated[c], ref[c])[0, 1] for c in range(15)])
    ratio = generated[WTR_WD].sum() / generated[HSR_WD].sum()
    ref_ratio = ref[WTR_WD].sum() / ref[HSR_WD].sum()
    print(
        f"PC{profile_class}: min r {r.min():.4f} (column {int(r.argmin())}), "
        f"Wtr/Hsr weekday ratio {ratio:.3f} vs reference {ref_ratio:.3f} "
        f"({100 * (ratio / ref_ratio - 1):+.1f} %)"
    )
    assert r.min() >= MIN_R[profile_class], r.round(3)
    assert abs(ratio / ref_ratio - 1) <= 0.10


@pytest.mark.parametrize("profile_class", range(1, 9))
def test_model_shapes_follow_reference(profile_class: int, reference_folder: Path) -> None:
    model = model_column_shapes(profile_class)
    ref = reference_profile(profile_class, reference_folder)
    assert list(model.columns) == list(ref.columns)
    r = [np.corrcoef(model[c], ref[c])[0, 1] for c in ref.columns]
    assert min(r) >= 0.93
    # relative units: the level is the reference's up to one constant per class
    scale = (ref.to_numpy() / model.to_numpy()).mean()
    assert np.allclose(model.to_numpy() * scale, ref.to_numpy(), rtol=0.25, atol=0.1 * scale)


def test_economy7_mask_follows_gmt() -> None:
    ends = utc_period_ends(day_range("2025-01-15", "2025-01-15")).ravel()
    mask = economy7_night_mask(ends)
    assert mask.sum() == 14
    # 00:30-07:30 GMT: first period ends 01:00 UTC, last ends 07:30 UTC, all year
    assert str(ends[mask][0])[11:16] == "01:00" and str(ends[mask][-1])[11:16] == "07:30"
    summer = utc_period_ends(day_range("2025-07-15", "2025-07-15")).ravel()
    assert np.array_equal(economy7_night_mask(summer), mask)  # = 01:30-08:30 on the BST clock


def test_economy7_night_share(reference_folder: Path) -> None:
    meters = default_meters(256, "domestic_economy7", seed=5)
    result = consumption(meters, YEAR, seed=2)
    windows = economy7_windows(2, meters["meter_index"].to_numpy(), meters["gsp_group"].to_numpy())
    night = window_masks(windows, result.period_ends)  # each meter's own switching window
    per_meter = np.where(night, result.import_wh, 0).sum(1) / result.import_wh.sum(1)
    share = np.where(night, result.import_wh, 0).sum() / result.import_wh.sum()
    expected = class_parameters(2)["reference_night_share"]
    print(
        f"E7 night share {share:.3f} (reference {expected:.3f}); meters "
        f"{np.percentile(per_meter, 10):.2f}-{np.percentile(per_meter, 90):.2f}"
    )
    assert abs(share - expected) < 0.02
    assert np.percentile(per_meter, 90) - np.percentile(per_meter, 10) > 0.08  # homes differ


def test_typical_non_domestic_values_follow_reference_level(reference_folder: Path) -> None:
    for pc in range(3, 9):
        level = class_parameters(pc)["reference_annual_kwh"]
        assert abs(typical_annual_kwh(archetype_for_class(pc)) / level - 1) < 0.1
    assert typical_annual_kwh("domestic_unrestricted") == 2700
    assert typical_annual_kwh("domestic_economy7") == 4200
    assert len(ARCHETYPES) == 9
