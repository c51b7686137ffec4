"""The size guard: estimates close to real data sets, refusals in one line before anything is written."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from mhhs_workbench.cli import main
from mhhs_workbench.dataset import generate_dataset
from mhhs_workbench.model.chunk import MAX_CHUNK_VALUES, effective_chunk_size
from mhhs_workbench.publish.budget import (
    MAX_OUTPUT_ENV,
    BudgetError,
    check_budget,
    estimate,
    expected_counts,
)
from mhhs_workbench.publish.manifest import verify
from mhhs_workbench.scenario import Messages, MeterMix, Scenario, demo_scenario
from mhhs_workbench.scenario.limits import OUTPUTS


def scenario(meters: int, days: int, **changes) -> Scenario:
    start = dt.date(2016, 1, 1) if days > 365 else dt.date(2025, 3, 1)
    return Scenario(name="budget", seed=3, start_date=start, end_date=start + dt.timedelta(days=days - 1),
                    meters=MeterMix(count=meters), **changes)


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def output_bytes(folder: Path) -> dict[str, int]:
    """Bytes of each output of a data set, named as the estimate names them."""
    def size(*patterns: str) -> int:
        return sum(p.stat().st_size for pattern in patterns for p in folder.glob(pattern) if p.is_file())

    return {
        "if021": size("messages/IF-021/*"),
        "if041": size("messages/IF-041/*"),
        "parquet": size("tables/*.parquet") - size("tables/settlement.parquet"),
        "csv": size("tables/*.csv") - size("tables/settlement.csv"),
        "settlement": size("tables/settlement.*", "messages/REP-002/*", "messages/REP-002B/*", "reports/**/*"),
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in demo data set (every output, revisions and a change of supplier)."""
    folder = tmp_path_factory.mktemp("demo") / "data"
    generate_dataset(demo_scenario(), folder, progress=False)
    return folder


@pytest.mark.slow
def test_each_output_of_the_demo_is_estimated_within_a_quarter(demo):
    est = estimate(demo_scenario())
    actual = output_bytes(demo)
    assert set(est.by_output) == set(actual)
    for name, size in est.by_output.items():
        assert 0.8 <= size / actual[name] <= 1.25, (name, size, actual[name])
    assert 0.9 <= est.output_bytes / folder_bytes(demo) <= 1.2, est.describe()


@pytest.mark.slow
def test_expected_rows_and_messages_follow_the_demo(demo):
    expected = expected_counts(demo_scenario())
    counts = json.loads((demo / "manifest.json").read_text())["counts"]
    rows = {name: pq.ParquetFile(demo / "tables" / f"{name}.parquet").metadata.num_rows
            for name in ("consumption", "readings", "meters", "send_schedule", "history", "settlement")}
    pairs = {
        "values": (expected.values, rows["consumption"]),
        "IF-021 messages": (expected.if021_messages, counts["if021_messages"]),
        "IF-041 messages": (expected.if041_messages, counts["if041_messages"]),
        "send schedule": (expected.if021_messages + expected.if041_messages, rows["send_schedule"]),
        "reads": (expected.reads, rows["readings"]),
        "metering points": (expected.meter_rows, rows["meters"]),
        "settlement rows": (expected.settlement_rows, rows["settlement"]),
    }
    for name, (predicted, actual) in pairs.items():
        assert 0.9 <= predicted / actual <= 1.15, (name, predicted, actual)
    # the demo re-sends few fault days (an expectation of 10 quantity-days, binomially spread)
    assert rows["history"] > 0 and 0.5 <= expected.history_rows / rows["history"] <= 2


def one_error_line(text: str) -> str:
    assert "Traceback" not in text, text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), text
    return lines[0]


@pytest.mark.parametrize("outputs", [list(OUTPUTS), ["if021"], ["if041", "csv"], ["parquet", "aggregates"]],
                         ids=lambda o: "+".join(o))
def test_output_estimate_is_close_to_a_real_data_set(outputs, tmp_path):
    s = scenario(60, 14, outputs=outputs)
    generate_dataset(s, tmp_path / "data", progress=False)
    est = estimate(s)
    assert set(est.by_output) == set(outputs)
    assert 0.8 <= est.output_bytes / folder_bytes(tmp_path / "data") <= 1.3, est.describe()


@pytest.mark.slow
def test_peak_memory_estimate_covers_a_measured_run(tmp_path):
    s = scenario(300, 60)
    code = (
        "import resource, sys\n"
        "from mhhs_workbench.scenario import Scenario\n"
        "from mhhs_workbench.dataset import generate_dataset\n"
        "generate_dataset(Scenario.from_yaml(sys.argv[1]), sys.argv[2], progress=False, chunk_size=300)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)\n"  # KiB on Linux
    )
    (tmp_path / "s.yaml").write_text(s.to_yaml())
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "s.yaml"), str(tmp_path / "data")],
                         capture_output=True, text=True, check=True)
    measured = int(run.stdout.split()[-1])
    predicted = estimate(s, chunk_size=300).peak_memory_bytes
    assert measured <= predicted <= 3 * measured, (measured, predicted)


