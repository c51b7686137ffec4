"""``verify`` refuses what publication refuses: links, FIFOs and other non-files, and odd manifests.

A data set holds only regular files and folders; ``--overwrite`` counts anything else as a file its
manifest does not list, so ``verify`` must not call such a data set intact. The manifest itself is
never followed through a symbolic link and never read past ``MAX_MANIFEST_BYTES``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mhhs_workbench.cli import main
from mhhs_workbench.dataset import generate_dataset
from mhhs_workbench.publish.manifest import MANIFEST, MAX_MANIFEST_BYTES, verify
from mhhs_workbench.publish.publication import unlisted_files
from mhhs_workbench.scenario import MeterMix, Scenario


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny published data set, generated once for the module."""
    start = dt.date(2025, 3, 3)
    scenario = Scenario(name="tiny", seed=1, start_date=start, end_date=start + dt.timedelta(days=1),
                        meters=MeterMix(count=2), events=[], outputs=["if021", "csv"])
    out = tmp_path_factory.mktemp("published") / "data"
    generate_dataset(scenario, out, progress=False)
    assert verify(out) == []
    return out


@pytest.fixture
def dataset(published: Path, tmp_path: Path) -> Path:
    """A fresh copy of the published data set, to spoil."""
    return Path(shutil.copytree(published, tmp_path / "data", symlinks=True))


def a_listed_file(root: Path) -> str:
    """Path (relative to ``root``) of a message file the manifest lists."""
    return next(p for p in sorted(root.rglob("*.json")) if p.name != MANIFEST).relative_to(root).as_posix()


def cli_verify(root: Path) -> tuple[int, list[str]]:
    """Exit status of ``mhhs-workbench verify root`` and its FAIL lines."""
    result = CliRunner().invoke(main, ["verify", str(root)])
    return result.exit_code, [line[5:] for line in result.output.splitlines() if line.startswith("FAIL ")]


@pytest.mark.parametrize("target", ["/", "inside"])
def test_directory_symlink_is_a_problem_and_not_followed(dataset: Path, target: str):
    (dataset / "link").symlink_to("/" if target == "/" else dataset / "messages", target_is_directory=True)
    problems = verify(dataset)
    assert problems == ["link: a symbolic link, not a regular file (a data set holds only files and "
                        "folders; publication refuses it too)"]
    assert unlisted_files(dataset) == ["link"]  # what --overwrite counts: the same entry
    code, lines = cli_verify(dataset)
    assert code == 1 and lines == problems


def test_fifo_device_like_entries_are_problems_without_blocking(dataset: Path, tmp_path: Path):
    os.mkfifo(dataset / "messages" / "pipe")
    sock_path = dataset / "sock"
    with socket.socket(socket.AF_UNIX) as sock:
        try:
            sock.bind(str(sock_path))
        except OSError:  # a path too long for AF_UNIX: skip the socket, keep the FIFO
            sock_path = None
        problems = verify(dataset)
    expected = ["messages/pipe: a FIFO (named pipe), not a regular file (a data set holds only files and "
                "folders; publication refuses it too)"]
    if sock_path is not None:
        expected.append("sock: a socket, not a regular file (a data set holds only files and folders; "
                        "publication refuses it too)")
    assert problems == expected
    code, lines = cli_verify(dataset)
    assert code == 1 and lines[0] == expected[0]


def test_listed_file_replaced_by_a_fifo_is_refused_not_opened(dataset: Path):
    rel = a_listed_file(dataset)
    (dataset / rel).unlink()
    os.mkfifo(dataset / rel)  # opening it for reading would block forever
    assert verify(dataset) == [f"{rel}: refused, not opened: a FIFO (named pipe), not a regular file"]
    code, lines = cli_verify(dataset)
    assert code == 1 and lines == [f"{rel}: refused, not opened: a FIFO (named pipe), not a regular file"]


def test_listed_file_replaced_by_a_symlink_to_its_own_bytes_is_refused(dataset: Path, tmp_path: Path):
    rel = a_listed_file(dataset)
    outside = tmp_path / "copy.json"
    shutil.copyfile(dataset / rel, outside)
    (dataset / rel).unlink()
    (dataset / rel).symlink_to(outside)  # same bytes, but not in the data set
    problems = verify(dataset)
    assert problems == [f"{rel}: refused, not opened: the path resolves outside the data set"]
    inside = dataset / "spare.json"
    os.replace(outside, inside)
    (dataset / rel).unlink()
    (dataset / rel).symlink_to(inside)
    assert verify(dataset) == [f"{rel}: refused, not opened: a symbolic link, not a regular file",
                               "spare.json: not in the manifest"]


def test_listed_files_under_a_symlinked_folder_are_refused(dataset: Path, tmp_path: Path):
    folder = dataset / "messages" / "IF-021"
    moved = dataset / "real-if021"
    os.replace(folder, moved)
    folder.symlink_to(moved, target_is_directory=True)  # resolves inside the data set
    problems = verify(dataset)
    refused = [p for p in problems if "refused, not opened: passes through a symbolic link" in p]
    assert refused and all(p.startswith("messages/IF-021/") for p in refused)
    assert "messages/IF-021: a symbolic link, not a regular file (a data set holds only files and folders; " \
           "publication refuses it too)" in problems
    assert cli_verify(dataset)[0] == 1


def test_symlinked_manifest_is_not_followed_even_to_a_huge_file(dataset: Path, tmp_path: Path):
    big = tmp_path / "big.json"
    subprocess.run(["truncate", "-s", "2G", str(big)], check=True)  # sparse: no blocks written
    (dataset / MANIFEST).unlink()
    (dataset / MANIFEST).symlink_to(big)
    t0 = time.perf_counter()
    problems = verify(dataset)
    assert time.perf_counter() - t0 < 2.0
    assert problems == [f"{dataset / MANIFEST}: refused, not followed: a symbolic link, not a regular file"]
    code, lines = cli_verify(dataset)
    assert code == 1 and lines == problems


def test_manifest_over_the_limit_is_refused_unread(dataset: Path):
    path = dataset / MANIFEST
    os.truncate(path, MAX_MANIFEST_BYTES + 1)  # sparse beyond the real bytes
    t0 = time.perf_counter()
    problems = verify(dataset)
    assert time.perf_counter() - t0 < 2.0
    assert problems == [f"{path}: refused, not read: {MAX_MANIFEST_BYTES + 1:,} bytes, over the "
                        f"{MAX_MANIFEST_BYTES:,}-byte limit of a manifest"]
    assert cli_verify(dataset)[0] == 1


def test_manifest_that_is_a_fifo_is_refused_without_blocking(dataset: Path):
    (dataset / MANIFEST).unlink()
    os.mkfifo(dataset / MANIFEST)
    assert verify(dataset) == [f"{dataset / MANIFEST}: refused, not followed: a FIFO (named pipe), "
                               "not a regular file"]


def test_intact_copy_still_verifies(dataset: Path):
    assert verify(dataset) == []
    assert cli_verify(dataset) == (0, [])
