"""Publication never loses data: crashes at every step, concurrent runs, overwrite rules, errors.

Each test asserts the exit status, a single ``error:`` line without a traceback, and that nothing
that existed before the run was lost. Crashes are real (SIGKILL of a child process at each step)
or injected (the step's ``os.rename`` / ``os.replace`` / ``os.unlink`` / ``shutil.rmtree`` raises).
"""

from __future__ import annotations

import datetime as dt
import errno
import gc
import hashlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from mhhs_workbench.cli import main
from mhhs_workbench.dataset import generate_dataset
from mhhs_workbench.publish.manifest import PublicationError, verify
from mhhs_workbench.publish.publication import Publication
from mhhs_workbench.scenario import MeterMix, Scenario

CLI = [sys.executable, "-m", "mhhs_workbench.cli"]
IS_ROOT = os.geteuid() == 0


# ---------------------------------------------------------------------- helpers


def tiny(seed: int = 1, meters: int = 2, days: int = 2, **changes: Any) -> Scenario:
    """A small scenario; ``seed`` tells data sets apart."""
    start = dt.date(2025, 3, 3)
    return Scenario(name="tiny", seed=seed, start_date=start, end_date=start + dt.timedelta(days=days - 1),
                    meters=MeterMix(count=meters), events=[], **changes)


def scenario_file(folder: Path, name: str, scenario: Scenario) -> Path:
    path = folder / name
    path.write_text(scenario.to_yaml())
    return path


def manifest_id(folder: Path) -> str:
    """Identity of a data set: the sha256 of its manifest."""
    return hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()