@pytest.mark.slow
def test_peak_memory_estimate_covers_a_run_with_huge_message_files(tmp_path):
    # every message of a data service in one 400 MB file, joined from the pieces of 30 chunks:
    # the join streams them to disk, so memory does not grow with messages_per_file (holding the
    # file's pieces took more than the estimate before)
    s = scenario(3000, 30, outputs=["if021"], messages=Messages(days_per_message=30, messages_per_file=10**6))
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from mhhs_workbench.scenario import Scenario\n"
        "from mhhs_workbench.dataset import generate_dataset\n"
        "generate_dataset(Scenario.from_yaml(sys.argv[1]), sys.argv[2], progress=False, chunk_size=100)\n"
        # VmHWM, not ru_maxrss: the latter keeps the forking parent's (pytest's) high-water mark
        "hwm = [r for r in Path('/proc/self/status').read_text().splitlines() if r.startswith('VmHWM:')]\n"
        "print(int(hwm[0].split()[1]) * 1024)\n"  # KiB
    )
    (tmp_path / "s.yaml").write_text(s.to_yaml())
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "s.yaml"), str(tmp_path / "data")],
                         capture_output=True, text=True, check=True)
    measured = int(run.stdout.split()[-1])
    biggest = max(p.stat().st_size for p in (tmp_path / "data").rglob("IF-021_*.json"))
    assert biggest > 300 * 2**20  # the worst knob really made one huge file
    predicted = estimate(s, chunk_size=100).peak_memory_bytes
    assert measured <= predicted <= 3 * measured, (measured, predicted)


def test_huge_scenario_is_refused_in_one_line_before_anything_is_written(tmp_path):
    s = scenario(10_000_000, 3653)
    (tmp_path / "huge.yaml").write_text(s.to_yaml())
    result = CliRunner().invoke(main, ["generate", str(tmp_path / "huge.yaml"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    line = one_error_line(result.output)
    assert line.startswith("error: 10,000,000 meters x 3,653 days: about ")
    assert "TB of output (if021 " in line and "over the 50.0 GB output limit" in line and "--allow-large" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["huge.yaml"]
    est = estimate(s)
    assert est.output_bytes > 100 * 10**12 and "\n" not in est.describe()


@pytest.mark.slow
def test_output_limit_is_configurable_and_allow_large_accepts(tmp_path, monkeypatch):
    s = scenario(200, 14)
    out = tmp_path / "out"
    assert check_budget(s, out).output_bytes > 10**7  # about 30 MB: under the default limit
    monkeypatch.setenv(MAX_OUTPUT_ENV, "0.01")
    with pytest.raises(BudgetError, match=r"over the 10\.0 MB output limit \(set MHHS_WORKBENCH_MAX_OUTPUT_GB"):
        check_budget(s, out)
    assert check_budget(s, out, allow_large=True) == estimate(s)
    with pytest.raises(BudgetError, match="limit"):
        check_budget(s, out, max_output_bytes=10**6)
    (tmp_path / "s.yaml").write_text(s.to_yaml())
    refused = CliRunner().invoke(main, ["generate", str(tmp_path / "s.yaml"), "--out", str(out)])
    assert refused.exit_code == 2 and "output limit" in one_error_line(refused.output)
    assert not out.exists()
    allowed = CliRunner().invoke(main, ["generate", str(tmp_path / "s.yaml"), "--out", str(out), "--allow-large",
                                        "--no-progress"])
    assert allowed.exit_code == 0, allowed.output
    assert verify(out) == []
    monkeypatch.setenv(MAX_OUTPUT_ENV, "lots")
    with pytest.raises(BudgetError, match="'lots' is not a number of gigabytes"):
        check_budget(s, out)


def test_chunks_are_capped_so_no_chunk_size_exhausts_memory(tmp_path, monkeypatch):
    s = scenario(20_000, 3652, outputs=["aggregates"])  # all meters at once would be terabytes
    asked = check_budget(s, tmp_path / "out", chunk_size=20_000)
    capped = estimate(s, effective_chunk_size(20_000, 3652))
    assert effective_chunk_size(20_000, 3652) * 3652 * 48 <= MAX_CHUNK_VALUES
    assert asked.peak_memory_bytes == capped.peak_memory_bytes < 8 * 10**9
    # on a machine smaller than the estimate, the run is refused before anything is written
    monkeypatch.setattr("mhhs_workbench.publish.budget._physical_memory", lambda: 10**8)
    with pytest.raises(BudgetError, match="of memory"):
        check_budget(s, tmp_path / "out", chunk_size=20_000)
    assert check_budget(s, tmp_path / "out", True, chunk_size=20_000) == asked  # --allow-large
    assert list(tmp_path.iterdir()) == []


def test_an_infinite_output_limit_means_no_limit(tmp_path, monkeypatch):
    from mhhs_workbench.publish.budget import _max_output_from_environment

    monkeypatch.setenv(MAX_OUTPUT_ENV, "inf")
    assert _max_output_from_environment() >= 2**62
    s = scenario(20, 3, outputs=["if021"])
    for bad in ("nan", "-1", "0", "lots"):
        monkeypatch.setenv(MAX_OUTPUT_ENV, bad)
        with pytest.raises(BudgetError, match=MAX_OUTPUT_ENV):
            check_budget(s, tmp_path / "out", chunk_size=500)
