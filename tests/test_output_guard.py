"""Every path a command writes is checked before any work starts, so no user file is ever lost.

Each refusal is checked the same way: exit status 2, exactly one ``error:`` line naming the
path(s), the inputs' bytes unchanged and nothing new left behind (lock files included).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from mhhs_workbench.cli import main
from mhhs_workbench.dataset import generate_dataset
from mhhs_workbench.negative.cases import generate_negative
from mhhs_workbench.publish.manifest import verify
from mhhs_workbench.publish.outputs import EVIDENCE, FILE, OutputRefused, check_output
from mhhs_workbench.scenario import MeterMix, Scenario

KEY_ENV = "MHHS_WORKBENCH_PSEUDONYMISE_KEY"
MPAN = "2000056535971"


# ---------------------------------------------------------------------- helpers


def tiny(seed: int = 1) -> Scenario:
    """Two meters over two days: a data set in about a second."""
    start = dt.date(2025, 3, 3)
    return Scenario(name="tiny", seed=seed, start_date=start, end_date=start + dt.timedelta(days=1),
                    meters=MeterMix(count=2), events=[])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny generated data set, negative test data derived from it, and its scenario file."""
    base = tmp_path_factory.mktemp("built")
    scenario_file = base / "tiny.yaml"
    scenario_file.write_text(tiny(seed=2).to_yaml(), encoding="utf-8")
    generate_dataset(tiny(), base / "ds", progress=False)
    generate_negative(base / "ds", base / "neg", rules=["SCHEMA"])
    return {"ds": base / "ds", "neg": base / "neg", "yaml": scenario_file}


