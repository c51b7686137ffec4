"""Every command walked through the ways a user's file could be lost, a run hang or a traceback show.

Each case runs the real command line in a subprocess (with a timeout, so a hang is a failure, not a
stuck suite) in a fresh folder holding a small data set, a scenario, a CSV and a message file, and
checks the same things: the exit status (2 for a refusal; 1 is ``verify``'s and ``validate``'s
"problems found"), exactly one ``error:`` line on stderr where the command refuses, no traceback,
every input byte-identical and nothing new left behind (lock files, staging folders, partial
reports). The numbers are those of the cases this file was written against; the detailed tests of
each are in ``test_output_guard.py``, ``test_verify_safety.py``, ``test_output_failures.py``,
``test_csv_inputs_bounded.py`` and ``test_run_and_validate_bounds.py``. Four cases need more than a
folder and a command, and are walked there: 10 (a scheduler that accepts and never answers: a
socket server in the test), 16 (an unwritable mapping folder) and 20 (a completely full disk: a
small tmpfs mounted for the test); 11 (memory flat in ``messages_per_file``) is measured by
``benchmarks/bench_generate.py memory`` and ``test_budget.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mhhs_workbench.dataset import generate_dataset
from mhhs_workbench.scenario import MeterMix, Scenario

KEY_ENV = "MHHS_WORKBENCH_PSEUDONYMISE_KEY"
MPAN = "2000056535971"
#: A subprocess a case (about 1.5 s each): the detailed tests of each case stay in the quick subset.
pytestmark = pytest.mark.slow

#: Longest a case may take [s]: every refusal is immediate, so anything near this is a hang.
CASE_SECONDS = 60


def _tiny() -> Scenario:
    start = dt.date(2025, 3, 3)
    return Scenario(name="tiny", seed=1, start_date=start, end_date=start + dt.timedelta(days=1),
                    meters=MeterMix(count=2), events=[])


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny data set, its scenario, a CSV of consumption and one message file."""
    base = tmp_path_factory.mktemp("source")
    generate_dataset(_tiny(), base / "ds", progress=False)
    (base / "tiny.yaml").write_text(_tiny().to_yaml(), encoding="utf-8")
    start = dt.datetime(2025, 1, 6, tzinfo=dt.UTC)
    rows = [f"{MPAN},{(start + dt.timedelta(minutes=30 * k)).isoformat()},0.{100 + k % 300}" for k in range(1, 97)]
    (base / "in.csv").write_text("mpan,timestamp,kwh\n" + "\n".join(rows) + "\n", encoding="utf-8")
    shutil.copyfile(next((base / "ds" / "messages" / "IF-021").glob("*.json")), base / "input.json")
    return base


@dataclass
class Case:
    """One way to lose data: how to set it up, the command, and what must come out."""

    args: list[str]
    status: int = 2
    setup: Callable[[Path], None] | None = None
    env: dict[str, str] = field(default_factory=dict)
    stdout: str | None = None
    #: bytes piped to the command's standard input (a pipe, as ``cat f |`` gives)
    stdin: bytes | None = None
    #: statuses allowed besides ``status`` (a pipe may be read, or refused in one line)
    also: tuple[int, ...] = ()
    says: str = ""
    #: paths a refused command may leave (what the set-up made that the command itself writes)
    expected_new: tuple[str, ...] = ()


def _edit_listed(work: Path) -> None:
    (work / "ds" / "scenario.yaml").write_text("# my edit\n", encoding="utf-8")


def _symlink_in_dataset(work: Path) -> None:
    (work / "ds" / "tables" / "root").symlink_to("/")


def _fifo(name: str) -> Callable[[Path], None]:
    return lambda work: os.mkfifo(work / name)


def _sparse(name: str, size: int) -> Callable[[Path], None]:
    def make(work: Path) -> None:
        with open(work / name, "wb") as f:
            f.truncate(size)
    return make


def _manifest_link(work: Path) -> None:
    _sparse("big", 2 * 10**9)(work)
    (work / "ds" / "manifest.json").unlink()
    (work / "ds" / "manifest.json").symlink_to(work / "big")


def _big_parameters(work: Path) -> None:
    (work / "params.yaml").write_text("meters: '" + "x" * 50_000_000 + "'\n", encoding="utf-8")


def _long_row(work: Path) -> None:
    (work / "long.csv").write_text("mpan,timestamp,kwh\n" + MPAN + ",2025-01-06T00:30:00+00:00,"
                                   + "1" * 40_000_000 + "\n", encoding="utf-8")


def _newline_name(work: Path) -> None:
    (work / "bad\nname.csv").write_text("mpan,timestamp,kwh\nnot-an-mpan,then,x\n", encoding="utf-8")


def _wide_header(work: Path) -> None:
    (work / "wide.csv").write_text(",".join(f"c{k}" for k in range(2_000_000)) + "\n1\n", encoding="utf-8")


