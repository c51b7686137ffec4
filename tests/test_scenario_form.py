"""The designer's data set form and scenario loading, driven from code: controls in, files out.

Covers the controls an analyst expects beyond one designed site: a fleet of several archetypes
over several GSP groups, data-quality shares, a change of supplier, the environment tag and the
participants' IDs; loading a saved scenario back; and the Elexon data folder's default and state.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import missing_reference

from mhhs_workbench.model.profiles import ARCHETYPES
from mhhs_workbench.notebook.reference_folder import CLASS_FILES, REFERENCE_ENV, reference_state
from mhhs_workbench.publish.manifest import verify
from mhhs_workbench.scenario import Scenario, ScenarioNote
from mhhs_workbench.ui import ExportPanel, ProfileDesigner

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo.yaml"
REFERENCE_PROFILES = ROOT.parent / "shared" / "reference" / "profiles"


@pytest.fixture
def designer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ProfileDesigner:
    """A designer in an empty folder (no Elexon data found), without the first drawing."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(REFERENCE_ENV, raising=False)
    return ProfileDesigner(render=False)


def _edit_fleet(designer: ProfileDesigner, shares: dict[str, float], groups: tuple[str, ...]) -> None:
    c = designer.form.controls
    c["follow_design"].value = False
    for name in ARCHETYPES:
        c[f"share_{name}"].value = shares.get(name, 0.0)
    c["gsp_groups"].value = groups


def test_fleet_follows_the_design_until_unticked(designer: ProfileDesigner) -> None:
    c = designer.form.controls
    assert c["share_domestic_unrestricted"].value == 1.0 and c["share_domestic_economy7"].value == 0.0
    designer.controls["archetype"].value = "maximum_demand_pc5"
    designer.controls["pv_kwp"].value = 20.0
    assert c["follow_design"].value
    assert c["share_maximum_demand_pc5"].value == 1.0 and c["share_domestic_unrestricted"].value == 0.0
    assert c["non_domestic_pv_share"].value == 1.0 and c["pv_share"].value == 0.0
    assert c["share_maximum_demand_pc5"].disabled and c["gsp_groups"].disabled
    assert "100 % maximum demand pc5" in designer.form.status.value
    c["follow_design"].value = False
    assert not c["share_maximum_demand_pc5"].disabled and not c["gsp_groups"].disabled
    # unticking starts from what was shown, so the scenario does not change by itself
    assert designer.to_scenario().meters == designer._designed_meters(designer._base_scenario().meters)


def test_a_fleet_of_several_archetypes_and_gsp_groups_is_exported(designer: ProfileDesigner, tmp_path: Path) -> None:
    shares = {"domestic_unrestricted": 0.5, "domestic_economy7": 0.25, "maximum_demand_pc6": 0.25}
    _edit_fleet(designer, shares, ("_A", "_P"))
    designer.form.controls["pv_share"].value = 0.5
    scenario = designer.to_scenario()
    assert scenario.meters.archetypes == shares and scenario.meters.gsp_groups == ["_A", "_P"]
    assert "50 % domestic unrestricted" in designer.form.status.value and "_A, _P" in designer.form.status.value

    panel = ExportPanel(designer.to_scenario, out=tmp_path / "fleet", meters=16,
                        start_date=scenario.start_date, end_date=scenario.start_date)
    panel.export()
    assert panel.valid, panel.last_validation.headline
    meters = pd.read_parquet(tmp_path / "fleet" / "tables" / "meters.parquet")
    imports = meters[meters["energy_direction"] == "I"]
    assert set(imports["archetype"]) == set(shares)
    assert set(imports["gsp_group"]) == {"_A", "_P"}
    assert (meters["energy_direction"] == "E").any()  # some homes got PV, so export MPANs
    assert verify(tmp_path / "fleet") == []


def test_quality_supplier_change_environment_and_participants_reach_the_messages(
        designer: ProfileDesigner, tmp_path: Path) -> None:
    c = designer.form.controls
    c["missing_share"].value = 0.05
    c["comms_fault_share"].value = 0.5
    c["revision_share"].value = 1.0
    c["change_of_supplier"].value = True
    c["change_date"].value = "2025-10-23"
    c["change_share"].value = 0.5
    c["environment_tag"].value = "UIT"
    c["smart_data_service"].value = "10000000AB"
    c["supplier"].value = "40000000CD"
    scenario = designer.to_scenario()
    assert scenario.data_quality.missing_share == 0.05 and scenario.data_quality.comms_fault_share == 0.5
    assert scenario.sending.revision_share == 1.0
    assert [(e.type, e.date.isoformat(), e.share) for e in scenario.events] == [
        ("change_of_supplier", "2025-10-23", 0.5)]
    assert "50 % change supplier on 2025-10-23" in designer.form.status.value

    panel = ExportPanel(designer.to_scenario, out=tmp_path / "quality", meters=12,
                        start_date=scenario.start_date, end_date=scenario.start_date.replace(day=26))
    panel.export()
    assert panel.valid, panel.last_validation.headline
    out = tmp_path / "quality"
    messages = [m for f in sorted((out / "messages" / "IF-021").iterdir()) for m in json.loads(f.read_text())]
    common = [m["payload"]["CommonBlock"] for m in messages]
    assert {b["S1"]["environmentTag"] for b in common} == {"UIT"}
    assert {b["S1"]["senderDIPID"] for b in common} >= {"10000000AB"}
    meters = pd.read_parquet(out / "tables" / "meters.parquet")
    assert "40000000CD" in set(meters["supplier_dip_id"])
    assert (meters["change_of_supplier_date"].dropna().astype(str) == "2025-10-23").any()
    consumption = pd.read_parquet(out / "tables" / "consumption.parquet")
    assert (consumption["quality"] != "A").mean() > 0.01  # missing and faulty half hours estimated


