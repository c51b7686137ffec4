"""Outputs that cannot be written: a full standard output or error, a closed pipe, a full disk.

Each case is real (``/dev/full`` as the stream, a pipe whose reader has gone, a small tmpfs
filled to the last page) and asserts the exit status, the one ``error:`` line on standard
error, no traceback, and that nothing is left behind: no lock, no staging folder, no partial
report.
"""

from __future__ import annotations

import datetime as dt
import errno
import gc
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mhhs_workbench.cli import main
from mhhs_workbench.dataset import generate_dataset
from mhhs_workbench.publish.manifest import verify
from mhhs_workbench.scenario import MeterMix, Scenario

CLI = [sys.executable, "-m", "mhhs_workbench.cli"]
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NO_SPACE = "No space left on device"


# ---------------------------------------------------------------------- helpers


def tiny(seed: int = 1) -> Scenario:
    """Two meters over two days."""
    start = dt.date(2025, 3, 3)
    return Scenario(name="tiny", seed=seed, start_date=start, end_date=start + dt.timedelta(days=1),
                    meters=MeterMix(count=2), events=[])


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """A tiny published data set (not to be changed: copy it first)."""
    out = tmp_path_factory.mktemp("tiny") / "data"
    generate_dataset(tiny(), out, progress=False)
    return out


