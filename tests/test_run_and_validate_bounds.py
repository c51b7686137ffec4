"""Bounded input to ``run``, ``validate --spec`` and ``--scheduler``: refused at once, one line.

Every case runs the real command line in a subprocess with a timeout, so a regression that
hangs (a FIFO opened for reading, a scheduler that never answers) fails instead of stalling the
suite, and asserts exit status 2, exactly one ``error:`` line and no traceback.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from mhhs_workbench.notebook.runner import (
    MAX_PARAMETER_DEPTH,
    MAX_PARAMETER_VALUE_CHARS,
    MAX_PARAMETERS_FILE_BYTES,
)
from mhhs_workbench.validation.spec_versions import INTERFACES_FILE, MAX_SPEC_FILE_BYTES

CLI = [sys.executable, "-m", "mhhs_workbench.cli"]

#: A tiny but complete scenario: 4 meters x 2 UTC days, generated in about a second.
TINY = "name: tiny\nseed: 3\nstart_date: '2025-03-29'\nend_date: '2025-03-30'\nmeters:\n  count: 4\nevents: []\n"


def cli(*args: str | Path, cwd: Path | None = None, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run ``mhhs-workbench ARGS`` in a fresh interpreter, never for longer than ``timeout``."""
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def one_error(done: subprocess.CompletedProcess[str]) -> str:
    """Exit status 2, exactly one short ``error:`` line on stderr, no traceback; the line."""
    assert done.returncode == 2, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    assert "Traceback" not in done.stdout + done.stderr, done.stderr[-2000:]
    assert len(done.stderr.encode()) < 1024, done.stderr[:2000]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def sparse(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that takes no disk space."""
    path.touch()
    os.truncate(path, size)
    return path


@pytest.fixture
def messages(tmp_path: Path) -> Path:
    """Something for ``validate`` to check: an empty folder (the specification fails first)."""
    folder = tmp_path / "messages"
    folder.mkdir()
    return folder


@pytest.fixture(scope="module")
def bare_notebook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A notebook without a ``parameters`` cell."""
    path = tmp_path_factory.mktemp("nb") / "bare.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('ran')")]), path)
    return path


# --------------------------------------------------------------------------- validate --spec


def test_a_spec_file_over_the_limit_is_refused_unread(messages: Path, tmp_path: Path) -> None:
    big = sparse(tmp_path / "api-spec.json", 2 * 1024**3)
    start = time.monotonic()
    line = one_error(cli("validate", messages, "--spec", big))
    assert time.monotonic() - start < 10
    assert f"{big}" in line and "2,147,483,648 bytes" in line and f"{MAX_SPEC_FILE_BYTES:,}" in line


@pytest.mark.slow
def test_a_yaml_file_over_the_limit_in_a_spec_folder_is_refused(messages: Path, tmp_path: Path) -> None:
    folder = tmp_path / "dip-api"
    folder.mkdir()
    (folder / INTERFACES_FILE).write_text("openapi: 3.0.0\n")
    sparse(folder / "Common.yaml", MAX_SPEC_FILE_BYTES + 1)
    line = one_error(cli("validate", messages, "--spec", folder))
    assert "Common.yaml" in line and f"{MAX_SPEC_FILE_BYTES + 1:,} bytes" in line


@pytest.mark.slow
def test_a_device_as_spec_says_what_it_is(messages: Path) -> None:
    line = one_error(cli("validate", messages, "--spec", "/dev/zero"))
    assert "/dev/zero is a character device" in line and "not found" not in line


@pytest.mark.slow
def test_a_fifo_as_spec_is_refused_without_opening_it(messages: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "spec.json"
    os.mkfifo(fifo)
    line = one_error(cli("validate", messages, "--spec", fifo, timeout=20))
    assert f"{fifo} is a FIFO (named pipe)" in line


@pytest.mark.slow
def test_a_fifo_as_the_interfaces_file_of_a_spec_folder_is_refused(messages: Path, tmp_path: Path) -> None:
    folder = tmp_path / "dip-api"
    folder.mkdir()
    os.mkfifo(folder / INTERFACES_FILE)
    line = one_error(cli("validate", messages, "--spec", folder, timeout=20))
    assert "is a FIFO (named pipe)" in line


# --------------------------------------------------------------------------- run: parameters


@pytest.mark.slow
def test_a_long_parameter_value_is_refused_before_any_work(bare_notebook: Path, tmp_path: Path) -> None:
    value = "x" * (MAX_PARAMETER_VALUE_CHARS + 1)
    line = one_error(cli("run", bare_notebook, "-p", "x", value, "--out", tmp_path / "ran", cwd=tmp_path))
    assert f"{MAX_PARAMETER_VALUE_CHARS + 1:,} characters" in line and f"{MAX_PARAMETER_VALUE_CHARS:,}" in line
    assert len(line) < 300
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_120_kb_output_path_is_refused_as_too_long_a_value(tmp_path: Path) -> None:
    line = one_error(cli("run", "generate_dataset", "-p", "out", "d" * 120_000, cwd=tmp_path))
    assert "is 120,000 characters long" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_an_output_path_no_file_system_takes_is_refused_before_the_run(tmp_path: Path) -> None:
    # within the value limit, but a name longer than 255 bytes: refused before a kernel starts,
    # not when the failed run's notebook is to be kept beside it
    line = one_error(cli("run", "generate_dataset", "-p", "out", "d" * 300, cwd=tmp_path))
    assert "parameter 'out'" in line and "too long" in line
    assert list(tmp_path.iterdir()) == []


def test_a_big_parameter_file_is_refused_unread(bare_notebook: Path, tmp_path: Path) -> None:
    params = sparse(tmp_path / "params.yaml", 50 * 1024**2)
    line = one_error(cli("run", bare_notebook, "-f", params, "--out", tmp_path / "ran", cwd=tmp_path))
    assert f"{50 * 1024**2:,} bytes" in line and f"{MAX_PARAMETERS_FILE_BYTES:,}" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]