def test_form_mistakes_are_shown_in_words_and_stop_the_export(designer: ProfileDesigner, tmp_path: Path) -> None:
    c = designer.form.controls
    c["supplier"].value = "not-an-id"
    status = designer.form.status.value
    assert "Not a valid data set" in status and "participants.supplier" in status and "not-an-id" in status
    c["supplier"].value = "4000000001"
    c["change_of_supplier"].value = True
    c["change_date"].value = "28/10/2025"
    assert "YYYY-MM-DD" in designer.form.status.value
    panel = ExportPanel(designer.to_scenario, out=tmp_path / "never")
    panel._clicked()
    assert "Export failed" in panel.summary.value and "YYYY-MM-DD" in panel.summary.value
    assert not (tmp_path / "never").exists()


def test_a_saved_scenario_loads_back_exactly(designer: ProfileDesigner, tmp_path: Path) -> None:
    loaded = []
    panel = ExportPanel(designer.to_scenario, out=tmp_path / "x", meters=3)
    designer.when_loaded(loaded.append)
    designer.when_loaded(panel.take_scenario)
    scenario = designer.load_scenario(DEMO)
    assert designer.to_scenario().to_dict() == Scenario.from_yaml(DEMO).to_dict()
    # the designer shows the largest archetype with the scenario's home overlays and seed
    design = designer.design
    assert design.archetype == max(scenario.meters.archetypes, key=scenario.meters.archetypes.get)
    assert design.seed == scenario.seed and design.pv_kwp > 0 and design.ev_kw > 0
    assert not designer.form.follows_design
    assert loaded == [scenario]
    assert panel.controls["meters"].value == scenario.meters.count
    assert panel.controls["start_date"].value == scenario.start_date.isoformat()
    assert panel.scenario().outputs == scenario.outputs

    # a mix edited in the form is saved and read back unchanged
    _edit_fleet(designer, {"non_domestic_unrestricted": 0.7, "unmetered_street_lighting": 0.3}, ("_B",))
    designer.form.controls["deenergised_share"].value = 0.1
    saved = designer.save_scenario(tmp_path / "mix.yaml")
    fresh = ProfileDesigner(render=False, scenario_file=saved)
    assert fresh.to_scenario().to_dict() == designer.to_scenario().to_dict()
    assert fresh.design.archetype == "non_domestic_unrestricted"