@pytest.fixture
def work(built: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh folder (the current one) holding copies of ``ds``, ``neg``, a scenario and a CSV."""
    shutil.copytree(built["ds"], tmp_path / "ds")
    shutil.copytree(built["neg"], tmp_path / "neg")
    shutil.copyfile(built["yaml"], tmp_path / "tiny.yaml")
    start = dt.datetime(2025, 1, 6, tzinfo=dt.UTC)
    rows = [f"{MPAN},{(start + dt.timedelta(minutes=30 * k)).isoformat()},0.{100 + k % 300}" for k in range(1, 97)]
    (tmp_path / "in.csv").write_text("mpan,timestamp,kwh\n" + "\n".join(rows) + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(KEY_ENV, raising=False)
    return tmp_path


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under ``root`` (hidden ones too) with the sha256 of a file's bytes."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(root.rglob("*"))}


def invoke(*args: Any, env: dict[str, str] | None = None) -> Result:
    """Run the CLI in this process; an exception other than the exit is a test failure."""
    result = CliRunner().invoke(main, [str(a) for a in args], env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def refused(root: Path, *args: Any, names: tuple[str, ...], env: dict[str, str] | None = None) -> str:
    """Run a command that must be refused and change nothing; its one error line."""
    before = snapshot(root)
    result = invoke(*args, env=env)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    for name in names:
        assert name in lines[0], lines[0]
    assert snapshot(root) == before, "a refused command changed or left files"
    return lines[0]


def edit(path: Path) -> None:
    path.write_bytes(path.read_bytes() + b"\n# my edit\n")


# ---------------------------------------------------------------------- the cases


def test_1_negative_never_replaces_its_own_source(work: Path) -> None:
    line = refused(work, "negative", "ds", "--out", "ds", "--overwrite", names=("--out ds", "input ds"))
    assert "is the input" in line
    assert verify(work / "ds") == []


def test_1_negative_out_may_not_contain_or_lie_inside_the_source(work: Path) -> None:
    refused(work, "negative", "ds", "--out", "ds/neg", "--overwrite", names=("ds/neg", "input ds"))
    (work / "parent").mkdir()
    shutil.move(work / "ds", work / "parent" / "ds")
    line = refused(work, "negative", "parent/ds", "--out", "parent", "--overwrite", names=("parent", "parent/ds"))
    assert "contains the input" in line


def test_1_overwrite_replaces_only_an_output_of_the_same_kind(work: Path) -> None:
    line = refused(work, "generate", "tiny.yaml", "--out", "neg", "--overwrite", "--no-progress", names=("neg",))
    assert "holds negative test data and this run writes a data set" in line
    shutil.copytree(work / "ds", work / "copy")
    line = refused(work, "negative", "ds", "--out", "copy", "--overwrite", names=("copy",))
    assert "holds a data set and this run writes negative test data" in line


@pytest.mark.parametrize("option", ["--html", "--junit"])
def test_2_a_report_never_replaces_an_input(work: Path, option: str) -> None:
    shutil.copyfile(work / "ds" / "manifest.json", work / "input.json")
    line = refused(work, "validate", "input.json", option, "input.json", names=(f"{option} input.json",
                                                                              "the input input.json"))
    assert "is the input" in line
    refused(work, "validate", "ds", option, "ds/report.out", names=(option, "ds"))


def test_2_html_and_junit_may_not_name_the_same_file(work: Path) -> None:
    shutil.copyfile(work / "ds" / "manifest.json", work / "input.json")
    refused(work, "validate", "input.json", "--html", "r.xml", "--junit", "r.xml", names=("--junit r.xml", "--html r.xml"))


def test_3_the_mapping_never_replaces_an_input_csv(work: Path) -> None:
    line = refused(work, "from-csv", "in.csv", "--out", "o", "--pseudonymise", "k", "--mapping-out", "in.csv",
                   "--overwrite", "--no-progress", names=("--mapping-out in.csv", "the input in.csv"))
    assert "is the input" in line


def test_3_the_mapping_never_replaces_a_device(work: Path) -> None:
    line = refused(work, "from-csv", "in.csv", "--out", "o", "--pseudonymise", "k", "--mapping-out", "/dev/null",
                   "--overwrite", "--no-progress", names=("/dev/null",))
    assert "is a character device, not a regular file" in line
    assert Path("/dev/null").is_char_device()


def test_4_overwrite_keeps_edited_files_and_names_them(work: Path) -> None:
    edit(work / "ds" / "scenario.yaml")
    line = refused(work, "generate", "tiny.yaml", "--out", "ds", "--overwrite", "--no-progress",
                   names=("ds", "scenario.yaml", "--overwrite-modified"))
    assert "1 file(s) edited since it was published" in line
    for path in sorted((work / "ds").rglob("*.csv"))[:4]:
        edit(path)
    line = refused(work, "generate", "tiny.yaml", "--out", "ds", "--overwrite", "--no-progress", names=("ds",))
    assert "and 2 more" in line
    edit(work / "neg" / "expected.csv")
    refused(work, "negative", "ds", "--out", "neg", "--overwrite", names=("neg", "expected.csv"))


def test_4_overwrite_modified_replaces_an_edited_data_set(work: Path) -> None:
    edit(work / "ds" / "scenario.yaml")
    result = invoke("generate", "tiny.yaml", "--out", "ds", "--overwrite-modified", "--no-progress")
    assert result.exit_code == 0, result.output
    assert verify(work / "ds") == [] and "seed: 2" in (work / "ds" / "scenario.yaml").read_text()
    edit(work / "neg" / "expected.csv")
    result = invoke("negative", "ds", "--out", "neg", "--rules", "SCHEMA", "--overwrite-modified")
    assert result.exit_code == 0, result.output
    assert verify(work / "neg") == []


def test_overwrite_of_a_verified_data_set_of_the_same_kind_still_works(work: Path) -> None:
    before = snapshot(work / "ds")
    result = invoke("generate", "tiny.yaml", "--out", "ds", "--overwrite", "--no-progress")
    assert result.exit_code == 0, result.output
    assert verify(work / "ds") == [] and snapshot(work / "ds") != before
    result = invoke("negative", "ds", "--out", "neg", "--rules", "SCHEMA", "--overwrite")
    assert result.exit_code == 0, result.output
    assert verify(work / "neg") == []
    assert sorted(p.name for p in work.iterdir()) == ["ds", "in.csv", "neg", "tiny.yaml"]


def test_5_an_empty_key_never_turns_pseudonymisation_off(work: Path) -> None:
    line = refused(work, "from-csv", "in.csv", "--out", "o", "--no-progress", env={KEY_ENV: ""}, names=(KEY_ENV,))
    assert "set but empty" in line
    line = refused(work, "from-csv", "in.csv", "--out", "o", "--pseudonymise", "", "--no-progress",
                   names=("--pseudonymise",))
    assert "non-empty KEY" in line


def test_5_a_key_that_is_not_utf8_is_one_clear_line(work: Path) -> None:
    line = refused(work, "from-csv", "in.csv", "--out", "o", "--pseudonymise", "k\udcff", "--no-progress",
                   names=("not valid UTF-8 text",))
    assert "surrogates" not in line


def test_7_the_mapping_may_not_go_into_another_data_set(work: Path) -> None:
    line = refused(work, "from-csv", "in.csv", "--out", "o", "--pseudonymise", "k", "--mapping-out", "ds/map.csv",
                   "--no-progress", names=("--mapping-out ds/map.csv", str(work / "ds")))
    assert "lies inside the data set" in line
    refused(work, "from-csv", "in.csv", "--out", "o", "--pseudonymise", "k", "--mapping-out", "o/map.csv",
                   "--no-progress", names=("--mapping-out o/map.csv", "--out o", "keep it outside the data set"))


def test_8_the_mapping_path_is_checked_before_publishing(work: Path) -> None:
    (work / "mapdir").mkdir()
    line = refused(work, "from-csv", "in.csv", "--out", "o", "--pseudonymise", "k", "--mapping-out", "mapdir",
                   "--overwrite", "--no-progress", names=("--mapping-out mapdir",))
    assert "is a folder, not a regular file" in line
    assert not (work / "o").exists()
    refused(work, "from-csv", "in.csv", "--out", "o", "--pseudonymise", "k", "--mapping-out", "nowhere/m.csv",
            "--no-progress", names=("nowhere",))


@pytest.mark.parametrize("args", [("demo",), ("from-csv", "in.csv"), ("negative", "ds")],
                         ids=["demo", "from-csv", "negative"])
def test_15_an_out_without_a_name_is_one_line(work: Path, args: tuple[str, ...]) -> None:
    line = refused(work, *args, "--out", "/", names=("--out /",))
    assert "has no name of its own" in line


def test_16_an_unwritable_mapping_folder_is_refused_before_any_work(work: Path) -> None:
    locked = work / "locked"
    locked.mkdir()
    mounted = False
    if os.geteuid() == 0:  # root writes through permissions: a read-only file system stops it for real
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(locked)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            reason = f"mounting a read-only tmpfs is not permitted here: {done.stderr.strip()}"
            print(reason)
            pytest.skip(reason)
        mounted = True
    else:
        locked.chmod(0o500)
    try:
        line = refused(work, "from-csv", "in.csv", "--out", "o", "--pseudonymise", "k", "--mapping-out",
                       "locked/map.csv", "--no-progress", names=("--mapping-out locked/map.csv", str(locked)))
    finally:
        if mounted:
            subprocess.run(["umount", str(locked)], check=True)
        else:
            locked.chmod(0o700)
    assert "is not writable" in line or "read-only" in line
    assert not (work / "o").exists()


# ---------------------------------------------------------------------- the guard itself


def test_the_guard_compares_real_paths_and_hard_links(tmp_path: Path) -> None:
    source = tmp_path / "source.json"
    source.write_text("{}")
    os.symlink(source, tmp_path / "alias.json")
    os.link(source, tmp_path / "hard.json")
    for out in ("alias.json", "hard.json"):
        with pytest.raises(OutputRefused, match="is the input"):
            check_output(tmp_path / out, kind=FILE, option="--html", inputs=[source])
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(OutputRefused, match="is a FIFO"):
        check_output(fifo, kind=FILE, option="--junit")
    with pytest.raises(OutputRefused, match="is the input"):  # the evidence file would replace the notebook
        check_output(tmp_path, kind=EVIDENCE, inputs=[tmp_path / "nb.ipynb"], file_name="nb.ipynb")
    assert check_output(tmp_path, kind=EVIDENCE, inputs=[tmp_path / "nb.ipynb"], file_name="other.ipynb") == tmp_path
