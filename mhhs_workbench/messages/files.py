"""Numbered DIP request-body files written by independent chunks.

A data set's messages of one interface go into files of ``per_file`` messages each,
``<interface>_<nnnnnn>.json``, numbered by *global* message index, so the files never depend on
how the meters were chunked or which process wrote them. A chunk that knows the global index of
its first message writes the files it fills completely under their final names, and the start or
end of a file it shares with a neighbouring chunk as a hidden *piece*
(``.<interface>_<nnnnnn>.json.piece-<first message>-<count>``). :meth:`MessageFiles.finish` joins the
pieces of each shared file in message order. Every write goes to a temporary name first and is
renamed into place, so a chunk that is run again (a retried task) rewrites identical files.

Messages that are sent together (a data service's send batch, see :mod:`~mhhs_workbench.timeline`)
can be kept together: given the global index at which each batch starts, a file never holds
messages of two batches, and each batch fills files of ``per_file`` messages (its last file fewer).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

#: An item of a request body, as one or more buffers to be written one after another.
Item = Sequence[bytes | memoryview]
#: Size [bytes] and sha256 of written files, by path relative to the data set's root.
Checksums = dict[str, tuple[int, str]]

_PIECE = ".piece-"


class MessageFiles:
    """The request-body files of one interface in one folder.

    Parameters
    ----------
    folder : pathlib.Path
        Where the files go (created when the first is written).
    interface_id : str
        ``IF-021`` or ``IF-041``; names the files.
    per_file : int
        Messages per file (the last file may hold fewer).
    batch_starts : numpy.ndarray of int, optional
        Global index of the first message of each batch in file order, then the total: files
        never span two batches. ``None`` means one batch of every message.
    """

    def __init__(self, folder: Path, interface_id: str, per_file: int, batch_starts: np.ndarray | None = None) -> None:
        if per_file < 1:
            raise ValueError(f"messages per file must be at least 1, got {per_file}")
        self.folder = Path(folder)
        self.interface_id = interface_id
        self.per_file = per_file
        self.file_starts: np.ndarray | None = None
        if batch_starts is not None:
            bounds = np.asarray(batch_starts, dtype=np.int64)
            sizes = np.diff(bounds)
            n_files = -(-sizes // per_file)
            batch = np.repeat(np.arange(sizes.size), n_files)
            rank = np.arange(batch.size) - np.repeat(np.cumsum(n_files) - n_files, n_files)
            # first message of each file, then the total
            self.file_starts = np.append(bounds[:-1][batch] + rank * per_file, bounds[-1])
            self.file_stops = np.minimum(self.file_starts[:-1] + per_file, bounds[1:][batch])

    def _file(self, message: int) -> tuple[int, int, int]:
        """File number holding global message ``message``, and the file's ``[first, stop)`` messages."""
        if self.file_starts is None:
            f = message // self.per_file
            return f, f * self.per_file, (f + 1) * self.per_file
        f = int(np.searchsorted(self.file_starts, message, side="right")) - 1
        return f, int(self.file_starts[f]), int(self.file_stops[f])

    def name(self, file_index: int) -> str:
        """File name of 0-based file number ``file_index``."""
        return f"{self.interface_id}_{file_index + 1:06d}.json"

    def write(self, first_message: int, items: Sequence[Item]) -> Checksums:
        """Write messages ``first_message ..`` (global 0-based indices) as files and pieces.

        Returns the size and sha256 of each whole file written, by its name, computed from the
        bytes as they were written (so the manifest need not read them again).
        """
        written: Checksums = {}
        if not items:
            return written
        # never parents: a data set folder removed by a cancelled run must not be made again
        self.folder.mkdir(exist_ok=True)
        end = first_message + len(items)
        start = first_message
        while start < end:
            f, file_lo, file_hi = self._file(start)
            stop = min(end, file_hi)
            part = items[start - first_message : stop - first_message]
            if start == file_lo and stop == file_hi:
                written[self.name(f)] = self._write(self.folder / self.name(f), part, b"[", b"]")
            else:
                self._write(self.folder / f".{self.name(f)}{_PIECE}{start:012d}-{len(part)}", part, b"", b"")
            start = stop
        return written

    def finish(self, total_messages: int, checksums: Checksums | None = None) -> list[Path]:
        """Join the pieces of shared files; return every file of the interface, in order.

        The size and sha256 of each joined file is added to ``checksums`` when given.

        Raises
        ------
        RuntimeError
            If a file is missing or its pieces do not hold exactly its messages (a chunk was lost).
        """
        if self.file_starts is not None and int(self.file_starts[-1]) != total_messages:
            raise RuntimeError(f"{self.interface_id}: {total_messages} messages, but the batches hold "
                               f"{int(self.file_starts[-1])}")
        n_files = -(-total_messages // self.per_file) if self.file_starts is None else self.file_starts.size - 1
        pattern = re.compile(rf"\.{re.escape(self.interface_id)}_(\d{{6,}})\.json{_PIECE}(\d+)-(\d+)")
        pieces: dict[int, list[tuple[int, int, Path]]] = {}
        if self.folder.is_dir():
            for path in self.folder.iterdir():
                if ".tmp-" in path.name:
                    path.unlink()  # left by a writer that died; its task was run again
                elif match := pattern.fullmatch(path.name):
                    f, start, count = (int(g) for g in match.groups())
                    pieces.setdefault(f - 1, []).append((start, count, path))
        for f, parts in sorted(pieces.items()):
            parts.sort()
            if self.file_starts is None:
                expected, stop = f * self.per_file, min((f + 1) * self.per_file, total_messages)
            else:
                expected, stop = int(self.file_starts[f]), int(self.file_stops[f])
            for start, count, _ in parts:
                if start != expected:
                    raise RuntimeError(f"{self.name(f)}: message {expected} is missing")
                expected += count
            if expected != stop:
                raise RuntimeError(f"{self.name(f)}: messages from {expected} are missing")
            digest = self._write(self.folder / self.name(f), [[p.read_bytes()] for _, _, p in parts], b"[", b"]")
            if checksums is not None:
                checksums[self.name(f)] = digest
            for _, _, p in parts:
                p.unlink()
        files = [self.folder / self.name(f) for f in range(n_files)]
        lost = [p.name for p in files if not p.is_file()]
        if lost:
            raise RuntimeError(f"message files never written: {', '.join(lost[:5])}")
        return files

    @staticmethod
    def _write(path: Path, items: Sequence[Item], opening: bytes, closing: bytes) -> tuple[int, str]:
        """Write ``opening``, the items separated by commas, ``closing``; return size and sha256."""
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        digest = hashlib.sha256()
        size = 0

        def put(buffer: bytes | memoryview) -> None:
            nonlocal size
            f.write(buffer)
            digest.update(buffer)
            size += len(buffer)

        with open(tmp, "wb", buffering=1 << 20) as f:
            put(opening)
            for i, item in enumerate(items):
                if i:
                    put(b",")
                for buffer in item:
                    put(buffer)
            put(closing)
            f.flush()
            _start_writeback(f.fileno())
        os.replace(tmp, path)
        return size, digest.hexdigest()


def _start_writeback(fd: int) -> None:
    """Start writing a finished file to disk now, in the background, and drop it from the cache.

    The data set is flushed to disk before it is published; starting each file's write-back as
    soon as it is written (Linux starts it for ``POSIX_FADV_DONTNEED``) overlaps the disk with
    generating the next files, so the final flush finds little left to do, and the written pages
    (never read again: their sha256 was taken while writing) do not crowd the page cache.
    """
    if hasattr(os, "posix_fadvise"):
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        except OSError:
            pass  # advice only
