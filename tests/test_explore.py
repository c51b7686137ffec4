"""Exploring a data set: the DuckDB queries against the tables pandas reads, the messages of a
day, and the explore_dataset notebook run headless."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import sys
from pathlib import Path

import nbformat
import numpy as np
import orjson
import pandas as pd
import pytest
from conftest import missing_reference, notebook_outputs

from mhhs_workbench.dataset import generate_dataset
from mhhs_workbench.model.profiles.reference import PROFILE_COLUMNS, reference_profile
from mhhs_workbench.notebook import explore
from mhhs_workbench.notebook.evidence import build_scenario
from mhhs_workbench.notebook.explore import ExploreError, open_dataset
from mhhs_workbench.notebook.run_identity import IDENTITY_TAG
from mhhs_workbench.notebook.runner import run_notebook
from mhhs_workbench.notebook.workspace import WORKSPACE_ENV
from mhhs_workbench.time.periods import profile_day_types, seasons

REFERENCE_PROFILES = Path(__file__).resolve().parents[2] / "shared" / "reference" / "profiles"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """A small data set (8 meters x 3 UTC days over the March clock change) in a workspace."""
    root = tmp_path_factory.mktemp("workspace") / "small"
    scenario = build_scenario(meters=8, start_date="2025-03-29", end_date="2025-03-31", seed=7,
                              overrides={"meters": {"pv_share": 0.5}})
    generate_dataset(scenario, root, progress=False)
    return root


@pytest.fixture(scope="module")
def ex(dataset: Path) -> explore.DatasetExplorer:
    return open_dataset(dataset)


def _table(dataset: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(dataset / "tables" / f"{name}.parquet")


def _outputs(path: Path) -> dict[str, str]:
    """All outputs of an executed notebook by MIME type, joined, and how many images."""
    found = notebook_outputs(path)
    return {k: "\n".join(v) for k, v in found.items()} | {"images": str(len(found.get("image/png", [])))}


# --------------------------------------------------------------------------- the API


def test_fleet_summary_matches_the_tables(ex, dataset: Path) -> None:
    meters = _table(dataset, "meters")
    consumption = _table(dataset, "consumption")
    summary = ex.fleet_summary()["value"]
    assert summary["metering points (MPANs)"] == len(meters)
    assert summary["of which export MPANs"] == (meters["energy_direction"] == "E").sum()
    assert summary["half-hour values"] == len(consumption)
    ai = consumption.loc[consumption["mqid"] == "AI", "value_wh"].sum()
    assert summary["import (AI) [kWh]"] == pytest.approx(ai / 1000, abs=5e-4)
    assert summary["register reads"] == len(_table(dataset, "readings"))
    by = ex.fleet_by("archetype")
    assert by["mpans"].sum() == meters["mpan"].nunique()
    assert by["import_kwh"].sum() == pytest.approx(ai / 1000, abs=0.01)


def test_one_mpan_matches_the_tables(ex, dataset: Path) -> None:
    consumption = _table(dataset, "consumption")
    mpan = sorted(consumption["mpan"].unique())[3]
    assert ex.mpans() == sorted(consumption["mpan"].unique())
    assert ex.mpans(mpan[-6:]) == [m for m in sorted(consumption["mpan"].unique()) if mpan[-6:] in m]
    got = ex.consumption(mpan)
    want = consumption[consumption["mpan"] == mpan].sort_values(["mqid", "utc_period_end"])
    assert len(got) == len(want)
    np.testing.assert_array_equal(np.round(got["kwh"].to_numpy() * 1000).astype(int), want["value_wh"].to_numpy())
    assert got["quality"].tolist() == want["quality"].tolist()
    reads = _table(dataset, "readings")
    want_reads = reads[reads["mpan"] == mpan].sort_values(["register_id", "read_datetime"])
    got_reads = ex.readings(mpan)
    np.testing.assert_array_equal(np.round(got_reads["reading_kwh"].to_numpy() * 1000).astype(int),
                                  want_reads["reading_wh"].to_numpy())
    assert ex.days(mpan) == [dt.date(2025, 3, 29), dt.date(2025, 3, 30), dt.date(2025, 3, 31)]
    assert ex.meter(mpan)["mpan"] == mpan


def test_unknown_mpan_and_day_are_clear_errors(ex) -> None:
    with pytest.raises(ExploreError, match="MPAN '123' is not in .*set `mpan`"):
        ex.consumption("123")
    with pytest.raises(ExploreError, match="not a date"):
        ex.day_messages(ex.mpans()[0], "29/03/2025")


def _scan(dataset: Path, mpan: str, day: dt.date) -> set[tuple[str, int]]:
    """Every message file read in full: (file, index) of the messages that carry the MPAN's day."""
    found = set()
    for file in sorted((dataset / "messages").glob("IF-0[24]1/*.json")):
        for i, item in enumerate(orjson.loads(file.read_bytes())):
            payload = item["payload"]
            if payload["CommonBlock"]["M0"]["MPANCore"] != mpan:
                continue
            custom = payload["CustomBlock"]
            days = {d["settlementDay"]["settlementDayDate"][:10] for d in custom.get("B900", {}).get(
                "settlementDayConsumptionPeriods", [])}
            reads = [r["cumulativeRegisterReadingDateTime"] for r in custom.get("B064List", [])]
            next_midnight = f"{day + dt.timedelta(days=1)}T00:00:00+00:00"
            if str(day) in days or any(r[:10] == str(day) or r == next_midnight for r in reads):
                found.add((file.relative_to(dataset).as_posix(), i))
    return found


