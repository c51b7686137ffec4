"""Pieces of shared message files: packed per chunk, joined into the files one chunk would write."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest

from mhhs_workbench.messages.files import _JOIN_BLOCK, MessageFiles, PieceJoiner

#: Three send batches of 7, 2 and 5 messages, then the total: files of at most 3 never span two.
BATCHES = np.array([0, 7, 9, 14])


def items(first: int, stop: int) -> list[tuple[bytes, ...]]:
    """Messages ``first .. stop - 1`` as request-body items of two buffers each."""
    return [(b'{"payload":', f'{{"n":{i}}}}}'.encode()) for i in range(first, stop)]


def chunk_runs(cuts: list[int]) -> list[list[tuple[int, list]]]:
    """Each chunk's runs ``(first, items)``: the chunk holds messages ``cuts[c] .. cuts[c + 1] - 1`` of
    every batch, cut at the batches' ends."""
    out = []
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        runs = []
        for start, stop in zip(BATCHES[:-1].tolist(), BATCHES[1:].tolist(), strict=True):
            a, b = min(start + lo, stop), min(start + hi, stop)
            if a < b:
                runs.append((a, items(a, b)))
        out.append(runs)
    return out


def file_bytes(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def whole(tmp_path):
    """The files written by one chunk holding every message."""
    files = MessageFiles(tmp_path / "whole", "IF-041", 3, BATCHES)
    for first, run in chunk_runs([0, 7])[0]:
        files.write(first, run)
    files.finish(int(BATCHES[-1]))
    return file_bytes(tmp_path / "whole")


def test_packed_pieces_join_into_the_files_one_chunk_writes(tmp_path, whole):
    files = MessageFiles(tmp_path / "packed", "IF-041", 3, BATCHES)
    for runs in reversed(chunk_runs([0, 1, 2, 4, 7])):  # any order
        pack = files.pack()
        for first, run in runs:
            files.write(first, run, pack)
        pack.close()
    assert sum(".pack-" in p.name for p in (tmp_path / "packed").iterdir()) == 4
    paths = files.finish(int(BATCHES[-1]))
    assert file_bytes(tmp_path / "packed") == whole
    assert [len(json.loads(p.read_bytes())) for p in paths] == [3, 3, 1, 2, 3, 2]


def test_a_lost_pack_leaves_files_unfinished(tmp_path):
    files = MessageFiles(tmp_path, "IF-041", 3, BATCHES)
    for c, runs in enumerate(chunk_runs([0, 2, 7])):
        pack = files.pack()
        for first, run in runs:
            files.write(first, run, pack)
        pack.close()
        if c == 0:
            for p in tmp_path.iterdir():
                p.unlink()  # the first chunk's pack is lost
    with pytest.raises(RuntimeError, match="missing"):
        files.finish(int(BATCHES[-1]))


def test_joiner_writes_each_file_once_its_last_piece_is_in(tmp_path, whole):
    folder = tmp_path / "joined"
    files = MessageFiles(folder, "IF-041", 3, BATCHES)
    joiner = PieceJoiner(files, int(BATCHES[-1]))
    joined: dict[str, tuple[int, str]] = {}
    for c, runs in enumerate(chunk_runs([0, 1, 2, 4, 7])):
        pack = files.pack()
        for first, run in runs:
            joined.update(files.write(first, run, pack))  # whole files come back with their checksums
        pack.close()
        joined.update(joiner.join(*joiner.add_pack(pack.path.name)))
        complete = {p.name for p in folder.iterdir() if not p.name.startswith(".")}
        if c == 0:
            assert not complete  # every file still lacks pieces of later chunks
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # packs removed once joined
    assert files.finish(int(BATCHES[-1]))
    assert file_bytes(folder) == whole
    assert sorted(joined) == sorted(whole)


@pytest.mark.parametrize("packed", [True, False])
def test_joining_streams_pieces_so_memory_does_not_grow_with_the_file(tmp_path, packed):
    # one file of 4 messages of 16 MiB, shared by two chunks: joining must not hold the pieces
    big = 16 << 20
    message = [(b'{"v":"' + b"x" * big + b'"}',)]
    files = MessageFiles(tmp_path, "IF-021", per_file=4)
    for first in (0, 2):
        pack = files.pack() if packed else None
        files.write(first, message * 2, pack)
        if pack is not None:
            pack.close()
    del message
    tracemalloc.start()
    try:
        checksums = {}
        files.finish(4, checksums)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * _JOIN_BLOCK, peak  # two blocks and the write buffer, not the 64 MiB file
    path = tmp_path / "IF-021_000001.json"
    assert checksums["IF-021_000001.json"][0] == path.stat().st_size == 4 * (big + 8) + 5
    assert [p.name for p in tmp_path.iterdir()] == ["IF-021_000001.json"]