def run(*args: Any, stdout: Any = subprocess.PIPE, stderr: Any = subprocess.PIPE,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``mhhs-workbench ARGS`` in a fresh interpreter, with the given streams."""
    return subprocess.run([*CLI, *map(str, args)], stdout=stdout, stderr=stderr, text=True, cwd=cwd,
                          timeout=300)


def full_stdout(*args: Any, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run with standard output on ``/dev/full`` (every write fails with ENOSPC)."""
    with open("/dev/full", "w") as full:
        return run(*args, stdout=full, cwd=cwd)


def last_error_line(stderr: str) -> str:
    """The one ``error:`` line, which is the last line; fails on a traceback or several errors."""
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    assert stderr.splitlines()[-1] == errors[0], stderr
    return errors[0]


def hidden(folder: Path) -> list[str]:
    """Hidden entries (locks, staging folders, temporary files) in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture
def tmpfs(tmp_path) -> Iterator[Callable[[str], Path]]:
    """Mount a small tmpfs, to get a real full file system; skips where mounting is not permitted."""
    mounts: list[Path] = []

    def mount(size: str) -> Path:
        folder = tmp_path / f"mnt{len(mounts)}"
        folder.mkdir()
        try:
            done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                                  capture_output=True, text=True)
        except FileNotFoundError:
            pytest.skip("no mount command to mount a small tmpfs with")
        if done.returncode != 0:
            reason = f"mounting a small tmpfs is not permitted here: {done.stderr.strip()}"
            print(reason)
            pytest.skip(reason)
        mounts.append(folder)
        return folder

    yield mount
    gc.collect()  # files a failed in-process run left open keep a mount busy until collected
    busy = []
    for folder in mounts:
        if subprocess.run(["umount", str(folder)]).returncode != 0:
            subprocess.run(["umount", "--lazy", str(folder)], check=True)  # never leak a mount
            busy.append(folder)
    assert not busy, f"files were left open on {busy}"


def fill(folder: Path, leave: int = 0) -> None:
    """Fill the file system of ``folder`` with ``filler`` until at most ``leave`` bytes are free."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        block = b"\0" * 4096
        while True:
            free = shutil.disk_usage(folder).free - leave
            if free <= 0:
                break
            try:
                os.write(fd, block[: min(len(block), free)])
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                break
    finally:
        os.close(fd)


# ---------------------------------------------------------------------- a full standard output


def test_validate_with_full_stdout_gives_one_error_line(dataset):
    done = full_stdout("validate", dataset / "messages")
    assert done.returncode == 2, done.stderr
    assert last_error_line(done.stderr) == f"error: cannot write the output to stdout: {NO_SPACE}"


@pytest.mark.slow
def test_verify_with_full_stdout_gives_one_error_line(dataset):
    done = full_stdout("verify", dataset)
    assert done.returncode == 2, done.stderr
    assert last_error_line(done.stderr) == f"error: cannot write the output to stdout: {NO_SPACE}"


@pytest.mark.slow
def test_help_with_full_stdout_gives_one_error_line():
    done = full_stdout("--help")
    assert done.returncode == 2, done.stderr
    assert last_error_line(done.stderr) == f"error: cannot write the output to stdout: {NO_SPACE}"


@pytest.mark.slow
def test_from_csv_with_full_stdout_says_the_data_set_was_published(tmp_path):
    out = tmp_path / "data"
    done = full_stdout("from-csv", EXAMPLES / "consumption_wide.csv", "--out", out, "--no-progress")
    assert done.returncode == 2, done.stderr
    assert last_error_line(done.stderr) == (f"error: published {out}; but cannot write the output to "
                                            f"stdout: {NO_SPACE}")
    assert verify(out) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # no lock, no staging folder


@pytest.mark.slow
def test_full_stderr_ends_with_status_2(dataset, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(dataset, copy)
    (copy / "extra.txt").write_text("not in the manifest\n")
    with open("/dev/full", "w") as full:
        done = run("verify", copy, stderr=full)
    assert done.returncode == 2  # not 1: its error line could not be written
    assert done.stdout.splitlines() == ["FAIL extra.txt: not in the manifest"]


# ---------------------------------------------------------------------- a closed pipe


def test_closed_pipe_ends_quietly_with_status_141(dataset, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(dataset, copy)
    (copy / "extra").mkdir()
    for k in range(3000):  # ~300 kB of FAIL lines: far more than a pipe holds
        (copy / "extra" / f"{k:05d}-{'x' * 60}.txt").touch()
    proc = subprocess.Popen([*CLI, "verify", str(copy)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        first = proc.stdout.readline()  # as `| head -1` does
        proc.stdout.close()
        err = proc.stderr.read()
        status = proc.wait(timeout=300)
    finally:
        proc.kill() if proc.poll() is None else None
    assert first.startswith("FAIL extra/")
    assert status == 141, err
    assert err == ""  # quiet: no error line, no traceback


# ---------------------------------------------------------------------- a full disk


@pytest.mark.slow
def test_report_on_a_full_disk_names_the_report_and_leaves_nothing(dataset, tmpfs):
    small = tmpfs("64k")
    fill(small)
    for option in ("--html", "--junit"):
        report = small / "report.out"
        done = run("validate", dataset / "messages", option, report)
        assert done.returncode == 2, done.stderr
        assert last_error_line(done.stderr) == f"error: cannot write the report {report}: {NO_SPACE}"
        assert sorted(p.name for p in small.iterdir()) == ["filler"]  # no partial or temporary file


@pytest.mark.slow
def test_publication_on_a_completely_full_disk_names_the_lock_and_leaves_nothing(tmpfs, tmp_path):
    small = tmpfs("64k")
    fill(small)
    yaml_file = tmp_path / "s.yaml"
    yaml_file.write_text(tiny().to_yaml())
    done = run("generate", yaml_file, "--out", small / "out", "--allow-large", "--no-progress")
    assert done.returncode == 2, done.stderr
    line = last_error_line(done.stderr)
    assert line.startswith(f"error: cannot write the lock file {small / '.out.lock'}: {NO_SPACE}"), line
    assert sorted(p.name for p in small.iterdir()) == ["filler"]  # no .out.lock, no staging folder


@pytest.mark.slow
def test_publication_on_a_nearly_full_disk_names_the_staging_folder_and_leaves_nothing(tmpfs, tmp_path):
    small = tmpfs("1m")
    fill(small, leave=16 * 1024)
    yaml_file = tmp_path / "s.yaml"
    yaml_file.write_text(tiny().to_yaml())
    done = run("generate", yaml_file, "--out", small / "out", "--allow-large", "--no-progress")
    assert done.returncode == 2, done.stderr
    line = last_error_line(done.stderr)
    assert line.startswith(f"error: cannot write the data set {small / 'out'}: "), line
    assert NO_SPACE in line and f"{small}/.out.partial-" in line, line  # where it failed
    assert line.endswith("nothing was published and the partial data set was removed"), line
    assert sorted(p.name for p in small.iterdir()) == ["filler"]


def test_manifest_that_does_not_fit_names_it_and_leaves_nothing(tmp_path, monkeypatch):
    def no_space(root: Path, *args: Any, **kwargs: Any) -> Path:
        (root / ".manifest.json.tmp").write_bytes(b"{")  # begun, as a real write would
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # a failed write() names no file

    monkeypatch.setattr("mhhs_workbench.publish.publication.write_manifest", no_space)
    yaml_file = tmp_path / "s.yaml"
    yaml_file.write_text(tiny().to_yaml())
    result = CliRunner().invoke(main, ["generate", str(yaml_file), "--out", str(tmp_path / "out"),
                                       "--no-progress"])
    assert result.exit_code == 2, result.output
    line = last_error_line(result.output)
    assert f"{tmp_path}/.out.partial-" in line and "/manifest.json)" in line, line
    assert NO_SPACE in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]  # no .out.lock, no staging folder