CASES: dict[str, Case] = {
    "01-negative-over-its-source": Case(["negative", "ds", "--out", "ds", "--overwrite"]),
    "02-html-over-the-input": Case(["validate", "input.json", "--html", "input.json"]),
    "02-junit-over-the-input": Case(["validate", "input.json", "--junit", "input.json"]),
    "03-mapping-over-the-input": Case(["from-csv", "in.csv", "--out", "o", "--pseudonymise", "k",
                                       "--mapping-out", "in.csv", "--overwrite", "--no-progress"]),
    "03-mapping-over-a-device": Case(["from-csv", "in.csv", "--out", "o", "--pseudonymise", "k",
                                      "--mapping-out", "/dev/null", "--no-progress"]),
    "04-overwrite-over-edits": Case(["generate", "tiny.yaml", "--out", "ds", "--overwrite", "--no-progress"],
                                    setup=_edit_listed, says="edited"),
    "05-empty-key-variable": Case(["from-csv", "in.csv", "--out", "o", "--no-progress"], env={KEY_ENV: ""}),
    "06-verify-a-symlink-to-root": Case(["verify", "ds"], status=1, setup=_symlink_in_dataset),
    "07-mapping-inside-another-data-set": Case(["from-csv", "in.csv", "--out", "o", "--pseudonymise", "k",
                                                "--mapping-out", "ds/map.csv", "--no-progress"]),
    "08-mapping-checked-before-publishing": Case(["from-csv", "in.csv", "--out", "o", "--pseudonymise", "k",
                                                  "--mapping-out", "ds", "--overwrite", "--no-progress"]),
    "09-fifo-csv": Case(["from-csv", "pipe.csv", "--out", "o", "--no-progress"], setup=_fifo("pipe.csv")),
    "09-fifo-register-csv": Case(["from-csv", "in.csv", "--register-csv", "pipe.csv", "--out", "o",
                                  "--no-progress"], setup=_fifo("pipe.csv")),
    "09-fifo-scenario": Case(["generate", "pipe.yaml", "--out", "o", "--no-progress"], setup=_fifo("pipe.yaml")),
    "12-verify-a-huge-manifest": Case(["verify", "ds"], status=1, setup=_manifest_link),
    "12-validate-a-huge-spec": Case(["validate", "input.json", "--spec", "big"], setup=_sparse("big", 2 * 10**9)),
    "13-run-a-huge-parameter": Case(["run", "generate_dataset", "-f", "params.yaml", "--out", "ev"],
                                    setup=_big_parameters),
    "14-validate-to-a-full-stdout": Case(["validate", "input.json"], stdout="/dev/full"),
    "14-verify-to-a-full-stdout": Case(["verify", "ds"], stdout="/dev/full"),
    "15-demo-out-root": Case(["demo", "--out", "/", "--no-progress"]),
    "15-from-csv-out-root": Case(["from-csv", "in.csv", "--out", "/", "--no-progress"]),
    "15-negative-out-root": Case(["negative", "ds", "--out", "/"]),
    "17-run-nested-yaml": Case(["run", "generate_dataset", "-p", "meters", "[" * 10_000 + "]" * 10_000,
                                "--out", "ev"]),
    "17-run-not-a-notebook": Case(["run", "/etc/passwd", "--out", "ev"]),
    "17-run-a-very-long-out": Case(["run", "generate_dataset", "-p", "out", "o" * 120_000, "--out", "ev"]),
    "18-a-row-longer-than-a-block": Case(["from-csv", "long.csv", "--out", "o", "--no-progress"], setup=_long_row),
    "19-csv-from-a-pipe": Case(["from-csv", "/dev/stdin", "--out", "o", "--no-progress"], also=(0,),
                               stdin=b"mpan,timestamp,kwh\n" + b"".join(
                                   f"{MPAN},2025-01-06T{h:02d}:{m:02d}:00+00:00,0.25\n".encode()
                                   for h in range(24) for m in (0, 30))[24:], expected_new=("o",)),
    "21-html-to-a-device": Case(["validate", "input.json", "--html", "/dev/full"]),
    "22-key-not-utf8": Case(["from-csv", "in.csv", "--out", "o", "--no-progress"], env={KEY_ENV: "\udcff"}),
    "23-a-file-name-with-a-newline": Case(["from-csv", "bad\nname.csv", "--out", "o", "--no-progress"],
                                          setup=_newline_name, says="\\n"),
    "23-a-header-of-two-million-columns": Case(["from-csv", "wide.csv", "--out", "o", "--no-progress"],
                                               setup=_wide_header),
    "24-spec-from-a-device": Case(["validate", "input.json", "--spec", "/dev/zero"]),
    "24-spec-from-a-fifo": Case(["validate", "input.json", "--spec", "spec.fifo"], setup=_fifo("spec.fifo")),
}


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under ``root`` (hidden ones too, links not followed), with a file's sha256."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 10**8:
            out[rel] = "entry"
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_nothing_is_lost_nothing_hangs_no_traceback(name: str, source: Path, tmp_path: Path) -> None:
    case = CASES[name]
    work = tmp_path / "work"
    shutil.copytree(source, work, symlinks=True)
    if case.setup is not None:
        case.setup(work)
    before = snapshot(work)
    env = {k: v for k, v in os.environ.items() if k != KEY_ENV} | case.env
    env = {k.encode(): v.encode("utf-8", "surrogateescape") for k, v in env.items()}
    stdout = open(case.stdout, "w") if case.stdout else subprocess.PIPE  # noqa: SIM115
    piped = {"input": case.stdin} if case.stdin is not None else {"stdin": subprocess.DEVNULL}
    try:
        done = subprocess.run([sys.executable, "-m", "mhhs_workbench.cli", *case.args], cwd=work, env=env,
                              stdout=stdout, stderr=subprocess.PIPE, timeout=CASE_SECONDS, check=False,
                              **piped)
    finally:
        if case.stdout:
            stdout.close()
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode in (case.status, *case.also), stderr[-2000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    if done.returncode == 2:
        errors = [line for line in stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, stderr[-2000:]
        assert case.says in stderr, stderr[-2000:]
    after = snapshot(work)
    assert {k: v for k, v in after.items() if k in before} == before, "an input changed"
    new = {k for k in set(after) - set(before) if k.split("/")[0] not in case.expected_new or done.returncode}
    assert sorted(new) == [], "a refused command left files"
