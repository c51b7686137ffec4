"""The widget panels driven from code, without a browser: controls in, data and files out."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import missing_reference

from mhhs_workbench.model.population import build_population
from mhhs_workbench.model.profiles import ARCHETYPES, typical_annual_kwh
from mhhs_workbench.notebook.evidence import COUNT_LABELS
from mhhs_workbench.notebook.message_frames import if021_frame
from mhhs_workbench.notebook.plots import robust_limits
from mhhs_workbench.notebook.workspace import WORKSPACE_ENV, workspace_dir
from mhhs_workbench.publish.manifest import verify
from mhhs_workbench.scenario import Scenario, ScenarioError
from mhhs_workbench.ui import ExportPanel, ProfileDesign, ProfileDesigner, design_profile
from mhhs_workbench.validation.files import validate_files

REFERENCE_PROFILES = Path(__file__).resolve().parents[2] / "shared" / "reference" / "profiles"


@pytest.fixture
def designer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ProfileDesigner:
    """A designer started where no Elexon data folder is found (so no class average is drawn)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MHHS_WORKBENCH_REFERENCE", raising=False)
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
    scenario_file = Path(designer.controls["scenario_path"].value)
    assert scenario_file.is_absolute() and scenario_file.name == "non_domestic_unrestricted.yaml"
    assert scenario_file.parent == workspace_dir()  # not beside the notebooks
    assert designer.image_png != before
    assert "non domestic unrestricted" in designer.status.value


@pytest.mark.slow
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
    assert "holds no elexon_profile_class_N.csv" in designer.reference_state.value
    assert "#b00020" in designer.reference_state.value  # typed, and wrong: in red
    assert "Elexon class average (1997)" not in designer.plot_data()["day"]
    if not REFERENCE_PROFILES.is_dir():
        missing_reference(f"Elexon's profile class files not found at {REFERENCE_PROFILES}")
    designer.controls["reference_dir"].value = str(REFERENCE_PROFILES)
    data = designer.plot_data()
    elexon = data["day"]["Elexon class average (1997)"]
    assert len(elexon) == 48 and elexon.min() > 0
    assert data["shapes"]["Elexon class average (1997)"].mean() == pytest.approx(1.0)
    assert "Elexon data not used" not in designer.status.value
    assert "all 8 profile classes" in designer.reference_state.value


@pytest.mark.slow
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
    assert "Validation OK" in panel.summary.value and "IF-021 messages" in panel.summary.value
    assert summary.counts["meters"] == 6 and summary.counts["days"] == 3
    assert summary.manifest["scenario"]["meters"]["archetypes"] == {"domestic_economy7": 1.0}
    report = validate_files([summary.path / "messages"])
    sent = ("if021_messages", "if041_messages", "rep002_messages", "rep002b_messages")
    assert report.ok and report.messages == sum(summary.counts[key] for key in sent)
    assert summary.counts["consumption_rows"] > 0
    assert verify(summary.path) == []

    panel.button.click()  # the folder exists now, and replacing was not asked for
    assert "Export failed" in panel.summary.value and "already exists" in panel.summary.value
    assert "Replace an existing data set" in panel.summary.value  # the control, not a flag
    assert "--" not in panel.summary.value
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


# --------------------------------------------------------------------------- overlays everywhere


def _no_error_shown(designer: ProfileDesigner) -> None:
    """The page shows no error, and the plot on screen is the current design's."""
    assert "Could not draw" not in designer.status.value and "Error" not in designer.status.value
    assert "b00020" not in designer.status.value  # nothing in red
    assert designer.image_png.startswith(b"\x89PNG") and _shown_png(designer) == designer.image_png


@pytest.mark.slow
def test_every_archetype_and_overlay_combination_draws_without_error() -> None:
    designer = ProfileDesigner(pv_kwp=4.0, ev_kw=7.0, ev_smart=True, heat_pump_kwh=3000.0)
    c = designer.controls
    combos = [(4.0, 7.0, True, 3000.0), (0.0, 3.5, False, 0.0), (6.0, 0.0, False, 2000.0)]
    for archetype in ARCHETYPES:
        for pv, ev, smart, hp in combos:
            # the overlays are set first and the archetype switched under them, as a user would
            c["archetype"].value = "domestic_unrestricted"
            c["pv_kwp"].value, c["ev_kw"].value, c["ev_smart"].value, c["heat_pump_kwh"].value = pv, ev, smart, hp
            c["archetype"].value = archetype
            _no_error_shown(designer)
            # and set again on the archetype itself (a disabled control set from code)
            c["pv_kwp"].value, c["ev_kw"].value, c["heat_pump_kwh"].value = pv, ev, hp
            _no_error_shown(designer)
            assert archetype.replace("_", " ") in designer.status.value


