"""Inputs that are not ordinary CSV files end at once with one precise line each, never hang.

FIFOs (inputs, ``--register-csv`` and scenario files), pipes, a row longer than the read block, a
file name holding a line break and an absurdly wide header: each is refused with exit status 2, the
exact kind of line, no traceback and no output folder. Every run is a real command line in its own
interpreter with a timeout, so that a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mhhs_workbench.csv_input.files import (
    BLOCK_BYTES,
    MAX_COLUMNS,
    MAX_HEADER_BYTES,
    MAX_REGISTER_BYTES,
)

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs and pipes")

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "mhhs_workbench.cli"]
MPAN = "2000056535971"
SUMMARY = "error: 1 problem in the input; nothing was converted"
FIFO_WORDS = "is a FIFO (named pipe), not a regular file: not opened"


def cli(*args: object, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``mhhs-workbench ARGS``; 30 s at most, so that a blocked read fails the test."""
    run = subprocess.run([*CLI, *map(str, args)], input=stdin, capture_output=True, cwd=cwd, timeout=30,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    return subprocess.CompletedProcess(run.args, run.returncode, run.stdout.decode(),
                                       run.stderr.decode("utf-8", "replace"))


def refused(run: subprocess.CompletedProcess[str], folder: Path) -> list[str]:
    """The stderr lines of a refusal, after checking what every refusal shares."""
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr and "Aborted" not in run.stderr
    assert not (folder / "out").exists()
    return run.stderr.splitlines()


def rows(count: int) -> str:
    """``count`` valid long-layout rows of one MPAN, one half hour after another."""
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    return "".join(f"{MPAN},{(start + dt.timedelta(minutes=30 * (k + 1))).isoformat()},0.125\n"
                   for k in range(count))


@pytest.fixture
def good(tmp_path: Path) -> Path:
    """A valid consumption CSV."""
    path = tmp_path / "good.csv"
    path.write_text("mpan,timestamp,kwh\n" + rows(96))
    return path


def test_a_fifo_input_is_refused_without_opening_it(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "in.csv")  # no writer: opening it would block forever
    lines = refused(cli("from-csv", "in.csv", "--out", "out", "--no-progress", cwd=tmp_path), tmp_path)
    assert len(lines) == 2 and lines[0].startswith(f"in.csv: {FIFO_WORDS}") and lines[1] == SUMMARY


@pytest.mark.slow
def test_a_fifo_register_csv_is_refused(tmp_path: Path, good: Path) -> None:
    os.mkfifo(tmp_path / "registers.csv")
    lines = refused(cli("from-csv", good.name, "--register-csv", "registers.csv", "--out", "out",
                        "--no-progress", cwd=tmp_path), tmp_path)
    assert len(lines) == 2 and lines[0].startswith(f"registers.csv: {FIFO_WORDS}") and lines[1] == SUMMARY


@pytest.mark.slow
@pytest.mark.parametrize("command", [("generate", "scenario.yaml"),
                                     ("from-csv", "good.csv", "--scenario", "scenario.yaml")])
def test_a_fifo_scenario_is_refused(command: tuple[str, ...], tmp_path: Path, good: Path) -> None:
    os.mkfifo(tmp_path / "scenario.yaml")
    lines = refused(cli(*command, "--out", "out", "--no-progress", cwd=tmp_path), tmp_path)
    assert len(lines) == 1 and lines[0].startswith(f"error: scenario.yaml: {FIFO_WORDS}")


def test_a_pipe_is_refused_in_one_line(tmp_path: Path, good: Path) -> None:
    run = cli("from-csv", "/dev/stdin", "--out", "out", "--no-progress", cwd=tmp_path, stdin=good.read_bytes())
    lines = refused(run, tmp_path)
    assert len(lines) == 2 and lines[1] == SUMMARY
    assert lines[0].startswith("/dev/stdin: is a pipe (such as <(...) or /dev/stdin), not a regular file: "
                               "not accepted"), lines


@pytest.mark.slow
def test_a_scenario_from_a_pipe_is_still_read(tmp_path: Path) -> None:
    # an anonymous pipe has its writer: read (up to 1 MB), so its own problem is what is reported
    lines = refused(cli("generate", "/dev/stdin", "--out", "out", cwd=tmp_path, stdin=b"seed: [1]\n"), tmp_path)
    assert len(lines) == 1 and lines[0].startswith("error: /dev/stdin") and "seed" in lines[0], lines


# over two blocks long: a row longer than one block fails once it spans a whole block
@pytest.mark.slow
@pytest.mark.parametrize("before", [3, 3 * BLOCK_BYTES // 50])  # in the first block, and blocks later
def test_a_row_longer_than_the_block_is_one_problem_at_its_line(before: int, tmp_path: Path) -> None:
    with (tmp_path / "big.csv").open("w") as fh:
        fh.write("mpan,timestamp,kwh\n" + rows(before))
        fh.write(f"{MPAN},2040-01-01T00:30:00+00:00,{'1' * (2 * BLOCK_BYTES + 1000)}\n")
        fh.write(rows(2))
    lines = refused(cli("from-csv", "big.csv", "--out", "out", "--no-progress", cwd=tmp_path), tmp_path)
    assert len(lines) == 2 and lines[1] == SUMMARY, lines
    assert lines[0].startswith(f"big.csv:{before + 2}: row: '{MPAN},2040-01-01T00:30:00+00:00,111")
    assert lines[0].endswith(f"a row longer than the read block of {BLOCK_BYTES:,} bytes (2 MiB) cannot be "
                             "read; is a quote left open?")


def test_file_names_with_a_line_break_are_escaped(tmp_path: Path) -> None:
    (tmp_path / "jan\nfeb.csv").write_text("mpan,timestamp,kwh\n")
    lines = refused(cli("from-csv", "jan\nfeb.csv", "--out", "out", "--no-progress", cwd=tmp_path), tmp_path)
    assert lines == ["'jan\\nfeb.csv':2: row: '': no data rows after the header", SUMMARY]


@pytest.mark.slow
def test_a_fifo_named_with_a_line_break_is_escaped_too(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "a\rb.csv")
    lines = refused(cli("from-csv", "a\rb.csv", "--out", "out", "--no-progress", cwd=tmp_path), tmp_path)
    assert len(lines) == 2 and lines[0].startswith(f"'a\\rb.csv': {FIFO_WORDS}")


def test_a_header_of_ten_million_columns_is_one_problem(tmp_path: Path) -> None:
    (tmp_path / "wide.csv").write_bytes(b"a," * 10_000_000 + b"a\n" + rows(2).encode())
    lines = refused(cli("from-csv", "wide.csv", "--out", "out", "--no-progress", cwd=tmp_path), tmp_path)
    assert len(lines) == 2 and lines[1] == SUMMARY
    assert lines[0].startswith("wide.csv:1: header: 'a,a,a,")
    assert lines[0].endswith(f": the header line is longer than {MAX_HEADER_BYTES:,} bytes, the longest read "
                             "(a valid header is under 1,000): is this a consumption CSV?")


@pytest.mark.slow
def test_a_header_with_too_many_columns_is_one_problem(tmp_path: Path) -> None:
    header = ",".join(f"c{k}" for k in range(MAX_COLUMNS + 1))
    (tmp_path / "wide.csv").write_text(header + "\n" + rows(2))
    lines = refused(cli("from-csv", "wide.csv", "--out", "out", "--no-progress", cwd=tmp_path), tmp_path)
    assert len(lines) == 2 and lines[1] == SUMMARY
    assert lines[0].startswith("wide.csv:1: header: 'c0,c1,c2,")
    assert lines[0].endswith(f": {MAX_COLUMNS + 1:,} columns, more than the {MAX_COLUMNS:,} a header may "
                             "have (a valid one has at most 66): is this a consumption CSV?")


def test_a_register_file_over_its_limit_is_refused_unread(tmp_path: Path, good: Path) -> None:
    register = tmp_path / "register.csv"
    with open(register, "wb") as f:
        f.truncate(MAX_REGISTER_BYTES + 1)  # sparse: refused by its size, never read
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "mhhs_workbench.cli", "from-csv", str(good), "--register-csv",
                           str(register), "--out", str(out), "--no-progress"],
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"over the {MAX_REGISTER_BYTES:,} bytes this file may have" in done.stderr
    assert not out.exists()