@pytest.mark.parametrize("which", [0, 5])
def test_messages_of_a_day_carry_that_mpan_and_day(ex, dataset: Path, which: int) -> None:
    mpan = ex.mpans()[which]
    day = ex.days(mpan)[1]
    found = ex.day_messages(mpan, str(day))
    interfaces = {m.interface for m in found}
    assert "IF-021" in interfaces
    assert ("IF-041" in interfaces) == (mpan in set(_table(dataset, "readings")["mpan"]))  # daily reads
    for m in found:
        payload = m.message["payload"]
        assert payload["CommonBlock"]["M0"]["MPANCore"] == mpan
        assert payload["CommonBlock"]["S0"]["interfaceID"] == m.interface
        # the message is the file's own, byte for byte the same object
        assert orjson.loads((dataset / m.file).read_bytes())[m.index] == m.message
    assert {(m.file, m.index) for m in found} == _scan(dataset, mpan, day)


def test_messages_without_a_send_schedule(ex, dataset: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(dataset, copy, ignore=shutil.ignore_patterns("send_schedule.*"))
    plain = open_dataset(copy)
    assert "send_schedule" not in plain.tables
    mpan = ex.mpans()[2]
    day = ex.days(mpan)[0]
    assert [(m.file, m.index) for m in plain.day_messages(mpan, day)] == [
        (m.file, m.index) for m in ex.day_messages(mpan, day)]


def _latest_run(settlement: pd.DataFrame) -> pd.DataFrame:
    latest = settlement.groupby("settlement_date")["run_number"].transform("max")
    return settlement[settlement["run_number"] == latest]


def test_settlement_views_match_the_table(ex, dataset: Path) -> None:
    assert ex.settlement_table == "settlement"
    settlement = _latest_run(_table(dataset, "settlement"))
    imports = settlement[settlement["energy_direction"] == "I"]
    want = imports.groupby("gsp_group")["volume_wh"].sum() / 1000
    got = ex.gsp_totals()["import_kwh"]
    pd.testing.assert_series_equal(got, want.rename("import_kwh"), check_exact=False, atol=5e-4)
    grid = ex.period_totals("I")
    row = imports[imports["settlement_period"] == 10].groupby("settlement_date")["volume_wh"].sum() / 1000
    np.testing.assert_allclose(grid[10].to_numpy(), row.sort_index().to_numpy())


def test_an_aggregates_table_is_read_too(ex, dataset: Path, tmp_path: Path) -> None:
    # a data set of the earlier layout: GSP group x date x period x MQID sums in `aggregates`
    old = tmp_path / "old"
    (old / "tables").mkdir(parents=True)
    for name in ("meters", "consumption"):
        shutil.copy(dataset / "tables" / f"{name}.parquet", old / "tables")
    c = _table(dataset, "consumption").merge(_table(dataset, "meters")[["mpan", "gsp_group"]], on="mpan")
    aggregates = (c.groupby(["gsp_group", "settlement_date", "settlement_period", "mqid"])
                  .agg(meters=("mpan", "nunique"), value_wh=("value_wh", "sum")).reset_index())
    aggregates.to_parquet(old / "tables" / "aggregates.parquet")
    older = open_dataset(old)
    assert older.settlement_table == "aggregates"
    want = c[c["mqid"] == "AI"].groupby("gsp_group")["value_wh"].sum() / 1000
    pd.testing.assert_series_equal(older.gsp_totals()["import_kwh"], want.rename("import_kwh"),
                                   check_exact=False, atol=5e-4)


def test_class_comparison(ex, dataset: Path) -> None:
    if not REFERENCE_PROFILES.is_dir():
        missing_reference(f"Elexon's profile class averages not found at {REFERENCE_PROFILES}")
    assert explore.class_comparison_note(REFERENCE_PROFILES) is None
    table = ex.class_comparison(REFERENCE_PROFILES)
    row = table[(table["archetype"] == "domestic_unrestricted") & (table["settlement_period"] == 20)].iloc[0]
    # the same figures from pandas: per day the archetype's mean kW, then the mean over days
    c = _table(dataset, "consumption").merge(_table(dataset, "meters")[["mpan", "archetype"]], on="mpan")
    c = c[(c["archetype"] == "domestic_unrestricted") & (c["mqid"] == "AI") & (c["settlement_period"] == 20)]
    per_day = c.groupby("settlement_date")["value_wh"].mean() / 500
    assert row["generated_kw"] == pytest.approx(per_day.mean())
    dates = np.array(per_day.index, dtype="datetime64[D]")
    columns = [PROFILE_COLUMNS[s * 3 + t] for s, t in zip(seasons(dates), profile_day_types(dates), strict=True)]
    ref = reference_profile(1, REFERENCE_PROFILES)
    assert row["elexon_kw"] == pytest.approx(np.mean([ref[col].iloc[19] for col in columns]))


def test_a_converted_csv_has_nothing_to_compare_and_says_so(tmp_path: Path) -> None:
    if not REFERENCE_PROFILES.is_dir():
        missing_reference(f"Elexon's profile class averages not found at {REFERENCE_PROFILES}")
    from click.testing import CliRunner

    from mhhs_workbench.cli import main
    from mhhs_workbench.notebook import explore_views

    example = Path(__file__).resolve().parents[1] / "examples" / "consumption_long.csv"
    done = CliRunner().invoke(main, ["from-csv", str(example), "--out", str(tmp_path / "c"), "--no-progress"])
    assert done.exit_code == 0, done.output
    converted = open_dataset(tmp_path / "c")
    assert converted.class_comparison(REFERENCE_PROFILES).empty  # the user's own meters have no class
    shown = explore_views.class_comparison_figure(converted, REFERENCE_PROFILES)
    assert isinstance(shown, str) and "converted from your CSV" in shown


def test_class_comparison_note_when_absent(tmp_path: Path) -> None:
    note = explore.class_comparison_note(tmp_path)
    assert note.startswith("Note:") and "reference_dir" in note and "8 of 8" in note


def test_missing_duckdb_is_a_clear_message(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "duckdb", None)  # as if not installed: import fails
    with pytest.raises(ExploreError, match=r"pip install 'mhhs-workbench\[explore\]'"):
        explore.require_duckdb()


def test_not_a_dataset(tmp_path: Path) -> None:
    with pytest.raises(ExploreError, match="no data set .*set `path`"):
        open_dataset(tmp_path)


# --------------------------------------------------------------------------- the notebook


def _identity(path: Path) -> str:
    cells = [c for c in nbformat.read(path, as_version=4).cells if IDENTITY_TAG in c.metadata.get("tags", [])]
    assert len(cells) == 1
    return "".join(o["data"]["text/markdown"] for o in cells[0].outputs if "data" in o)


@pytest.mark.slow
def test_explore_notebook_with_its_defaults(dataset: Path, tmp_path: Path, monkeypatch) -> None:
    # an empty `path` explores the newest data set of the workspace
    monkeypatch.setenv(WORKSPACE_ENV, str(dataset.parent))
    result = run_notebook("explore_dataset", out=tmp_path / "ev", cwd=tmp_path)
    out = _outputs(result.notebook)
    assert "error" not in out
    assert f"exploring the newest data set in the workspace, {dataset}" in out["stream"]
    assert int(out["images"]) >= 3  # the MPAN, GSP groups, settlement periods
    assert "carry MPAN" in out["text/markdown"]
    sha = hashlib.sha256((dataset / "scenario.yaml").read_bytes()).hexdigest()
    identity = _identity(result.notebook)
    assert "explore_dataset" in identity and "none (defaults)" in identity
    assert sha not in identity  # no path given: the data set is only known further down
    assert sha in out["text/markdown"]


@pytest.mark.slow
def test_explore_notebook_with_a_path(ex, dataset: Path, tmp_path: Path) -> None:
    mpan = ex.mpans()[4]
    result = run_notebook("explore_dataset", {"path": str(dataset), "mpan": mpan, "day": "2025-03-31",
                                              "reference_dir": str(tmp_path / "none")}, out=tmp_path / "ev")
    out = _outputs(result.notebook)
    assert "error" not in out
    assert f"MPAN {mpan}, UTC day 2025-03-31" in out["stream"]
    assert f"carry MPAN `{mpan}` on 2025-03-31" in out["text/markdown"]
    assert f'"MPANCore": "{mpan}"' in out["text/markdown"]
    assert "Elexon's profile class averages were not found" in out["text/markdown"]
    identity = _identity(result.notebook)
    assert hashlib.sha256((dataset / "scenario.yaml").read_bytes()).hexdigest() in identity
    assert f"`mpan = '{mpan}'`" in identity


@pytest.mark.slow
def test_explore_notebook_unknown_mpan_stops_clearly(dataset: Path, tmp_path: Path) -> None:
    from mhhs_workbench.notebook.runner import NotebookFailed

    with pytest.raises(NotebookFailed, match="ExploreError: MPAN '1' is not in"):
        run_notebook("explore_dataset", {"path": str(dataset), "mpan": "1"}, out=tmp_path / "ev")
    failed = tmp_path / "ev" / "explore_dataset.failed.ipynb"
    errors = [o for c in nbformat.read(failed, as_version=4).cells for o in c.get("outputs", [])
              if o["output_type"] == "error"]
    assert [e["traceback"] for e in errors] == [[f"Stopped: MPAN '1' is not in {dataset}; set `mpan` to one "
                                                 "of its MPANs (e.g. from the fleet table)"]]