@pytest.mark.slow
def test_unmetered_supply_disables_overlays_with_a_reason(designer: ProfileDesigner) -> None:
    c = designer.controls
    c["pv_kwp"].value, c["ev_kw"].value, c["heat_pump_kwh"].value = 4.0, 7.0, 3000.0
    c["archetype"].value = "unmetered_street_lighting"
    for name in ("pv_kwp", "ev_kw", "ev_smart", "heat_pump_kwh"):
        assert c[name].disabled, name
    assert (c["pv_kwp"].value, c["ev_kw"].value, c["heat_pump_kwh"].value) == (0.0, 0.0, 0.0)
    assert "unmetered" in designer.overlay_note.value and "no meter" in designer.overlay_note.value
    d = designer.design
    assert (d.pv_kwp, d.ev_kw, d.heat_pump_kwh) == (0.0, 0.0, 0.0)
    c["archetype"].value = "domestic_unrestricted"  # back to a home: every overlay offered again
    assert not any(c[name].disabled for name in ("pv_kwp", "ev_kw", "ev_smart", "heat_pump_kwh"))
    assert designer.overlay_note.value == ""


def test_business_sites_take_pv_and_ev_but_heat_pumps_stay_domestic(designer: ProfileDesigner,
                                                                     tmp_path: Path) -> None:
    c = designer.controls
    c["archetype"].value = "maximum_demand_pc5"
    assert not c["pv_kwp"].disabled and not c["ev_kw"].disabled
    assert c["heat_pump_kwh"].disabled and "homes only" in designer.overlay_note.value
    assert c["pv_kwp"].max > 12.0  # PV offered in proportion to the site
    c["pv_kwp"].value = 30.0
    c["ev_kw"].value = 22.0
    assert designer.plot_data()["annual_export_kwh"] > 0
    scenario = designer.to_scenario()
    m = scenario.meters
    assert (m.non_domestic_pv_share, m.non_domestic_ev_share, m.ev_kw) == (1.0, 1.0, [22.0])
    assert m.heat_pump_share == 0.0
    meters = build_population(dataclasses.replace(scenario, meters=dataclasses.replace(m, count=8)))
    assert (meters["archetype"] == "maximum_demand_pc5").all()
    assert (meters["pv_kwp"] == 30.0).all() and (meters["ev_kw"] == 22.0).all()
    assert (meters["export_mpan"].str.len() == 13).all() and (meters["export_mpan"] != meters["mpan"]).all()
    saved = designer.save_scenario(tmp_path / "pc5.yaml")
    assert Scenario.from_yaml(saved) == scenario  # the business keys survive a save


def test_business_overlays_are_exported(tmp_path: Path) -> None:
    designer = ProfileDesigner(archetype="maximum_demand_pc5", pv_kwp=20.0, ev_kw=7.0, render=False)
    panel = ExportPanel(designer.to_scenario, out=tmp_path / "pc5", meters=4,
                        start_date=dt.date(2025, 6, 2), end_date=dt.date(2025, 6, 3))
    panel.button.click()
    assert panel.valid and panel.last_summary is not None, panel.summary.value
    table = pd.read_parquet(panel.last_summary.path / "tables" / "meters.parquet")
    imports = table[table["energy_direction"] == "I"]
    exports = table[table["energy_direction"] == "E"]
    assert len(imports) == 4 and (imports["pv_kwp"] > 0).all() and (imports["ev_kw"] > 0).all()
    assert set(exports["mpan"]) == set(imports["linked_mpan"])  # each PV site has its export MPAN
    sent = if021_frame([panel.last_summary.path / "messages"])
    assert "AE" in set(sent["mqid"]) and set(sent.loc[sent["mqid"] == "AE", "mpan"]) <= set(exports["mpan"])


def test_scenario_keys_for_business_overlays_are_checked_and_default_off() -> None:
    default = Scenario().meters
    assert default.non_domestic_pv_share == 0.0 and default.non_domestic_ev_share == 0.0
    with pytest.raises(ScenarioError, match="non_domestic_pv_share"):
        Scenario.from_dict({"meters": {"non_domestic_pv_share": 1.5}})
    mixed = Scenario.from_dict({"meters": {"count": 300, "non_domestic_pv_share": 1.0,
                                           "non_domestic_pv_kwp_per_mwh": [0.2, 0.2]}})
    meters = build_population(mixed)
    business = meters[~meters["domestic_premise"] & (meters["connection_type"] != "U")]
    expected = business["archetype"].map(lambda a: round(typical_annual_kwh(a) / 1000 * 0.2, 1))
    assert len(business) > 0 and np.allclose(business["pv_kwp"], expected)  # scaled to the site
    assert (meters.loc[meters["connection_type"] == "U", "pv_kwp"] == 0).all()
    assert (meters.loc[meters["connection_type"] == "U", "heat_pump_kwh"] == 0).all()


