"""The data set pipeline end to end: validity, reconciliation, agreement, determinism, publication."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pytest
from click.testing import CliRunner

from mhhs_workbench.cli import main
from mhhs_workbench.dataset import generate_dataset
from mhhs_workbench.model.profiles.economy7 import window_indices, window_masks
from mhhs_workbench.notebook.message_frames import if021_frame, if041_frame
from mhhs_workbench.publish.manifest import PublicationError, verify
from mhhs_workbench.scenario import DataQuality, Event, MeterMix, Scenario
from mhhs_workbench.time.periods import local_period_counts
from mhhs_workbench.validation.files import validate_files

CLI = [sys.executable, "-m", "mhhs_workbench.cli"]


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """The README's main job, run as a user would."""
    out = tmp_path_factory.mktemp("demo") / "demo-data"
    done = subprocess.run([*CLI, "demo", "--out", str(out), "--no-progress"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "IF-021" in done.stdout
    return out


def small_scenario(**changes) -> Scenario:
    """A small scenario that still exercises every archetype, overlay and imperfection."""
    base = dict(
        name="small",
        seed=7,
        start_date=dt.date(2025, 3, 27),
        end_date=dt.date(2025, 4, 2),  # spans the March clock change
        meters=MeterMix(count=36, pv_share=0.4, ev_share=0.3, heat_pump_share=0.2),
        data_quality=DataQuality(missing_share=0.02, comms_fault_share=0.3, deenergised_share=0.2,
                                 comms_fault_days=[1, 2], deenergised_days=[1, 2]),
        events=[Event(date=dt.date(2025, 3, 30), share=0.3)],
    )
    base.update(changes)
    return Scenario(**base)


@pytest.fixture(scope="session")
def small_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small") / "data"
    generate_dataset(small_scenario(), out, progress=False, chunk_size=5)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("which", ["demo_dir", "small_dir"])
def test_every_message_validates_against_elexons_schema_and_business_rules(which, request, official_spec_dir):
    folder = request.getfixturevalue(which)
    official = validate_files([folder], spec_dir=official_spec_dir, business_rules=True)
    assert official.ok, official
    ours = validate_files([folder], business_rules=True)
    assert ours.ok, ours
    assert official.messages > 100


def test_demo_covers_the_october_clock_change_and_every_quality_case(demo_dir):
    frame = if021_frame([demo_dir / "messages"])
    local = pd.read_parquet(demo_dir / "tables" / "consumption.parquet")
    assert local["settlement_period"].max() == 50  # 26 October 2025 has 50 local periods
    assert {"A", "E", "E1", "E4", "ZE"} <= set(frame["quality"])
    assert {"AI", "AE", "RI", "RE"} == set(frame["mqid"])
    events = set(if041_frame([demo_dir / "messages"])["event_code"])
    assert {"[ReadingInstl]", "[ReadingRemote]", "[ReadingCOS]", "[ReadingEnergisationChg]"} <= events


def _sent_at(folder: Path) -> dict[str, str]:
    """``senderTimestamp`` of every IF-021 message of a data set, by ``senderUniqueReference``."""
    stamps = {}
    for path in sorted((folder / "messages").rglob("IF-021_*.json")):
        for item in orjson.loads(path.read_bytes()):
            s1 = item["payload"]["CommonBlock"]["S1"]
            stamps[s1["senderUniqueReference"]] = s1["senderTimestamp"]
    return stamps


def _latest_values(folder: Path) -> pd.DataFrame:
    """The IF-021 values of a data set, only the latest version of each (MPAN, MQID, period):
    a re-sent day replaces what was sent before (later ``senderTimestamp``, then reference)."""
    periods = if021_frame([folder / "messages"])
    periods["sent_at"] = pd.to_datetime(periods["reference"].map(_sent_at(folder)), utc=True)
    periods = periods.sort_values(["sent_at", "reference"], kind="stable")
    return periods.drop_duplicates(["mpan", "mqid", "sp"], keep="last")


def _register_checks(folder: Path, *, time_of_use: bool = True) -> int:
    """Assert every register advance equals the latest IF-021 values between the reads, in the
    direction of the MPAN the reads were sent under; count intervals.

    An import MPAN's cumulative register (``C``) takes all its import (AI); its Economy 7
    registers the half hours inside (``02``, night) and outside (``01``, day) the meter's own
    night window. An export MPAN's register takes its export (AE).
    """
    meters = pd.read_parquet(folder / "tables" / "meters.parquet").set_index("mpan")
    periods = _latest_values(folder)
    direction = periods["mpan"].map(meters["energy_direction"])
    active = periods[((periods["mqid"] == "AI") & (direction == "I")) | ((periods["mqid"] == "AE") & (direction == "E"))].copy()
    ends = active["sp"].dt.tz_localize(None).to_numpy().astype("datetime64[m]")
    labels = active["mpan"].map(meters["economy7_window"]).fillna("").to_numpy()
    night = np.zeros(len(active), dtype=bool)
    for label in np.unique(labels):  # each meter's register splits at its own switching window
        rows = labels == label
        night[rows] = window_masks(window_indices([label]), ends[rows])[0]
    active["night"] = night
    reads = if041_frame([folder / "messages"]).drop_duplicates(["mpan", "register_id", "read_datetime"])
    checked = 0
    for (mpan, register), group in reads.groupby(["mpan", "register_id"]):
        capacity = 10 ** (int(meters.loc[mpan, "register_digits"]) + 3)
        mine = active[active["mpan"] == mpan]
        if register != "C":
            assert meters.loc[mpan, "energy_direction"] == "I", (mpan, register)
            mine = mine[mine["night"] == (register == "02")]
        series = mine.set_index("sp")["value_wh"].sort_index()
        group = group.sort_values("read_datetime")
        times, values = group["read_datetime"].to_list(), group["reading_wh"].to_numpy()
        for i in range(1, len(times)):
            used = int(series[(series.index > times[i - 1]) & (series.index <= times[i])].sum())
            assert (values[i] - values[i - 1]) % capacity == used, (mpan, register, times[i - 1], times[i])
            assert used < capacity
            checked += 1
    if time_of_use:
        assert set(reads["register_id"]) >= {"C", "01", "02"}
    return checked


@pytest.mark.slow
@pytest.mark.parametrize("which", ["demo_dir", "small_dir"])
def test_register_advance_equals_if021_sum_between_reads(which, request):
    folder = request.getfixturevalue(which)
    assert _register_checks(folder) > 50


def test_registers_wrap_around(tmp_path):
    scenario = small_scenario(
        name="wrap",
        meters=MeterMix(count=12, archetypes={"maximum_demand_pc8": 1.0}),
    )
    scenario.readings.register_digits = 4
    scenario.readings.near_wrap_share = 1.0
    out = tmp_path / "wrap"
    generate_dataset(scenario, out, progress=False)
    reads = if041_frame([out / "messages"])
    wrapped = 0
    for _, g in reads[reads["register_id"] == "C"].groupby("mpan"):
        wrapped += int((np.diff(g.sort_values("read_datetime")["reading_wh"].to_numpy()) < 0).sum())
    assert wrapped > 0, "large sites near the top of a 4-digit register must roll over"
    assert _register_checks(out, time_of_use=False) > 0
    assert validate_files([out]).ok


def test_tables_aggregates_and_messages_agree_exactly(small_dir):
    messages = if021_frame([small_dir / "messages"])
    table = pd.read_parquet(small_dir / "tables" / "consumption.parquet")
    csv = pd.read_csv(small_dir / "tables" / "consumption.csv", dtype={"mpan": str, "reason": str})
    # Parquet and CSV hold the same rows
    assert len(csv) == len(table)
    assert (csv["value_wh"].to_numpy() == table["value_wh"].to_numpy()).all()
    assert (pd.to_datetime(csv["utc_period_end"], utc=True).to_numpy() == table["utc_period_end"].to_numpy()).all()
    assert (csv["quality"].to_numpy() == table["quality"].to_numpy()).all()
    # ... and the same values, flags and reasons as the messages
    key = ["mpan", "mqid", "sp"]
    t = table.rename(columns={"utc_period_end": "sp"})
    merged = messages.merge(t, on=key, how="outer", suffixes=("_msg", "_tab"), indicator=True)
    assert (merged["_merge"] == "both").all()
    assert (merged["value_wh_msg"] == merged["value_wh_tab"]).all()
    assert (merged["quality_msg"] == merged["quality_tab"]).all()
    assert (merged["reason_msg"].fillna("") == merged["reason_tab"].fillna("")).all()
    # each run of the settlement table holds the table's active energy per GSP group x local
    # settlement period x direction (import AI, export AE)
    settled = pd.read_parquet(small_dir / "tables" / "settlement.parquet")
    meters = pd.read_parquet(small_dir / "tables" / "meters.parquet")[["mpan", "gsp_group"]]
    full = table[table["mqid"].isin(["AI", "AE"])].merge(meters, on="mpan")
    counts = full.groupby("settlement_date")["utc_period_end"].nunique()
    complete = [d for d, n in counts.items() if n == local_period_counts([d])[0]]
    full = full[full["settlement_date"].isin(complete)].assign(direction=lambda f: f["mqid"].map({"AI": "I", "AE": "E"}))
    key = ["gsp_group", "settlement_date", "settlement_period", "direction"]
    expected = full.groupby(key)["value_wh"].sum()
    for _, run in settled.rename(columns={"energy_direction": "direction"}).groupby("settlement_code"):
        got = run.groupby(key)["volume_wh"].sum()
        pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_dtype=False, check_names=False)
    assert 46 in settled.groupby("settlement_date")["settlement_period"].max().to_numpy()  # 30 March
    # readings table equals the IF-041 reads, row for row
    reads = if041_frame([small_dir / "messages"])
    read_table = pd.read_parquet(small_dir / "tables" / "readings.parquet")
    key = ["mpan", "event_code", "register_id", "read_datetime"]
    both = reads.merge(read_table, on=key, how="outer", suffixes=("_msg", "_tab"), indicator=True)
    assert len(reads) == len(read_table) == len(both) and (both["_merge"] == "both").all()
    assert (both["reading_wh_msg"] == both["reading_wh_tab"]).all()
    assert (both["meter_id_msg"] == both["meter_id_tab"]).all()
    cumulative = both[both["register_id"] == "C"]
    assert (cumulative["reading_method_msg"] == cumulative["reading_method_tab"]).all()
    assert (cumulative["site_visit_check_code_msg"].fillna("") == cumulative["site_visit_check_code_tab"].fillna("")).all()


def _hashes(folder: Path) -> dict[str, str]:
    manifest = orjson.loads((folder / "manifest.json").read_bytes())
    return {f["path"]: f["sha256"] for f in manifest["files"]}


def test_same_scenario_and_seed_give_identical_bytes_whatever_the_chunk_size(tmp_path):
    scenario = small_scenario(meters=MeterMix(count=23), end_date=dt.date(2025, 3, 31))
    generate_dataset(scenario, tmp_path / "a", progress=False, chunk_size=500)
    generate_dataset(scenario, tmp_path / "b", progress=False, chunk_size=4)
    a, b = _hashes(tmp_path / "a"), _hashes(tmp_path / "b")
    assert a == b and len(a) > 10
    assert (tmp_path / "a" / "manifest.json").read_bytes() == (tmp_path / "b" / "manifest.json").read_bytes()
    scenario.seed += 1
    generate_dataset(scenario, tmp_path / "c", progress=False)
    assert _hashes(tmp_path / "c") != a


def test_existing_data_set_is_not_overwritten_unless_asked(tmp_path):
    scenario = small_scenario(meters=MeterMix(count=3), end_date=dt.date(2025, 3, 28), events=[])
    yaml_file = tmp_path / "s.yaml"
    yaml_file.write_text(scenario.to_yaml())
    out = tmp_path / "out"
    runner = CliRunner()
    first = runner.invoke(main, ["generate", str(yaml_file), "--out", str(out), "--no-progress"])
    assert first.exit_code == 0, first.output
    before = _hashes(out)
    again = runner.invoke(main, ["generate", str(yaml_file), "--out", str(out), "--no-progress"])
    assert again.exit_code != 0 and "already exists" in again.output
    assert _hashes(out) == before
    forced = runner.invoke(main, ["generate", str(yaml_file), "--out", str(out), "--overwrite", "--no-progress"])
    assert forced.exit_code == 0 and _hashes(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "s.yaml"]  # nothing left behind


@pytest.mark.slow
def test_killed_run_leaves_nothing_that_looks_complete_and_next_run_succeeds(tmp_path):
    scenario = small_scenario(meters=MeterMix(count=3000), end_date=dt.date(2025, 4, 10))
    yaml_file = tmp_path / "big.yaml"
    yaml_file.write_text(scenario.to_yaml())
    out = tmp_path / "big"
    proc = subprocess.Popen([*CLI, "generate", str(yaml_file), "--out", str(out), "--chunk-size", "50",
                             "--no-progress"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    # kill once message files are being written into the staging folder
    while time.time() < deadline and not list(tmp_path.glob(".big.partial-*/messages/IF-041/*.json")):
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    assert not list(tmp_path.rglob("manifest.json"))
    assert list(tmp_path.glob(".big.partial-*"))  # the hidden staging folder is all that remains
    # the next run (smaller, same target) succeeds and clears the dead run's leftovers
    yaml_file.write_text(small_scenario(meters=MeterMix(count=5), end_date=dt.date(2025, 3, 28), events=[]).to_yaml())
    done = subprocess.run([*CLI, "generate", str(yaml_file), "--out", str(out), "--no-progress"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (out / "manifest.json").is_file() and verify(out) == []
    assert not list(tmp_path.glob(".big.partial-*"))


def test_verify_detects_tampering(small_dir, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(small_dir, copy)
    ok = subprocess.run([*CLI, "verify", str(copy)], capture_output=True, text=True)
    assert ok.returncode == 0 and "OK" in ok.stdout
    target = sorted((copy / "messages" / "IF-021").glob("*.json"))[0]
    data = bytearray(target.read_bytes())
    i = data.index(b'"v":"') + 5
    data[i] = ord("9") if data[i] != ord("9") else ord("8")
    target.write_bytes(bytes(data))
    (copy / "tables" / "extra.txt").write_text("sneaked in")
    bad = subprocess.run([*CLI, "verify", str(copy)], capture_output=True, text=True)
    assert bad.returncode == 1
    assert f"messages/IF-021/{target.name}: sha256 differs" in bad.stdout
    assert "tables/extra.txt: not in the manifest" in bad.stdout


BAD_SCENARIOS = {
    "unknown key": ("name: x\nmeters:\n  cout: 5\n", "meters.cout: unknown key (did you mean 'count'?)"),
    "wrong type": ("meters:\n  count: lots\n", "meters.count: expected an integer, got 'lots'"),
    "impossible dates": ("start_date: 2025-05-01\nend_date: 2025-04-01\n", "end_date: 2025-04-01 is before start_date"),
    "unknown GSP group": ("meters:\n  gsp_groups: [_A, _I]\n", "unknown GSP group '_I'"),
    "zero meters": ("meters:\n  count: 0\n", "meters.count: must be at least 1, got 0"),
    "bad date": ("start_date: 2025-02-30\n", "start_date: '2025-02-30' is not a date"),
    "empty sub text": ("messages:\n  sub_text: ''\n", "messages.sub_text: must be null or 1-500 characters, got 0"),
    "timestamp with a space": ("messages:\n  sender_timestamp: '2025-06-02 06:00:00+00:00'\n",
                               "messages.sender_timestamp: '2025-06-02 06:00:00+00:00' is not like"),
    "negative seed": ("seed: -1\n", "seed: must be zero or positive, got -1"),
    "negative heat pump": ("meters:\n  heat_pump_kwh: -5\n", "meters.heat_pump_kwh: must be 0-100000 kWh, got -5.0"),
}


@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS))
def test_bad_scenario_files_give_one_clear_error_line(case, tmp_path):
    text, expected = BAD_SCENARIOS[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    out = tmp_path / "never"
    result = CliRunner().invoke(main, ["generate", str(path), "--out", str(out)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"error: {path}:")
    assert expected in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def test_leap_day_data_set_is_valid(tmp_path, official_spec_dir):
    scenario = small_scenario(start_date=dt.date(2024, 2, 27), end_date=dt.date(2024, 3, 2), events=[],
                              meters=MeterMix(count=14))
    generate_dataset(scenario, tmp_path / "leap", progress=False)
    report = validate_files([tmp_path / "leap"], spec_dir=official_spec_dir)
    assert report.ok, report
    frame = if021_frame([tmp_path / "leap" / "messages"])
    assert "2024-02-29T00:00:00+00:00" in set(frame["settlement_day"])


def test_example_scenario_file_is_the_demo_and_dicts_round_trip():
    from mhhs_workbench.scenario import demo_scenario

    example = Path(__file__).resolve().parents[1] / "examples" / "demo.yaml"
    assert Scenario.from_yaml(example) == demo_scenario()
    # papermill parameters are the same mapping as the YAML: one-to-one
    assert Scenario.from_dict(demo_scenario().to_dict()) == demo_scenario()
    assert Scenario.from_dict({"meters": {"count": 5}}).meters.count == 5


def test_bad_temperature_csv_is_located_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "temps.csv").write_text("date,temperature_c\n2025-10-20,8.1\n2025-10-21,warm\n")
    (tmp_path / "s.yaml").write_text(
        "meters:\n  count: 3\nstart_date: 2025-10-20\nend_date: 2025-10-22\nevents: []\ntemperature_csv: temps.csv\n"
    )
    result = CliRunner().invoke(main, ["generate", "s.yaml", "--out", "out"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: temps.csv, line 3, column temperature_c: 'warm' is not a number [°C]"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml", "temps.csv"]
    # a good file drives the heat-pump and weather model instead of the built-in series
    (tmp_path / "temps.csv").write_text("date,temperature_c\n2025-10-20,8.1\n2025-10-21,7.5\n2025-10-22,-2.0\n")
    result = CliRunner().invoke(main, ["generate", "s.yaml", "--out", "out", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert verify(tmp_path / "out") == []


def test_overwrite_never_replaces_a_folder_that_is_not_a_data_set(tmp_path):
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.txt").write_text("years of work")
    scenario = small_scenario(meters=MeterMix(count=2), end_date=dt.date(2025, 3, 28), events=[])
    with pytest.raises(PublicationError, match="not a data set"):
        generate_dataset(scenario, precious, overwrite=True, progress=False)
    assert (precious / "chapter1.txt").read_text() == "years of work"
    empty = tmp_path / "empty"
    empty.mkdir()
    generate_dataset(scenario, empty, overwrite=True, progress=False)
    assert verify(empty) == []


def test_register_too_small_for_its_read_gaps_is_refused_in_one_line(tmp_path):
    scenario = small_scenario(meters=MeterMix(count=2, archetypes={"maximum_demand_pc8": 1.0}),
                              events=[Event(date=dt.date(2025, 4, 25), share=1.0)],
                              end_date=dt.date(2025, 4, 30))
    scenario.readings.schedule = "none"
    scenario.readings.register_digits = 4
    (tmp_path / "s.yaml").write_text(scenario.to_yaml())
    result = CliRunner().invoke(main, ["generate", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "out"),
                                       "--no-progress"])
    assert result.exit_code == 2
    assert result.output.startswith("error: MPAN ") and "roll over more than once" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


@pytest.mark.parametrize("outputs", [["if021", "csv"], ["if041", "parquet", "aggregates"], ["settlement"]])
def test_output_subsets_are_byte_identical_across_chunk_sizes(outputs, tmp_path):
    scenario = small_scenario(meters=MeterMix(count=11), end_date=dt.date(2025, 3, 30), outputs=outputs, events=[])
    generate_dataset(scenario, tmp_path / "a", progress=False, chunk_size=3)
    generate_dataset(scenario, tmp_path / "b", progress=False, chunk_size=100)
    a = _hashes(tmp_path / "a")
    assert a == _hashes(tmp_path / "b")
    names = {Path(p).name for p in a}
    assert ("consumption.csv" in names) == ("csv" in outputs)
    assert ("consumption.parquet" in names) == ("parquet" in outputs)
    assert any(n.startswith("IF-021_") for n in names) == ("if021" in outputs)
    assert any(n.startswith("IF-041_") for n in names) == ("if041" in outputs)
    # "aggregates" is the older name of the settlement output
    settlement = bool({"aggregates", "settlement"} & set(outputs))
    assert any(n.startswith("settlement.") for n in names) == settlement
    assert any(n.startswith("REP-002_") for n in names) == settlement
