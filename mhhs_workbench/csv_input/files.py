"""Opening the user's files: their kind, their bytes, what their first bytes say, and the read size.

:func:`not_readable` refuses, before anything is opened, a path that is not a regular file (a FIFO
would block until a writer comes, a pipe can be read only once, a device may never end);
:func:`read_bytes` turns a missing, unreadable or folder path into a problem of the whole file;
:func:`binary_kind` tells a workbook, UTF-16 or other binary file from CSV text by its first bytes;
:func:`progress_counter` counts the bytes read into a progress bar.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from tqdm.auto import tqdm

from mhhs_workbench.csv_input.problems import Problems

#: Bytes pyarrow parses at a time: small enough to keep memory flat, large enough to be fast. A
#: row (a line, or a quoted value's lines) longer than this cannot be read.
BLOCK_BYTES = 1 << 21
#: Longest header line read [bytes] (64 KiB): the widest valid header is under 1,000 bytes.
MAX_HEADER_BYTES = 1 << 16
#: Largest ``--register-csv`` read [bytes] (64 MiB): one short row per MPAN, read whole.
MAX_REGISTER_BYTES = 64 << 20
#: Most columns a header may have: a valid one has at most 66 (wide layout, every optional column).
MAX_COLUMNS = 1_000

_DEVICES = (
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


@contextlib.contextmanager
def progress_counter(files: list[Path], enabled: bool) -> Iterator[Callable[[int], None]]:
    """A callback counting bytes read into a tqdm bar (or into nothing)."""
    if not enabled:
        yield lambda n: None
        return
    total = sum(p.stat().st_size for p in files if p.is_file())
    with tqdm(total=total, unit="B", unit_scale=True, desc="reading input") as bar:
        yield bar.update


def is_anonymous_pipe(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names an anonymous pipe (``/dev/stdin`` fed by ``|``, bash's ``<(...)``)
    rather than a FIFO with a name on disk (Linux: its link in ``/proc`` reads ``pipe:[...]``)."""
    return os.path.basename(os.path.realpath(path)).startswith("pipe:[")


def not_readable(path: Path) -> str | None:
    """Why ``path`` is refused before it is opened, or None (regular files, folders and missing
    paths, which opening words)."""
    try:
        mode = os.stat(path).st_mode  # before opening: opening a FIFO waits for a writer
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        if is_anonymous_pipe(path):
            return ("is a pipe (such as <(...) or /dev/stdin), not a regular file: not accepted, as "
                    "a file is read twice (its header, then its rows in blocks) and a pipe can be "
                    "read only once: save the data to a file and give that")
        return ("is a FIFO (named pipe), not a regular file: not opened (reading it would wait for "
                "a writer): save the data to a file and give that")
    kind = next((words for test, words in _DEVICES if test(mode)), "a special file")
    return f"is {kind}, not a regular file: not read"


def read_bytes(path: Path, file: int, problems: Problems, size: int = -1, *,
               limit: int | None = None) -> bytes | None:
    """The first ``size`` bytes of a file (all of it by default), or ``None`` once ``problems``
    says why it cannot be read; a whole file over ``limit`` bytes is refused unread."""
    refused = not_readable(path)
    if refused is not None:
        problems.add_file(file, refused)
        return None
    try:
        with path.open("rb") as fh:
            if limit is not None:
                data = fh.read(limit + 1)  # bounded even if the file grew since it was looked at
                if len(data) > limit:
                    problems.add_file(file, f"is {os.fstat(fh.fileno()).st_size:,} bytes, over the "
                                            f"{limit:,} bytes this file may have: not read")
                    return None
                return data
            return fh.read(size)
    except FileNotFoundError:
        problems.add_file(file, "file not found")
    except IsADirectoryError:
        problems.add_file(file, "is a folder, not a CSV file")
    except OSError as exc:
        problems.add_file(file, f"cannot be read ({exc.strerror or exc})")
    return None


def binary_kind(head: bytes) -> str | None:
    """Why the start of a file is not CSV text, or None."""
    if head.startswith(b"PK\x03\x04"):
        return "binary content, not CSV text (a zip file or Excel workbook? save it as CSV UTF-8)"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text: save the file as CSV UTF-8"
    if b"\x00" in head:
        return "binary content, not CSV text (NUL bytes)"
    return None