@pytest.mark.slow
def test_a_long_value_in_a_parameter_file_is_refused(bare_notebook: Path, tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text(f"x: {'y' * (MAX_PARAMETER_VALUE_CHARS + 1)}\n")
    line = one_error(cli("run", bare_notebook, "-f", params, "--out", tmp_path / "ran", cwd=tmp_path))
    assert line.startswith(f"error: {params}: parameter 'x' holds a text of")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_a_parameter_file_that_is_not_a_file_is_refused(kind: str, bare_notebook: Path, tmp_path: Path) -> None:
    if kind == "fifo":
        path = tmp_path / "params.yaml"
        os.mkfifo(path)
    else:
        path = Path("/dev/zero")
    line = one_error(cli("run", bare_notebook, "-f", path, "--out", tmp_path / "ran", cwd=tmp_path, timeout=20))
    assert ("a FIFO (named pipe)" if kind == "fifo" else "a character device") in line


def _nested(levels: int) -> str:
    return "[" * levels + "1" + "]" * levels


@pytest.mark.slow
@pytest.mark.parametrize("levels", [MAX_PARAMETER_DEPTH + 1, 100_000 // 2 - 1])
@pytest.mark.parametrize("given", ["-p", "-f"])
def test_deeply_nested_values_are_refused(given: str, levels: int, bare_notebook: Path, tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text(f"x: {_nested(levels)}\n")
    args = ["-p", "x", _nested(levels)] if given == "-p" else ["-f", params]
    line = one_error(cli("run", bare_notebook, *args, "--out", tmp_path / "ran", cwd=tmp_path))
    assert f"nested more than {MAX_PARAMETER_DEPTH} levels deep" in line
    assert given == "-p" or str(params) in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]


@pytest.mark.slow
def test_deep_block_style_nesting_is_refused(bare_notebook: Path, tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("x:\n" + "".join(f"{'  ' * n}- \n" for n in range(1, 200)))  # a level a line
    line = one_error(cli("run", bare_notebook, "-f", params, "--out", tmp_path / "ran", cwd=tmp_path))
    assert f"nested more than {MAX_PARAMETER_DEPTH} levels deep" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]


@pytest.mark.slow
def test_nesting_at_the_limit_is_accepted_as_a_value() -> None:
    from mhhs_workbench.notebook.runner import check_parameter_values, parse_parameter_value

    value = parse_parameter_value(_nested(MAX_PARAMETER_DEPTH))
    check_parameter_values({"x": value})


# --------------------------------------------------------------------------- run: the notebook


@pytest.mark.slow
def test_a_file_that_is_not_json_is_not_echoed(tmp_path: Path) -> None:
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:secret-first-line:/root:/bin/bash\n")
    line = one_error(cli("run", secret, cwd=tmp_path))
    assert line == f"error: {secret} is not a notebook (not JSON)"
    # the same by a relative path climbing out of the working folder, to a system file
    if Path("/etc/passwd").is_file():
        relative = os.path.relpath("/etc/passwd", tmp_path)
        done = cli("run", relative, cwd=tmp_path)
        assert one_error(done) == f"error: {relative} is not a notebook (not JSON)"
        assert "root:" not in done.stderr


def test_json_that_is_not_a_notebook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.ipynb"
    path.write_text("[1, 2, 3]\n")
    assert one_error(cli("run", path, cwd=tmp_path)).endswith("is not a notebook (JSON, but not a Jupyter notebook document)")


@pytest.mark.slow
def test_a_device_as_notebook_says_what_it_is(tmp_path: Path) -> None:
    assert "/dev/zero is a character device, not a notebook file" in one_error(cli("run", "/dev/zero", cwd=tmp_path))


# --------------------------------------------------------------------------- --scheduler --timeout


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server on 127.0.0.1 that accepts connections and never answers; its address."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:  # the timeout, or the socket closed
                continue
            held.append(conn)  # kept open, never read from or written to

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        server.close()


@pytest.mark.slow
def test_a_scheduler_that_never_answers_times_out_and_releases_the_output(silent_server: str,
                                                                          tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(TINY)
    out = tmp_path / "out"
    start = time.monotonic()
    done = cli("generate", scenario, "--out", out, "--no-progress", "--scheduler", silent_server,
               "--timeout", "2", timeout=60)
    seconds = time.monotonic() - start
    line = one_error(done)
    assert seconds < 20, seconds
    assert silent_server in line and "--timeout 2" in line and "2 s" in line
    assert not out.exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")], list(tmp_path.iterdir())
    # the lock was released: the same --out publishes at once
    done = cli("generate", scenario, "--out", out, "--no-progress", timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (out / "manifest.json").is_file()