def test_a_bad_scenario_file_is_reported_and_changes_nothing(designer: ProfileDesigner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmeters:\n  count: 10\n  colour: blue\n", encoding="utf-8")
    before = designer.to_scenario().to_dict()
    designer.controls["scenario_path"].value = str(bad)
    designer._load_clicked()
    status = designer.save_status.value
    assert "Not loaded" in status and "bad.yaml:4" in status and "colour" in status
    assert designer.to_scenario().to_dict() == before
    designer.controls["scenario_path"].value = str(tmp_path / "absent.yaml")
    designer._load_clicked()
    assert "Not loaded" in designer.save_status.value and "absent.yaml" in designer.save_status.value


def test_reference_folder_state_when_absent_and_when_mistyped(designer: ProfileDesigner, tmp_path: Path) -> None:
    designer.refresh()
    state = designer.reference_state.value
    assert "No Elexon data folder" in state and str(tmp_path / "workspace" / "reference" / "profiles") in state
    assert "#b00020" not in state  # nothing was typed: a state, not an error
    assert not any("Elexon" in k for k in designer.plot_data()["day"])
    designer.controls["reference_dir"].value = str(tmp_path / "nowhere")
    assert "does not exist" in designer.reference_state.value and "#b00020" in designer.reference_state.value


def test_reference_folder_default_is_found_beside_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project, profiles = tmp_path / "project", tmp_path / "shared" / "reference" / "profiles"
    (project / "notebooks").mkdir(parents=True)
    profiles.mkdir(parents=True)
    for name in CLASS_FILES[:3]:
        (profiles / name).write_text("", encoding="utf-8")
    monkeypatch.delenv(REFERENCE_ENV, raising=False)
    state = reference_state("", cwd=project / "notebooks")
    assert state.folder == profiles.resolve() and state.classes == (1, 2, 3) and not state.given
    assert "profile classes 1, 2, 3" in state.note
    # the workspace's reference folder comes before it, the environment variable before both
    ws = project / "workspace" / "reference" / "profiles"
    ws.mkdir(parents=True)
    (ws / CLASS_FILES[0]).write_text("", encoding="utf-8")
    assert reference_state("", cwd=project).folder == ws
    named = tmp_path / "mine"
    (named / "profiles").mkdir(parents=True)
    (named / "profiles" / CLASS_FILES[7]).write_text("", encoding="utf-8")
    monkeypatch.setenv(REFERENCE_ENV, str(named))
    assert reference_state("", cwd=project).folder == named / "profiles"


@pytest.mark.slow
def test_designer_draws_elexon_average_from_the_found_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not REFERENCE_PROFILES.is_dir():
        missing_reference(REFERENCE_PROFILES)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(REFERENCE_ENV, str(REFERENCE_PROFILES))
    designer = ProfileDesigner()
    assert designer.controls["reference_dir"].value == str(REFERENCE_PROFILES.resolve())
    assert "all 8 profile classes" in designer.reference_state.value
    assert "Elexon class average (1997)" in designer.plot_data()["day"]


def test_what_the_form_cannot_show_still_loads_back_exactly(designer: ProfileDesigner, tmp_path: Path) -> None:
    """Relative shares above 1, some table outputs only, several supplier changes."""
    text = DEMO.read_text(encoding="utf-8")
    data = Scenario.from_yaml(DEMO).to_dict()
    data["meters"]["archetypes"] = {"domestic_unrestricted": 55, "non_domestic_unrestricted": 45}
    data["outputs"] = ["if021", "csv"]
    data["events"] = [{"type": "change_of_supplier", "date": "2025-10-24", "share": 0.1},
                      {"type": "change_of_supplier", "date": "2025-10-30", "share": 0.2}]
    odd = tmp_path / "odd.yaml"
    odd.write_text(Scenario.from_dict(data).to_yaml(), encoding="utf-8")
    assert text  # the demo is only the start
    panel = ExportPanel(designer.to_scenario, out=tmp_path / "x")
    designer.when_loaded(panel.take_scenario)
    designer.controls["scenario_path"].value = str(odd)
    designer._load_clicked()  # the shares' note is shown beside the button, not lost on stderr
    assert "Loaded" in designer.save_status.value and "Note:" in designer.save_status.value
    assert "the shares add up to 100, not 1" in designer.save_status.value
    with pytest.warns(ScenarioNote):
        assert designer.to_scenario().to_dict() == Scenario.from_yaml(odd).to_dict()
    assert panel.scenario().outputs == ["if021", "csv"]
    status = designer.form.status.value
    assert "55 % domestic unrestricted" in status and "10 % change supplier on 2025-10-24" in status
    assert "20 % change supplier on 2025-10-30" in status
    designer.form.controls["change_of_supplier"].value = False  # no supplier change at all
    assert designer.to_scenario().events == []


def test_reticking_the_designed_kind_shows_the_design_again(designer: ProfileDesigner) -> None:
    designer.load_scenario(DEMO)
    c = designer.form.controls
    c["follow_design"].value = True
    assert c["share_domestic_unrestricted"].value == 1.0 and c["share_domestic_economy7"].value == 0.0
    assert designer.to_scenario().meters.archetypes == {"domestic_unrestricted": 1.0}
    assert "100 % domestic unrestricted" in designer.form.status.value


def test_a_supplier_change_outside_the_exported_days_is_named_in_the_panels_words(
        designer: ProfileDesigner, tmp_path: Path) -> None:
    designer.form.controls["change_of_supplier"].value = True
    designer.form.controls["change_date"].value = "2025-10-26"
    panel = ExportPanel(designer.to_scenario, out=tmp_path / "never", start_date=dt.date(2025, 10, 20),
                        end_date=dt.date(2025, 10, 25), meters=2)
    panel._clicked()
    assert "supplier change on 2025-10-26 (Data set form, Supplier change)" in panel.summary.value
    assert not (tmp_path / "never").exists()


def test_a_cleared_reference_field_uses_the_folder_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = tmp_path / "elexon"
    found.mkdir()
    for name in CLASS_FILES:
        (found / name).write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(REFERENCE_ENV, str(found))
    designer = ProfileDesigner(render=False)
    designer.controls["reference_dir"].value = ""
    assert designer.reference_dir == found
    assert f"Elexon data: {found}" in designer.reference_state.value
