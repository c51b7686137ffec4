"""The widget panels driven from code, without a browser: controls in, data and files out."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from conftest import missing_reference

from mhhs_workbench.export import verify
from mhhs_workbench.profiles import ARCHETYPES, typical_annual_kwh
from mhhs_workbench.scenario import Scenario
from mhhs_workbench.ui import ExportPanel, ProfileDesign, ProfileDesigner, design_profile
from mhhs_workbench.validation import validate_files

REFERENCE_PROFILES = Path(__file__).resolve().parents[2] / "shared" / "reference" / "profiles"


@pytest.fixture
def designer() -> ProfileDesigner:
    return ProfileDesigner()


def _shown_png(designer: ProfileDesigner) -> bytes:
    """The PNG the plot Output widget holds (what a browser would show)."""
    (output,) = designer.plot.outputs
    return base64.b64decode(output["data"]["image/png"])


def test_designer_starts_with_a_typical_year(designer: ProfileDesigner) -> None:
    profile = designer.profile()
    assert len(profile) == 365 * 48
    assert {"import_wh", "export_wh", "local_slot", "season", "day_type"} <= set(profile.columns)
    # a year of one site's archetype load sums to its annual consumption (no overlays)
    assert profile["import_wh"].sum() / 1000 == pytest.approx(typical_annual_kwh("domestic_unrestricted"), rel=1e-6)
    assert designer.controls["annual_kwh"].value == typical_annual_kwh("domestic_unrestricted")
    data = designer.plot_data()
    assert set(data["day"]) == {"designed import", "archetype average"}
    assert all(len(v) == 48 and np.isfinite(v).all() for v in data["day"].values())
    assert data["year"].shape == (365, 48)
    assert len(data["week"]["import"]) == 7 * 48
    assert _shown_png(designer) == designer.image_png
    assert designer.image_png.startswith(b"\x89PNG")
    assert "2,700 kWh/yr" in designer.status.value


def test_annual_kwh_changes_profile_and_plot(designer: ProfileDesigner) -> None:
    before_day = designer.plot_data()["day"]["designed import"]
    before_png = designer.image_png
    designer.controls["annual_kwh"].value = 5400.0
    after = designer.profile()
    assert after["import_wh"].sum() / 1000 == pytest.approx(5400, rel=1e-6)
    after_day = designer.plot_data()["day"]["designed import"]
    np.testing.assert_allclose(after_day, before_day * 2, rtol=0.02)  # same site, twice the level
    assert designer.image_png != before_png
    assert _shown_png(designer) == designer.image_png


def test_archetype_resets_annual_kwh_and_redraws(designer: ProfileDesigner) -> None:
    before = designer.image_png
    designer.controls["archetype"].value = "non_domestic_unrestricted"
    assert designer.controls["annual_kwh"].value == typical_annual_kwh("non_domestic_unrestricted")
    assert designer.design.archetype == "non_domestic_unrestricted"
    assert designer.controls["scenario_path"].value == "non_domestic_unrestricted.yaml"
    assert designer.image_png != before
    assert "non domestic unrestricted" in designer.status.value


def test_overlays_change_the_profile(designer: ProfileDesigner) -> None:
    plain = designer.profile()
    designer.controls["pv_kwp"].value = 4.0
    with_pv = designer.profile()
    assert with_pv["export_wh"].sum() > 0
    assert with_pv["import_wh"].sum() < plain["import_wh"].sum()  # self-use of PV
    assert "designed export" in designer.plot_data()["day"]
    designer.controls["pv_kwp"].value = 0.0
    designer.controls["ev_kw"].value = 7.0
    designer.controls["ev_smart"].value = True
    designer.controls["heat_pump_kwh"].value = 3000.0
    loaded = designer.profile()
    # EV charging and heat pump add to the archetype load
    assert loaded["import_wh"].sum() > plain["import_wh"].sum() + 3_000_000


def test_more_sites_smooth_the_noise(designer: ProfileDesigner) -> None:
    def roughness(profile) -> float:
        v = profile["import_wh"].to_numpy()
        return float(np.abs(np.diff(v)).mean() / v.mean())

    one = roughness(designer.profile())
    designer.controls["sites"].value = 20
    assert designer.design.sites == 20
    assert roughness(designer.profile()) < 0.7 * one


def test_view_controls_do_not_regenerate(designer: ProfileDesigner) -> None:
    profile = designer.profile()
    winter = designer.plot_data()["day"]["designed import"]
    designer.controls["season"].value = "Hsr"
    designer.controls["day_type"].value = "Sun"
    assert designer.profile() is profile  # cached: only the view changed
    summer_sunday = designer.plot_data()
    assert not np.allclose(summer_sunday["day"]["designed import"], winter)
    assert "High Summer sunday" in summer_sunday["titles"]["day"]


def test_elexon_comparison_from_a_folder(designer: ProfileDesigner, tmp_path: Path) -> None:
    designer.controls["reference_dir"].value = str(tmp_path)  # a folder without the files
    assert "Elexon data not used" in designer.status.value
    assert "Elexon class average (1997)" not in designer.plot_data()["day"]
    if not REFERENCE_PROFILES.is_dir():
        missing_reference(f"Elexon's profile class files not found at {REFERENCE_PROFILES}")
    designer.controls["reference_dir"].value = str(REFERENCE_PROFILES)
    data = designer.plot_data()
    elexon = data["day"]["Elexon class average (1997)"]
    assert len(elexon) == 48 and elexon.min() > 0
    assert data["shapes"]["Elexon class average (1997)"].mean() == pytest.approx(1.0)
    assert "Elexon data not used" not in designer.status.value


def test_designs_map_onto_scenarios(designer: ProfileDesigner, tmp_path: Path) -> None:
    c = designer.controls
    c["archetype"].value = "domestic_economy7"
    c["pv_kwp"].value = 3.5
    c["ev_kw"].value = 7.0
    c["ev_smart"].value = True
    c["gsp_group"].value = "_P"
    c["seed"].value = 11
    scenario = designer.to_scenario()
    m = scenario.meters
    assert m.archetypes == {"domestic_economy7": 1.0}
    assert (m.pv_share, m.pv_kwp) == (1.0, [3.5, 3.5])
    assert (m.ev_share, m.ev_kw, m.ev_smart_share) == (1.0, [7.0], 1.0)
    assert m.heat_pump_share == 0.0
    assert m.gsp_groups == ["_P"] and scenario.seed == 11

    c["scenario_path"].value = str(tmp_path / "designs" / "e7.yaml")
    designer.save_button.click()
    assert "Saved" in designer.save_status.value
    assert Scenario.from_yaml(tmp_path / "designs" / "e7.yaml") == scenario


def test_bad_value_is_reported_not_raised(designer: ProfileDesigner, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise ValueError("model unavailable")

    monkeypatch.setattr("mhhs_workbench.ui.designer.view_data", broken)
    designer.controls["season"].value = "Spr"  # the callback must not raise
    assert "model unavailable" in designer.status.value


def test_every_archetype_draws() -> None:
    for archetype in ARCHETYPES:
        profile = design_profile(ProfileDesign(archetype=archetype, year=2024))
        assert len(profile) == 366 * 48 and profile["import_wh"].sum() > 0


def test_export_button_writes_a_valid_data_set(designer: ProfileDesigner, tmp_path: Path) -> None:
    designer.controls["archetype"].value = "domestic_economy7"
    designer.controls["pv_kwp"].value = 3.0
    panel = ExportPanel(designer.to_scenario, out=tmp_path / "data", meters=6,
                        start_date=dt.date(2025, 3, 29), end_date=dt.date(2025, 3, 31))
    panel.button.click()
    summary = panel.last_summary
    assert summary is not None and summary.path == tmp_path / "data"
    assert panel.progress.value == panel.progress.max == 6
    assert panel.progress.bar_style == "success"
    assert "Validation OK" in panel.summary.value and "if021_messages" in panel.summary.value
    assert summary.counts["meters"] == 6 and summary.counts["days"] == 3
    assert summary.manifest["scenario"]["meters"]["archetypes"] == {"domestic_economy7": 1.0}
    report = validate_files([summary.path / "messages"])
    assert report.ok and report.messages == summary.counts["if021_messages"] + summary.counts["if041_messages"]
    assert summary.counts["consumption_rows"] > 0
    assert verify(summary.path) == []

    panel.button.click()  # the folder exists now, and replacing was not asked for
    assert "Export failed" in panel.summary.value and "already exists" in panel.summary.value
    assert not panel.button.disabled


def test_export_interfaces_and_errors(tmp_path: Path) -> None:
    panel = ExportPanel(out=tmp_path / "only021", meters=3,
                        start_date=dt.date(2025, 1, 6), end_date=dt.date(2025, 1, 6), interfaces=("IF-021",))
    assert panel.scenario().outputs == ["if021"]
    summary = panel.export()
    assert (summary.path / "messages" / "IF-021").is_dir()
    assert not (summary.path / "messages" / "IF-041").exists() and not (summary.path / "tables").exists()
    assert panel.valid

    panel.controls["IF-021"].value = False
    panel.controls["out"].value = str(tmp_path / "nothing")
    panel.button.click()
    assert "Export failed" in panel.summary.value and "outputs" in panel.summary.value
    assert not (tmp_path / "nothing").exists()