# --------------------------------------------------------------------------- paths and words


def test_export_writes_into_the_workspace_with_absolute_paths(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(WORKSPACE_ENV, str(tmp_path / "space"))
    monkeypatch.chdir(tmp_path)
    panel = ExportPanel(meters=2, start_date=dt.date(2025, 1, 6), end_date=dt.date(2025, 1, 6),
                        interfaces=("IF-021",))
    folder = Path(panel.controls["out"].value)
    assert folder.is_absolute() and folder.parent == tmp_path / "space" and not folder.exists()
    summary = panel.export()
    assert summary.path == folder and folder.is_dir()
    assert f"<code>{folder}</code>" in panel.summary.value
    panel.controls["out"].value = "relative-data"  # a relative entry is shown and used absolute
    panel.export()
    assert f"<code>{tmp_path / 'relative-data'}</code>" in panel.summary.value


def test_export_summary_speaks_in_words(tmp_path: Path) -> None:
    panel = ExportPanel(out=tmp_path / "w", meters=2, start_date=dt.date(2025, 1, 6),
                        end_date=dt.date(2025, 1, 6))
    summary = panel.export()
    shown = panel.summary.value
    for key in summary.counts:
        assert f"<td>{key}</td>" not in shown  # no raw keys such as if021_files
    assert COUNT_LABELS["meters"] in shown and "IF-021 message files" in shown


def test_messages_name_controls_not_flags(tmp_path: Path) -> None:
    panel = ExportPanel(out=tmp_path / "d", meters=2, start_date=dt.date(2025, 1, 6),
                        end_date=dt.date(2025, 1, 6), interfaces=("IF-021",))
    panel.export()
    panel.button.click()  # exists, replacing not ticked
    assert "Export failed" in panel.summary.value and "--" not in panel.summary.value
    assert "Output folder" in panel.summary.value
    panel.controls["start_date"].value = "06/01/2025"  # a locale's date: refused in words
    panel.button.click()
    assert "YYYY-MM-DD" in panel.summary.value and "--" not in panel.summary.value
    # a folder of someone's files beside the manifest: replacing is refused in the panel's words
    (tmp_path / "d" / "notes.txt").write_text("mine", encoding="utf-8")
    panel.controls["start_date"].value = "2025-01-06"
    panel.controls["overwrite"].value = True
    panel.button.click()
    assert "notes.txt" in panel.summary.value and "--" not in panel.summary.value
    assert "replacing only replaces files this tool wrote" in panel.summary.value


# --------------------------------------------------------------------------- readable plots


def test_heat_map_limits_ignore_spikes() -> None:
    rng = np.random.default_rng(0)
    values = rng.uniform(1.0, 2.0, size=(365, 48))
    values[::40, 20] = 500.0  # a few spikes
    values[3, 3] = -50.0
    vmin, vmax = robust_limits(values)
    assert 1.0 <= vmin < 1.1 and 1.9 < vmax <= 2.0
    assert robust_limits(np.full((3, 48), 5.0))[1] > 5.0  # flat: still a range


def test_designer_reads_at_common_widths(designer: ProfileDesigner) -> None:
    from PIL import Image

    width, height = Image.open(io.BytesIO(designer.image_png)).size
    assert 1100 <= width <= 1300 and height >= 700  # two plots a row, ~600 px each
    assert designer.controls["archetype"].layout.width == "100%"  # labels not cut short
    assert designer.controls["archetype"].layout.min_width


def test_saved_scenario_path_is_shown_in_full(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    designer = ProfileDesigner(render=False)
    designer.controls["scenario_path"].value = "mine.yaml"
    designer.save_button.click()
    assert f"Saved {tmp_path / 'mine.yaml'}" in designer.save_status.value
    assert (tmp_path / "mine.yaml").is_file()


def test_designer_heat_map_uses_robust_limits(designer: ProfileDesigner) -> None:
    data = designer.plot_data()
    (image,) = [im for ax in designer.figure().axes for im in ax.get_images()]
    assert image.get_clim() == pytest.approx(robust_limits(data["year"]))
    assert image.get_clim()[1] < np.nanmax(data["year"])  # spikes saturate instead of setting the scale
