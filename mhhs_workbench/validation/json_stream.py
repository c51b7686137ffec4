"""Read a DIP request-body file one message at a time, with bounded memory.

A request body is a top-level JSON array of ``{"payload": {...}}`` items. :func:`iter_items`
splits that array into the bytes of each item while reading the file in blocks, so that memory is
bounded by one item, not the file; each item is then parsed on its own (by orjson).

Two splitters share the work:

- a fast one for the compact layout every writer of this package uses (``[{"payload":...},
  {"payload":...}]``): it jumps from one ``{"payload":`` to the next with ``bytes.find``. In valid
  JSON those bytes can only open an object (inside a string the ``"`` would end the string and
  ``payload`` would follow it bare), so a piece between two of them that parses on its own is
  exactly one item;
- an exact one for any other layout (indented files, nested ``payload`` keys, broken JSON): a
  vectorised scanner (numpy) that tracks strings, escapes and nesting depth over each block.

The file itself is checked before it is opened: only regular files (no FIFOs or devices, which
could block or never end) no larger than a limit are read. Duplicate keys, which orjson resolves
silently by keeping the last, are found cheaply by :func:`duplicate_keys`.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import orjson

__all__ = [
    "BLOCK_BYTES",
    "DEFAULT_MAX_FILE_GB",
    "MAX_FILE_GB_ENV",
    "MAX_ITEM_BYTES",
    "StreamError",
    "duplicate_keys",
    "iter_items",
    "max_file_bytes",
    "open_message_file",
]

#: Environment variable with the largest file size checked [GB, 10**9 bytes].
MAX_FILE_GB_ENV = "MHHS_WORKBENCH_VALIDATE_MAX_GB"
#: Largest file size checked when neither the option nor the variable says [GB].
DEFAULT_MAX_FILE_GB = 20.0
#: Largest single item (message) read [bytes]: a 200-day IF-021 message is about 1.5 MB.
MAX_ITEM_BYTES = 64 * 2**20
#: Bytes read at a time.
BLOCK_BYTES = 4 * 2**20

_WHITESPACE = b" \t\r\n"
_ITEM_START = b'{"payload":'
_BOM_UTF8 = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class StreamError(Exception):
    """Why a file cannot be read as a message file (or no further).

    Attributes
    ----------
    code : str
        Rule code: ``FILE``, ``FILE-KIND``, ``FILE-SIZE``, ``FILE-BOM`` or ``ENVELOPE``.
    path : str
        JSON path where reading stopped (``$`` for the file, ``$[i]`` for an item).
    message : str
        One line saying what is wrong.
    """

    code: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.code}]"


def max_file_bytes(max_gb: float | None = None) -> int:
    """The file size limit [bytes]: ``max_gb``, else ``$MHHS_WORKBENCH_VALIDATE_MAX_GB``, else
    :data:`DEFAULT_MAX_FILE_GB`.

    Raises
    ------
    ValueError
        If the variable is set to something that is not a positive number.
    """
    if max_gb is None:
        text = os.environ.get(MAX_FILE_GB_ENV, "").strip()
        if text:
            try:
                max_gb = float(text)
            except ValueError:
                raise ValueError(f"{MAX_FILE_GB_ENV}={text!r} is not a number of GB") from None
        else:
            max_gb = DEFAULT_MAX_FILE_GB
    if not max_gb > 0:
        raise ValueError(f"the file size limit must be a positive number of GB, got {max_gb}")
    return int(max_gb * 1e9)


_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def open_message_file(path: Path, max_bytes: int) -> BinaryIO:
    """Open ``path`` for reading after checking that it is a regular file within the limit.

    Raises
    ------
    StreamError
        ``FILE-KIND`` for anything but a regular file, ``FILE-SIZE`` over ``max_bytes``,
        ``FILE`` when it cannot be read.
    """
    try:
        info = os.stat(path)  # before opening: opening a FIFO would wait for a writer
    except OSError as exc:
        raise StreamError("FILE", "$", f"cannot read file: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
        raise StreamError("FILE-KIND", "$", f"{kind}, not a regular file: not read")
    if info.st_size > max_bytes:
        raise StreamError(
            "FILE-SIZE",
            "$",
            f"{info.st_size:,} bytes, over the limit of {max_bytes:,} "
            f"(--max-file-gb or ${MAX_FILE_GB_ENV})",
        )
    try:
        handle = open(path, "rb", buffering=0)  # noqa: SIM115 - the caller closes it
    except OSError as exc:
        raise StreamError("FILE", "$", f"cannot read file: {exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # replaced since the check
        handle.close()
        raise StreamError("FILE-KIND", "$", "not a regular file: not read")
    return handle


def _encoding_problem(head: bytes) -> StreamError | None:
    if head.startswith(_BOM_UTF8):
        return StreamError(
            "FILE-BOM", "$", "starts with a UTF-8 byte order mark (EF BB BF); JSON must not"
        )
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(head) > 1 and 0 in head[:4]):
        return StreamError("FILE", "$", "not UTF-8 (looks like UTF-16 or UTF-32): JSON must be UTF-8")
    return None


def _json_kind(first: int) -> str:
    return {ord("{"): "object", ord('"'): "string", ord("t"): "boolean", ord("f"): "boolean",
            ord("n"): "null"}.get(first, "number")


def _parse_error(index: int, exc: Exception) -> StreamError:
    return StreamError("FILE", f"$[{index}]", f"not valid JSON: {exc}")


def iter_items(handle: BinaryIO, *, max_item_bytes: int = MAX_ITEM_BYTES,
               block_bytes: int = BLOCK_BYTES) -> Iterator[tuple[bytes, Any]]:
    """Each item of the top-level array in ``handle``: its bytes and its parsed value.

    Parameters
    ----------
    handle : binary file
        Open at its start.
    max_item_bytes : int
        Largest item read [bytes]; a larger one stops the file with ``FILE-SIZE``.
    block_bytes : int
        Bytes read at a time.

    Yields
    ------
    (bytes, Any)
        The item's JSON text and its value (orjson's: the last of duplicate keys wins).

    Raises
    ------
    StreamError
        When the file is not UTF-8 JSON, not an array, or an item is over the limit: raised
        where reading stops, after the items before it were yielded.
    """
    reader = _Blocks(handle, block_bytes)
    head = reader.peek()
    problem = _encoding_problem(head)
    if problem is not None:
        raise problem
    start = reader.skip_whitespace()
    if start is None:
        raise StreamError("FILE", "$", "not valid JSON: the file is empty or only whitespace")
    if start != ord("["):
        rest = reader.read_all(max_item_bytes)
        try:
            orjson.loads(rest)
        except orjson.JSONDecodeError as exc:
            raise StreamError("FILE", "$", f"not valid JSON: {exc}") from None
        raise StreamError(
            "ENVELOPE", "$", f"expected a JSON array of messages, found a JSON {_json_kind(start)}"
        )
    reader.advance(1)
    index = yield from _fast_items(reader, max_item_bytes)
    yield from _exact_items(reader, index, max_item_bytes)


class _Blocks:
    """A read buffer: ``data`` from ``pos`` on is unread; refilled a block at a time."""

    def __init__(self, handle: BinaryIO, block_bytes: int) -> None:
        self.handle = handle
        self.block_bytes = block_bytes
        self.data = b""
        self.pos = 0
        self.eof = False

    def more(self) -> bool:
        """Read one more block onto the unread bytes; ``False`` at the end of the file."""
        if self.eof:
            return False
        block = self.handle.read(self.block_bytes)
        if not block:
            self.eof = True
            return False
        self.data = self.data[self.pos :] + block
        self.pos = 0
        return True

    def peek(self) -> bytes:
        while len(self.data) - self.pos < 4 and self.more():
            pass
        return self.data[self.pos : self.pos + 4]

    def skip_whitespace(self) -> int | None:
        """Move past whitespace; the next byte, or ``None`` at the end."""
        while True:
            stripped = self.data[self.pos :].lstrip(_WHITESPACE)
            self.pos = len(self.data) - len(stripped)
            if stripped:
                return stripped[0]
            if not self.more():
                return None

    def advance(self, n: int) -> None:
        self.pos += n

    def read_all(self, limit: int) -> bytes:
        while len(self.data) - self.pos <= limit and self.more():
            pass
        if len(self.data) - self.pos > limit:
            raise StreamError("FILE-SIZE", "$", f"the JSON value is over {limit:,} bytes")
        return self.data[self.pos :]


def _fast_items(reader: _Blocks, max_item_bytes: int) -> Iterator[tuple[bytes, Any]]:
    """Items of the compact layout, from just after ``[``; returns the count yielded.

    Stops, leaving the reader at the first item it could not take (so at depth 1, outside any
    string), as soon as the layout is anything else.
    """
    index = 0
    if reader.skip_whitespace() is None or not reader.data.startswith(_ITEM_START, reader.pos):
        return index
    while True:
        data, pos = reader.data, reader.pos
        nxt = data.find(_ITEM_START, pos + 1)
        if nxt < 0:
            if reader.more():
                if len(reader.data) > max_item_bytes + reader.block_bytes:
                    return index  # the exact splitter reports the size
                continue
            piece = data[pos:].rstrip(_WHITESPACE)
            if not piece.endswith(b"]"):
                return index
            piece = piece[:-1].rstrip(_WHITESPACE)
            end = len(data)
        else:
            piece = data[pos:nxt].rstrip(_WHITESPACE)
            if not piece.endswith(b","):
                return index
            piece = piece[:-1].rstrip(_WHITESPACE)
            end = nxt
        if len(piece) > max_item_bytes:
            return index
        try:
            value = orjson.loads(piece)
        except orjson.JSONDecodeError:
            return index  # a nested "payload" key, or broken JSON: the exact splitter decides
        yield piece, value
        index += 1
        reader.pos = end
        if nxt < 0:
            reader.eof = True
            reader.data, reader.pos = b"", 0
            return -1


_OPEN = np.zeros(256, dtype=np.int8)
_OPEN[[ord("["), ord("{")]] = 1
_OPEN[[ord("]"), ord("}")]] = -1
_STRUCTURAL = np.zeros(256, dtype=bool)
_STRUCTURAL[[ord(c) for c in "[]{},"]] = True


class _Scanner:
    """Nesting depth and string state carried from one block to the next."""

    def __init__(self) -> None:
        self.in_string = False
        # the block read last ended in an odd run of backslashes: the next byte is escaped
        self.escaped = False
        self.depth = 1  # inside the top-level array

    def boundaries(self, block: bytes) -> tuple[np.ndarray, np.ndarray]:
        """Offsets in ``block`` of top-level commas, and of the array's closing bracket."""
        a = np.frombuffer(block, dtype=np.uint8)
        quotes = a == ord('"')
        backslashes = np.flatnonzero(a == ord("\\"))
        carried, self.escaped = self.escaped, False
        if carried:
            quotes[0] = False
        if backslashes.size:
            # runs of backslashes: an odd run escapes the byte after it; a run carried over
            # from the last block counts one more
            breaks = np.flatnonzero(np.diff(backslashes) != 1)
            starts = backslashes[np.r_[0, breaks + 1]]
            ends = backslashes[np.r_[breaks, backslashes.size - 1]]
            lengths = ends - starts + 1
            if carried and starts[0] == 0:
                lengths[0] += 1
            after = ends[lengths % 2 == 1] + 1
            if after.size and after[-1] == a.size:
                self.escaped = True
                after = after[:-1]
            quotes[after] = False
        quote_at = np.flatnonzero(quotes)
        marks = np.flatnonzero(_STRUCTURAL[a])
        inside = (np.searchsorted(quote_at, marks) + self.in_string) % 2 == 1
        marks = marks[~inside]
        if quote_at.size % 2:
            self.in_string = not self.in_string
        steps = _OPEN[a[marks]]
        depth = self.depth + np.cumsum(steps, dtype=np.int64)
        if depth.size:
            self.depth = int(depth[-1])
        commas = marks[(steps == 0) & (depth == 1)]
        closing = marks[(steps == -1) & (depth <= 0)]
        return commas, closing


def _exact_items(reader: _Blocks, index: int, max_item_bytes: int
                 ) -> Iterator[tuple[bytes, Any]]:
    """Items from the reader's position (depth 1, outside strings), any layout."""
    if index < 0:
        return
    scanner = _Scanner()
    pending: list[bytes] = []
    pending_bytes = 0
    block = reader.data[reader.pos :]
    reader.data, reader.pos = b"", 0
    closed = False
    while True:
        if not block:
            if not reader.more():
                break
            block, reader.data = reader.data, b""
        if closed:
            if block.strip(_WHITESPACE):
                raise StreamError(
                    "FILE", f"$[{index}]", "not valid JSON: data after the end of the array"
                )
            block = b""
            continue
        commas, closing = scanner.boundaries(block)
        cuts = list(commas)
        if closing.size:
            end = int(closing[0])
            cuts = [c for c in cuts if c < end] + [end]
        start = 0
        for cut in cuts:
            pending.append(block[start:cut])
            piece = b"".join(pending).strip(_WHITESPACE)
            pending, pending_bytes = [], 0
            start = cut + 1
            if not piece and cut == cuts[-1] and closing.size and index == 0:
                break  # "[]": no items
            try:
                value = orjson.loads(piece)
            except orjson.JSONDecodeError as exc:
                raise _parse_error(index, exc) from None
            yield piece, value
            index += 1
        if closing.size:
            closed = True
            rest = block[int(closing[0]) + 1 :]
            if rest.strip(_WHITESPACE):
                raise StreamError(
                    "FILE", f"$[{index}]", "not valid JSON: data after the end of the array"
                )
            block = b""
            continue
        pending.append(block[start:])
        pending_bytes += len(block) - start
        if pending_bytes > max_item_bytes:
            raise StreamError(
                "FILE-SIZE", f"$[{index}]", f"item is over the limit of {max_item_bytes:,} bytes"
            )
        block = b""
    if not closed:
        tail = b"".join(pending).strip(_WHITESPACE)
        where = f"$[{index}]"
        if tail:
            try:
                orjson.loads(tail)
            except orjson.JSONDecodeError as exc:
                raise _parse_error(index, exc) from None
        raise StreamError("FILE", where, "not valid JSON: the array is not closed (file cut short?)")


def duplicate_keys(text: bytes, value: Any) -> list[tuple[str, str]]:
    """Duplicate keys in the JSON ``text`` whose parsed value is ``value``.

    A cheap check first: every key is followed by one ``:`` outside strings, and orjson writes
    each key it kept once, so when re-serialising loses no ``:`` (counting escaped ones) no key
    was dropped. Only when the counts differ is ``text`` parsed again, exactly, key by key.

    Returns
    -------
    list of (str, str)
        ``(json_path, key)`` of each repeated key, path relative to the value (``$...``).
    """
    count = text.count(b":")
    if b"\\u" in text:  # rare: a colon may hide behind an escape
        count += text.count(b"\\u003a") + text.count(b"\\u003A")
    if count == orjson.dumps(value).count(b":"):
        return []
    found: list[tuple[str, str]] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen:
                found.append(("", key))
            seen.add(key)
        return _Pairs(items)

    try:
        tree = json.loads(text, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return found
    if not found:
        return []
    located: list[tuple[str, str]] = []
    _locate(tree, "$", located)
    return located


class _Pairs(dict):  # type: ignore[type-arg]
    """A parsed object that remembers its key/value pairs, repeats included."""

    def __init__(self, items: list[tuple[str, Any]]) -> None:
        super().__init__(items)
        self.items_list = items


def _locate(node: Any, path: str, out: list[tuple[str, str]]) -> None:
    if isinstance(node, _Pairs):
        seen: set[str] = set()
        for key, child in node.items_list:
            if key in seen:
                out.append((path, key))
            seen.add(key)
            _locate(child, f"{path}.{key}" if key.isidentifier() else f"{path}[{key!r}]", out)
    elif isinstance(node, list):
        for i, child in enumerate(node):
            _locate(child, f"{path}[{i}]", out)