def complete_sets(base: Path) -> dict[str, Path]:
    """Complete data sets (manifest present, verifies) directly under ``base``, hidden ones too."""
    found = {}
    for path in sorted(base.iterdir()):
        if path.is_dir() and not path.is_symlink() and (path / "manifest.json").is_file() and verify(path) == []:
            found[manifest_id(path)] = path
    return found


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` with the sha256 of its bytes."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def one_error_line(text: str) -> str:
    """The single ``error:`` line of a run's output; fails on a traceback or several errors."""
    assert "Traceback" not in text, text
    lines = [line for line in text.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, text
    return lines[0]


def invoke(*args: Any) -> Result:
    """Run the CLI in this process; an exception other than the exit is a test failure."""
    result = CliRunner().invoke(main, [*map(str, args), "--no-progress"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def wait_for(condition: Callable[[], Any], proc: subprocess.Popen, what: str, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while not condition():
        assert proc.poll() is None, f"the run ended before {what}: {proc.communicate()}"
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def hidden(base: Path, name: str) -> list[str]:
    return sorted(p.name for p in base.iterdir() if p.name.startswith(f".{name}."))


class Faults:
    """Counts the file-system steps of a publication and fails, or kills the process, at step ``k``.

    Steps are the top-level calls of ``os.rename``, ``os.replace``, ``os.unlink`` and
    ``shutil.rmtree`` from the moment ``Publication.publish`` is called to the end of the run
    (calls inside ``rmtree`` are part of it). ``persistent`` fails every step from ``k`` on, as a
    broken file system would; a failing ``rmtree(..., ignore_errors=True)`` deletes nothing.
    """

    OPERATIONS = ((os, "rename"), (os, "replace"), (os, "unlink"), (shutil, "rmtree"))

    def __init__(self, k: int, *, kill: bool = False, persistent: bool = False) -> None:
        self.k = k
        self.kill = kill
        self.persistent = persistent
        self.calls: list[str] = []
        self.active = False
        self._depth = 0

    def install(self, set_attribute: Callable[[Any, str, Any], None]) -> None:
        for module, name in self.OPERATIONS:
            set_attribute(module, name, self._wrap(getattr(module, name), name))
        real_publish = Publication.publish

        def publish(pub: Publication, *args: Any, **kwargs: Any) -> dict[str, Any]:
            self.active = True
            return real_publish(pub, *args, **kwargs)

        set_attribute(Publication, "publish", publish)

    def _wrap(self, real: Callable[..., Any], name: str) -> Callable[..., Any]:
        def step(*args: Any, **kwargs: Any) -> Any:
            if not self.active or self._depth:
                return real(*args, **kwargs)
            self.calls.append(f"{name} {Path(args[0]).name}")
            n = len(self.calls)
            if n == self.k or (self.persistent and n > self.k):
                if self.kill:
                    os.kill(os.getpid(), signal.SIGKILL)
                if name == "rmtree" and kwargs.get("ignore_errors"):
                    return None
                raise OSError(errno.EIO, "injected fault", str(args[0]))
            self._depth += 1
            try:
                return real(*args, **kwargs)
            finally:
                self._depth -= 1

        return step


#: A child that runs the CLI with :class:`Faults` killing it at step argv[1].
CHILD = f"""
import importlib.util, sys
spec = importlib.util.spec_from_file_location("faults_source", {str(Path(__file__))!r})
source = importlib.util.module_from_spec(spec)
spec.loader.exec_module(source)
source.Faults(int(sys.argv[1]), kill=True).install(setattr)
from mhhs_workbench.cli import main
main(sys.argv[2:])
"""


@pytest.fixture(scope="module")
def old_and_new(tmp_path_factory) -> tuple[Path, Path, str, str]:
    """A published old data set to copy, the new scenario's file, and both data sets' identities."""
    base = tmp_path_factory.mktemp("templates")
    generate_dataset(tiny(seed=1), base / "old", progress=False)
    new_yaml = scenario_file(base, "new.yaml", tiny(seed=2))
    generate_dataset(tiny(seed=2), base / "new", progress=False)
    return base / "old", new_yaml, manifest_id(base / "old"), manifest_id(base / "new")


def _check_crash_and_rerun(base: Path, out: Path, new_yaml: Path, old: str, new: str, overwrite: bool,
                           output: str, where: str) -> None:
    """After a crash: old or new at --out, or the old one recoverable; a rerun loses nothing."""
    after = complete_sets(base)
    at_out = manifest_id(out) if out.is_dir() and verify(out) == [] else None
    if at_out is None:
        assert not out.exists(), where
        if overwrite:  # only between the two renames of a replacement: the old one, complete, hidden
            assert old in after, f"{where}: the old data set was lost"
            if output:
                assert f"mv {shlex.quote(str(after[old]))} {shlex.quote(str(out))}" in output, where
    else:
        assert at_out in ({old, new} if overwrite else {new}), where
    if overwrite and at_out != new:
        assert old in after, f"{where}: the old data set was lost"

    # the next run, without --overwrite: recovers, refuses to replace, deletes no complete data set
    again = invoke("generate", new_yaml, "--out", out)
    if again.exit_code == 0:  # fine only where nothing complete was left to find
        assert at_out is None and not after, f"{where}: {again.output}"
    else:
        assert again.exit_code == 2, f"{where}: {again.output}"
        assert "already exists" in one_error_line(again.output), where
    assert verify(out) == [] and manifest_id(out) in {old, new}, where
    assert set(after) <= set(complete_sets(base)), f"{where}: a complete data set was deleted"
    kept = [p for p in base.iterdir() if p.name.startswith(f".{out.name}.")]
    assert all((p / "manifest.json").is_file() for p in kept), f"{where}: {kept}"  # no junk, no lock
    for path in kept:
        command = re.search(rf"mv {re.escape(shlex.quote(str(path)))} (\S+)", again.output)
        assert command, f"{where}: {path.name} kept without a warning naming it: {again.output}"
        # the documented recovery works
        recovered = Path(shlex.split(command.group(1))[0])
        subprocess.run(["mv", str(path), str(recovered)], check=True)
        assert verify(recovered) == [] and manifest_id(recovered) in {old, new}, where


# ---------------------------------------------------------------------- crash points


def _steps(old_dir: Path, new_yaml: Path, base: Path, overwrite: bool, monkeypatch) -> list[str]:
    """The steps a clean publication makes (a dry run with no fault)."""
    out = base / "out"
    if overwrite:
        shutil.copytree(old_dir, out)
    faults = Faults(0)
    with monkeypatch.context() as patch:
        faults.install(patch.setattr)
        result = invoke("generate", new_yaml, "--out", out, *(["--overwrite"] if overwrite else []))
    assert result.exit_code == 0, result.output
    return faults.calls


@pytest.mark.slow
@pytest.mark.parametrize("overwrite", [True, False], ids=["overwrite", "new"])
def test_sigkill_at_every_publication_step_loses_nothing(overwrite, old_and_new, tmp_path, monkeypatch):
    old_dir, new_yaml, old, new = old_and_new
    steps = _steps(old_dir, new_yaml, tmp_path / "dry", overwrite, monkeypatch)
    if overwrite:
        assert [s.split()[0] for s in steps].count("rename") == 2, steps  # the window under test
    for k in range(1, len(steps) + 1):
        base = tmp_path / f"k{k}"
        base.mkdir()
        out = base / "out"
        if overwrite:
            shutil.copytree(old_dir, out)
        args = ["generate", str(new_yaml), "--out", str(out), "--no-progress", *(["--overwrite"] if overwrite else [])]
        child = subprocess.run([sys.executable, "-c", CHILD, str(k), *args], capture_output=True, text=True)
        where = f"killed before step {k} ({steps[k - 1]})"
        assert child.returncode == -signal.SIGKILL, f"{where}: {child.stderr}"
        _check_crash_and_rerun(base, out, new_yaml, old, new, overwrite, "", where)


@pytest.mark.slow
@pytest.mark.parametrize("persistent", [False, True], ids=["step-fails", "all-fail-from-step"])
def test_failure_at_every_publication_step_loses_nothing(persistent, old_and_new, tmp_path, monkeypatch):
    old_dir, new_yaml, old, new = old_and_new
    steps = _steps(old_dir, new_yaml, tmp_path / "dry", True, monkeypatch)
    for k in range(1, len(steps) + 1):
        base = tmp_path / f"k{k}"
        base.mkdir()
        out = base / "out"
        shutil.copytree(old_dir, out)
        faults = Faults(k, persistent=persistent)
        with monkeypatch.context() as patch:
            faults.install(patch.setattr)
            result = invoke("generate", new_yaml, "--out", out, "--overwrite")
        where = f"{steps[k - 1]} failed (step {k})"
        published = out.is_dir() and verify(out) == [] and manifest_id(out) == new
        if published:
            assert result.exit_code == 0, f"{where}: {result.output}"
        else:
            assert result.exit_code == 2, f"{where}: {result.output}"
            assert "injected fault" in one_error_line(result.output), where
        _check_crash_and_rerun(base, out, new_yaml, old, new, True, result.output, where)


# ---------------------------------------------------------------------- concurrency and races


@pytest.mark.slow
def test_second_run_into_a_locked_target_fails_and_the_first_wins(tmp_path):
    a = scenario_file(tmp_path, "a.yaml", tiny(seed=1, meters=800, days=14))
    b = scenario_file(tmp_path, "b.yaml", tiny(seed=2, meters=800, days=14))
    (tmp_path / "keep.txt").write_text("mine")
    out = tmp_path / "out"
    args = ["--out", str(out), "--no-progress", "--chunk-size", "50"]
    first = subprocess.Popen([*CLI, "generate", str(a), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    wait_for(lambda: hidden(tmp_path, "out"), first, "the first run took the lock")
    second = subprocess.run([*CLI, "generate", str(b), *args], capture_output=True, text=True)
    first_was_running = first.poll() is None
    _, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_err
    assert second.returncode == 2
    line = one_error_line(second.stderr)
    if first_was_running:
        assert f"another run (PID {first.pid}) is publishing {out}" in line
    else:
        assert "already exists" in line
    assert verify(out) == [] and orjson.loads((out / "manifest.json").read_bytes())["seed"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "b.yaml", "keep.txt", "out"]
    assert (tmp_path / "keep.txt").read_text() == "mine"


@pytest.mark.slow
def test_two_runs_started_together_exactly_one_succeeds(tmp_path):
    out = tmp_path / "out"
    procs = []
    for seed in (1, 2):
        yaml_file = scenario_file(tmp_path, f"{seed}.yaml", tiny(seed=seed, meters=300, days=7))
        procs.append(subprocess.Popen([*CLI, "generate", str(yaml_file), "--out", str(out), "--no-progress"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = [(p.wait(timeout=300), p.communicate()[1]) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    loser = next(err for code, err in results if code == 2)
    # the PID is named once the first run has written it into the lock file (a moment after taking it)
    assert re.search(r"another run( \(PID \d+\))? is publishing|already exists", one_error_line(loser))
    winner_seed = 1 + [code for code, _ in results].index(0)
    assert verify(out) == [] and orjson.loads((out / "manifest.json").read_bytes())["seed"] == winner_seed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.yaml", "2.yaml", "out"]


@pytest.mark.slow
def test_folder_made_at_out_during_a_run_is_left_alone(tmp_path):
    big = scenario_file(tmp_path, "big.yaml", tiny(meters=800, days=14))
    race = tmp_path / "race"
    proc = subprocess.Popen([*CLI, "generate", str(big), "--out", str(race), "--no-progress", "--chunk-size", "50"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: list(tmp_path.glob(".race.partial-*")), proc, "the run started writing")
    race.mkdir()
    (race / "thesis.txt").write_text("precious")
    assert proc.poll() is None, "the run finished before the folder was made"
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2
    assert "was created or changed while the data set was being generated" in one_error_line(err)
    assert (race / "thesis.txt").read_text() == "precious"
    assert sorted(p.name for p in race.iterdir()) == ["thesis.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.yaml", "race"]  # no staging, no lock


def test_empty_folder_made_at_out_during_a_run_is_replaced_but_a_file_in_it_is_not(tmp_path):
    out = tmp_path / "out"
    with Publication(out) as pub:
        (pub.staging / "a.txt").write_text("data")
        out.mkdir()  # empty: nothing can be lost by replacing it
        pub.publish({})
    assert verify(out) == [] and (out / "a.txt").read_text() == "data"
    other = tmp_path / "other"
    with pytest.raises(PublicationError, match="created or changed while"), Publication(other) as pub:
        (pub.staging / "a.txt").write_text("data")
        other.mkdir()
        (other / "mine.txt").write_text("mine")
        pub.publish({})
    assert tree(other) == {"mine.txt": hashlib.sha256(b"mine").hexdigest()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other", "out"]


# ---------------------------------------------------------------------- overwrite rules


def test_overwrite_refuses_a_data_set_holding_files_not_in_its_manifest(old_and_new, tmp_path):
    old_dir, new_yaml, old, new = old_and_new
    out = tmp_path / "out"
    shutil.copytree(old_dir, out)
    (out / "notes.txt").write_text("my notes")
    (out / "tables" / "extra.csv").write_text("a,b\n")
    before = tree(out)
    refused = invoke("generate", new_yaml, "--out", out, "--overwrite")
    assert refused.exit_code == 2
    line = one_error_line(refused.output)
    assert "2 file(s) not in its manifest (notes.txt, tables/extra.csv)" in line
    assert "--overwrite-extra-files" in line
    assert tree(out) == before
    # a file added while the new data set is generated is caught again right before replacing
    (out / "notes.txt").unlink()
    (out / "tables" / "extra.csv").unlink()
    with pytest.raises(PublicationError, match="late.txt"), Publication(out, overwrite=True) as pub:
        (pub.staging / "x.txt").write_text("new")
        (out / "late.txt").write_text("written meanwhile")
        pub.publish({})
    assert (out / "late.txt").read_text() == "written meanwhile" and manifest_id(out) == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    # the stronger flag replaces the data set, extra files included
    forced = invoke("generate", new_yaml, "--out", out, "--overwrite-extra-files")
    assert forced.exit_code == 0, forced.output
    assert verify(out) == [] and manifest_id(out) == new
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# ---------------------------------------------------------------------- signals


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_mid_run_removes_the_staging_folder_and_keeps_the_old_data_set(signum, old_and_new, tmp_path):
    old_dir, _, old, _ = old_and_new
    out = tmp_path / "out"
    shutil.copytree(old_dir, out)
    before = tree(out)
    big = scenario_file(tmp_path, "big.yaml", tiny(meters=800, days=14))
    proc = subprocess.Popen([*CLI, "generate", str(big), "--out", str(out), "--overwrite", "--no-progress",
                             "--chunk-size", "50"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: list(tmp_path.glob(".out.partial-*/messages/IF-041/*.json")), proc, "messages were written")
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, err
    line = one_error_line(err)
    assert f"interrupted by {signal.Signals(signum).name}; nothing was published" in line
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.yaml", "out"]


# ---------------------------------------------------------------------- one error line, nothing left


@pytest.fixture
def mounted(tmp_path) -> Iterator[Callable[[str], Path]]:
    """Mount a small tmpfs (root), to get a real full or read-only file system."""
    mounts: list[Path] = []

    def mount(options: str) -> Path:
        if not IS_ROOT:
            pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
        folder = tmp_path / f"mnt{len(mounts)}"
        folder.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], check=True)
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


@pytest.mark.slow
def test_disk_full_gives_one_error_line_and_leaves_nothing(mounted, tmp_path):
    small = mounted("size=1m")
    yaml_file = scenario_file(tmp_path, "s.yaml", tiny(meters=100, days=7))
    refused = invoke("generate", yaml_file, "--out", small / "out")
    assert refused.exit_code == 2
    assert "has only" in one_error_line(refused.output) and "free" in refused.output  # the size guard
    full = subprocess.run([*CLI, "generate", str(yaml_file), "--out", str(small / "out"), "--allow-large",
                           "--no-progress"], capture_output=True, text=True)
    assert full.returncode == 2
    line = one_error_line(full.stderr)
    assert "No space left on device" in line
    assert f"{small}/.out." in line, line  # the lock file, the staging folder or a file in it
    assert not (small / ".out.lock").exists()
    assert list(small.iterdir()) == []  # no staging folder, no lock


def test_read_only_folder_gives_one_error_line_and_leaves_nothing(mounted, tmp_path):
    if IS_ROOT:
        folder = mounted("size=1m,ro")  # root ignores permissions, not a read-only mount
    else:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
    yaml_file = scenario_file(tmp_path, "s.yaml", tiny())
    try:
        result = invoke("generate", yaml_file, "--out", folder / "out")
        nested = invoke("generate", yaml_file, "--out", folder / "a" / "out")
    finally:
        folder.chmod(0o755) if not IS_ROOT else None
    for run in (result, nested):
        assert run.exit_code == 2
        assert re.search(r"Read-only file system|Permission denied", one_error_line(run.output))
    assert list(folder.iterdir()) == []


def test_name_too_long_for_the_staging_folder_gives_one_error_line(tmp_path):
    yaml_file = scenario_file(tmp_path, "s.yaml", tiny())
    result = invoke("generate", yaml_file, "--out", tmp_path / ("d" * 240))
    assert result.exit_code == 2
    assert "use a name of at most 228 bytes" in one_error_line(result.output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]
    fits = invoke("generate", yaml_file, "--out", tmp_path / ("d" * 228))
    assert fits.exit_code == 0, fits.output
    assert verify(tmp_path / ("d" * 228)) == []


def test_publishing_inside_a_data_set_is_refused(old_and_new, tmp_path):
    old_dir, new_yaml, _, _ = old_and_new
    outer = tmp_path / "outer"
    shutil.copytree(old_dir, outer)
    for inner in (outer / "inner", outer / "tables" / "deeper" / "inner"):
        result = invoke("generate", new_yaml, "--out", inner)
        assert result.exit_code == 2
        assert f"is inside the data set {outer}" in one_error_line(result.output)
    assert verify(outer) == []


def test_symbolic_link_as_out_is_refused(old_and_new, tmp_path):
    old_dir, new_yaml, old, _ = old_and_new
    real = tmp_path / "real"
    shutil.copytree(old_dir, real)
    link = tmp_path / "link"
    link.symlink_to(real)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    for target in (link, dangling):
        result = invoke("generate", new_yaml, "--out", target, "--overwrite")
        assert result.exit_code == 2
        assert f"{target} is a symbolic link" in one_error_line(result.output)
    assert link.is_symlink() and link.resolve() == real and manifest_id(real) == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling", "link", "real"]
    # a link among the parent folders is fine: the renames happen in the real folder
    (tmp_path / "parent").symlink_to(tmp_path / "real_parent", target_is_directory=True)
    (tmp_path / "real_parent").mkdir()
    done = invoke("generate", new_yaml, "--out", tmp_path / "parent" / "out")
    assert done.exit_code == 0, done.output
    assert verify(tmp_path / "real_parent" / "out") == []


def test_leftovers_without_a_manifest_are_cleared_and_stale_links_removed(old_and_new, tmp_path):
    old_dir, new_yaml, _, new = old_and_new
    (tmp_path / ".out.partial-99999-abcdefgh" / "messages").mkdir(parents=True)
    (tmp_path / ".out.replaced-99998").symlink_to(old_dir)  # what an older version left behind
    result = invoke("generate", new_yaml, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert manifest_id(tmp_path / "out") == new and verify(old_dir) == []
