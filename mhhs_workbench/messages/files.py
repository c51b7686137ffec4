"""Numbered DIP request-body files written by independent chunks.

A data set's messages of one interface go into files of ``per_file`` messages each,
``<interface>_<nnnnnn>.json``, numbered by *global* message index, so the files never depend on
how the meters were chunked or which process wrote them. A chunk that knows the global index of
its first message writes the files it fills completely under their final names, and the start or
end of a file it shares with a neighbouring chunk as a hidden *piece*
(``.<interface>_<nnnnnn>.json.piece-<first message>-<count>``). A chunk's writes can instead
collect all its pieces in one hidden *pack* (``.<interface>.pack-<first message>``, see
:class:`PiecePack`): one file per chunk, not one per piece, which matters when batches are small
and nearly every file is shared. :meth:`MessageFiles.finish` joins the pieces of each shared file
in message order, streaming each piece through in blocks of at most ``_JOIN_BLOCK`` bytes, so the
memory of a join does not grow with the size of the file. Every write goes to a temporary name first and is renamed into place, so a chunk
that is run again (a retried task) rewrites identical files.

Messages that are sent together (a data service's send batch, see :mod:`~mhhs_workbench.sending.timeline`)
can be kept together: given the global index at which each batch starts, a file never holds
messages of two batches, and each batch fills files of ``per_file`` messages (its last file fewer).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

#: An item of a request body, as one or more buffers to be written one after another.
Item = Sequence[bytes | memoryview]
#: Size [bytes] and sha256 of written files, by path relative to the data set's root.
Checksums = dict[str, tuple[int, str]]
#: Where a piece of a shared file is: its own file, or ``(pack, offset, length)``.
Source = Path | tuple[Path, int, int]

_PIECE = ".piece-"
_PACK = ".pack-"
#: Last bytes of a pack: the number of pieces it holds (8 bytes, little-endian), then this mark.
_PACK_MARK = b"MHHSPACK"
#: Open packs kept while joining (file descriptors are limited; a run may have thousands of chunks).
_OPEN_PACKS = 64
#: Most bytes of a piece held in memory at once while joining a file [bytes].
_JOIN_BLOCK = 4 << 20


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

    def pack(self) -> PiecePack:
        """A pack for the pieces of one chunk's writes (see :meth:`write`)."""
        return PiecePack(self)

    def write(self, first_message: int, items: Sequence[Item], pack: PiecePack | None = None) -> Checksums:
        """Write messages ``first_message ..`` (global 0-based indices) as files and pieces.

        Pieces of shared files go into ``pack`` when one is given (close a :class:`PiecePack`
        after the chunk's last write), else each into a file of its own.

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
            elif pack is not None:
                pack.add(f, start, part)
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
        pack_pattern = re.compile(rf"\.{re.escape(self.interface_id)}{_PACK}\d+")
        # per file: (first message, count, piece file or (pack, offset, length))
        pieces: dict[int, list[tuple[int, int, Source]]] = {}
        packs: list[Path] = []
        if self.folder.is_dir():
            for path in self.folder.iterdir():
                if ".tmp-" in path.name:
                    path.unlink()  # left by a writer that died; its task was run again
                elif match := pattern.fullmatch(path.name):
                    f, start, count = (int(g) for g in match.groups())
                    pieces.setdefault(f - 1, []).append((start, count, path))
                elif pack_pattern.fullmatch(path.name):
                    packs.append(path)
                    for f, start, count, offset, length in _pack_index(path).tolist():
                        pieces.setdefault(f, []).append((start, count, (path, offset, length)))
        with _PackReader() as reader:
            for f, parts in sorted(pieces.items()):
                digest = self._join(f, parts, total_messages, reader)
                if checksums is not None:
                    checksums[self.name(f)] = digest
                for _, _, source in parts:
                    if isinstance(source, Path):
                        source.unlink()
        for path in packs:
            path.unlink()
        files = [self.folder / self.name(f) for f in range(n_files)]
        lost = [p.name for p in files if not p.is_file()]
        if lost:
            raise RuntimeError(f"message files never written: {', '.join(lost[:5])}")
        return files

    def messages_of(self, file_index: int, total_messages: int) -> tuple[int, int]:
        """Global ``[first, stop)`` messages of file ``file_index`` in a data set of ``total_messages``."""
        if self.file_starts is None:
            return file_index * self.per_file, min((file_index + 1) * self.per_file, total_messages)
        return int(self.file_starts[file_index]), int(self.file_stops[file_index])

    def _join(self, file_index: int, parts: list[tuple[int, int, Source]], total_messages: int,
              reader: _PackReader) -> tuple[int, str]:
        """Write file ``file_index`` from ``parts`` ``(first message, count, where)``; return its
        size and sha256.

        Raises
        ------
        RuntimeError
            If the parts do not hold exactly the file's messages.
        """
        parts.sort(key=lambda part: part[:2])
        expected, stop = self.messages_of(file_index, total_messages)
        for start, count, _ in parts:
            if start != expected:
                raise RuntimeError(f"{self.name(file_index)}: message {expected} is missing")
            expected += count
        if expected != stop:
            raise RuntimeError(f"{self.name(file_index)}: messages from {expected} are missing")
        # each piece is read block by block while the file is written: never a whole piece in memory
        joined = (reader.stream(source) for _, _, source in parts)
        return self._write(self.folder / self.name(file_index), joined, b"[", b"]")

    @staticmethod
    def _write(path: Path, items: Iterable[Iterable[bytes | memoryview]], opening: bytes,
               closing: bytes) -> tuple[int, str]:
        """Write ``opening``, the items separated by commas, ``closing``; return size and sha256.

        Each item is a sequence (or an iterator) of buffers, written one after another as they come.
        """
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


class PiecePack:
    """The pieces of shared files one chunk writes, in one hidden file instead of one file each.

    Pieces are appended as they come (in any order) to a temporary file, which :meth:`close`
    ends with an index and renames to ``.<interface>.pack-<first message>``; a chunk written
    again writes the same pack under the same name. A :class:`PieceJoiner` (or
    :meth:`MessageFiles.finish`) reads the pieces back soon after and removes the pack, so, unlike
    the message files, its write-back is left to the kernel: a pack removed first never reaches
    the disk.

    Parameters
    ----------
    files : MessageFiles
        The files the pieces belong to.
    """

    def __init__(self, files: MessageFiles) -> None:
        self.files = files
        self.path: Path | None = None
        self._tmp: Path | None = None
        self._out: BinaryIO | None = None
        self._size = 0
        self._index: list[tuple[int, int, int, int, int]] = []

    def add(self, file_index: int, first_message: int, items: Sequence[Item]) -> None:
        """Append the piece of file ``file_index`` holding ``items`` from message ``first_message``."""
        if self._out is None:
            self.files.folder.mkdir(exist_ok=True)
            self.path = self.files.folder / f".{self.files.interface_id}{_PACK}{first_message:012d}"
            self._tmp = self.path.with_name(f"{self.path.name}.tmp-{os.getpid()}")
            self._out = open(self._tmp, "wb", buffering=1 << 20)  # closed by close() or discard()
        offset = self._size
        for i, item in enumerate(items):
            if i:
                self._size += self._out.write(b",")
            for buffer in item:
                self._size += self._out.write(buffer)
        self._index.append((file_index, first_message, len(items), offset, self._size - offset))

    def close(self) -> None:
        """Write the index and put the pack in place (nothing when no piece was added)."""
        if self._out is None:
            return
        index = np.asarray(self._index, dtype="<i8").reshape(-1, 5)
        self._out.write(index.tobytes())
        self._out.write(len(self._index).to_bytes(8, "little") + _PACK_MARK)
        self._out.close()
        self._out = None
        os.replace(self._tmp, self.path)

    def discard(self) -> None:
        """Drop an unfinished pack (a failed chunk)."""
        if self._out is not None:
            self._out.close()
            self._out = None
            self._tmp.unlink(missing_ok=True)


class PieceJoiner:
    """Joins each shared file as soon as the packs of the chunks written so far hold all of it.

    Taking the packs chunk by chunk (:meth:`add_pack`) and joining what they complete
    (:meth:`join`, on any one thread, in the order the jobs were made) reads every piece back
    soon after it was written, while it is still in the page cache, and spreads the writing of
    the shared files over the run instead of leaving it all to :meth:`MessageFiles.finish`,
    which joins whatever is left. A pack is removed once all its pieces are joined.

    Parameters
    ----------
    files : MessageFiles
        The files.
    total_messages : int
        Messages of the interface in the whole data set.
    """

    def __init__(self, files: MessageFiles, total_messages: int) -> None:
        self.files = files
        self.total_messages = total_messages
        self._parts: dict[int, list[tuple[int, int, tuple[Path, int, int]]]] = {}
        self._have: dict[int, int] = {}
        self._unjoined: dict[Path, int] = {}

    def add_pack(self, name: str) -> tuple[list[tuple[int, list]], list[Path]]:
        """Take the pieces of pack ``name``; return the job of joining the files now complete (each
        with its parts) and the packs to remove after it."""
        path = self.files.folder / name
        index = _pack_index(path).tolist()
        self._unjoined[path] = self._unjoined.get(path, 0) + len(index)
        ready: list[tuple[int, list]] = []
        for f, start, count, offset, length in index:
            self._parts.setdefault(f, []).append((start, count, (path, offset, length)))
            self._have[f] = self._have.get(f, 0) + count
            first, stop = self.files.messages_of(f, self.total_messages)
            if self._have[f] >= stop - first:
                del self._have[f]
                ready.append((f, self._parts.pop(f)))
        done = []
        for _, parts in ready:
            for _, _, (pack, _, _) in parts:
                self._unjoined[pack] -= 1
                if not self._unjoined[pack]:
                    del self._unjoined[pack]
                    done.append(pack)
        return ready, done

    def join(self, ready: list[tuple[int, list]], done: list[Path]) -> Checksums:
        """Run a job of :meth:`add_pack`: write the files, remove the packs; return the files'
        size and sha256 by name."""
        written: Checksums = {}
        with _PackReader() as reader:
            for f, parts in ready:
                written[self.files.name(f)] = self.files._join(f, parts, self.total_messages, reader)
        for pack in done:
            pack.unlink()
        return written


def _pack_index(path: Path) -> np.ndarray:
    """The pieces of a pack: rows of ``(file, first message, count, offset, length)``."""
    with open(path, "rb") as fh:
        fh.seek(-16, os.SEEK_END)
        tail = fh.read(16)
        if tail[8:] != _PACK_MARK:
            raise RuntimeError(f"{path.name}: not a complete pack of message pieces")
        n = int.from_bytes(tail[:8], "little")
        fh.seek(-16 - 40 * n, os.SEEK_END)
        return np.frombuffer(fh.read(40 * n), dtype="<i8").reshape(n, 5)


class _PackReader:
    """Reads pieces from piece files and packs, keeping a few packs open between reads."""

    def __init__(self) -> None:
        self._open: dict[Path, int] = {}

    def stream(self, source: Source, block: int = _JOIN_BLOCK) -> Iterator[bytes]:
        """The bytes of a piece file, or of ``(pack, offset, length)``, in blocks of at most
        ``block`` bytes (read as the iterator is advanced).

        Raises
        ------
        RuntimeError
            If the piece is shorter than its index says.
        """
        if isinstance(source, Path):
            with open(source, "rb", buffering=0) as fh:
                while data := fh.read(block):
                    yield data
            return
        path, offset, length = source
        end = offset + length
        while offset < end:
            data = os.pread(self._fd(path), min(block, end - offset), offset)
            if not data:
                raise RuntimeError(f"{path.name}: a piece ends before its {length} bytes")
            offset += len(data)
            yield data

    def _fd(self, path: Path) -> int:
        """An open descriptor of pack ``path`` (closing the others when too many are open)."""
        fd = self._open.get(path)
        if fd is None:
            if len(self._open) >= _OPEN_PACKS:
                self.close()
            fd = self._open[path] = os.open(path, os.O_RDONLY)
        return fd

    def close(self) -> None:
        """Close every open pack."""
        while self._open:
            os.close(self._open.popitem()[1])

    def __enter__(self) -> _PackReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
