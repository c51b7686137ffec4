"""Opening the user's files: their bytes, what their first bytes say, and the read size.

:func:`read_bytes` turns a missing, unreadable or folder path into a problem of the whole file;
:func:`binary_kind` tells a workbook, UTF-16 or other binary file from CSV text by its first bytes;
:func:`progress_counter` counts the bytes read into a progress bar.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from tqdm.auto import tqdm

from mhhs_workbench.csv_input.problems import Problems

#: Bytes pyarrow parses at a time: small enough to keep memory flat, large enough to be fast.
BLOCK_BYTES = 1 << 21


@contextlib.contextmanager
def progress_counter(files: list[Path], enabled: bool) -> Iterator[Callable[[int], None]]:
    """A callback counting bytes read into a tqdm bar (or into nothing)."""
    if not enabled:
        yield lambda n: None
        return
    total = sum(p.stat().st_size for p in files if p.is_file())
    with tqdm(total=total, unit="B", unit_scale=True, desc="reading input") as bar:
        yield bar.update


def read_bytes(path: Path, file: int, problems: Problems, size: int = -1) -> bytes | None:
    """The first ``size`` bytes of a file (all of it by default), or ``None`` once ``problems``
    says why it cannot be read."""
    try:
        with path.open("rb") as fh:
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
