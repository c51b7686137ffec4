"""One CSV or Parquet file read through the checks, block by block.

:func:`read_file` looks at the first bytes and the header, then streams a CSV's rows through
``pyarrow.csv.open_csv`` (every column as raw bytes), or a Parquet file's batches turned into the
same bytes, into :class:`~mhhs_workbench.csv_input.block.Block` checks.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from mhhs_workbench.csv_input.block import Block
from mhhs_workbench.csv_input.files import (
    BLOCK_BYTES,
    MAX_COLUMNS,
    MAX_HEADER_BYTES,
    binary_kind,
    read_bytes,
)
from mhhs_workbench.csv_input.layout import Spec
from mhhs_workbench.csv_input.problems import MAX_REPORTED, LineMap, Problems
from mhhs_workbench.csv_input.state import State


def read_file(path: Path, file: int, state: State, counted: Callable[[int], None]) -> None:
    """Check one file's header and read its rows into ``state``."""
    problems = state.problems
    head = read_bytes(path, file, problems, MAX_HEADER_BYTES)
    if head is None:
        return
    if head.startswith(b"PAR1"):
        _read_parquet(path, file, state)
        return
    kind = binary_kind(head)
    if kind:
        problems.add_line(file, 1, "file", head[:16], kind)
        return
    header, first = _header(head, file, problems)
    if header is None:
        return
    spec = Spec.from_header(header, file, state, first)
    if spec is not None:
        _read_csv(path, file, spec, state, counted)


def _header(head: bytes, file: int, problems: Problems) -> tuple[list[str] | None, bytes]:
    """The header's cells and its line, or ``(None, line)`` after reporting one problem with it."""
    lines = re.split(rb"\r\n|\r|\n", head, maxsplit=1)  # pyarrow ends lines at any of them
    first = lines[0]
    if not head.replace(b"\xef\xbb\xbf", b"").strip(b" \t\r\n,"):
        problems.add_line(file, 1, "header", first,
                          "the file is empty: expected a header such as mpan,timestamp,kwh")
        return None, first
    if len(lines) == 1 and len(head) >= MAX_HEADER_BYTES:
        problems.add_line(file, 1, "header", first,
                          f"the header line is longer than {MAX_HEADER_BYTES:,} bytes, the longest "
                          "read (a valid header is under 1,000): is this a consumption CSV?")
        return None, first
    try:
        header = [c.strip() for c in next(csv.reader([first.decode("utf-8-sig")]), [])]
    except UnicodeDecodeError:
        problems.add_line(file, 1, "header", first, "not UTF-8 text: save the file as CSV UTF-8")
        return None, first
    except csv.Error as exc:
        problems.add_line(file, 1, "header", first, f"not a CSV header ({exc})")
        return None, first
    if len(header) > MAX_COLUMNS:
        problems.add_line(file, 1, "header", first,
                          f"{len(header):,} columns, more than the {MAX_COLUMNS:,} a header may have "
                          "(a valid one has at most 66): is this a consumption CSV?")
        return None, first
    return header, first


def _read_csv(path: Path, file: int, spec: Spec, state: State, counted: Callable[[int], None]) -> None:
    """Stream a CSV's rows through the checks, block by block."""
    problems = state.problems
    skipped: list[int] = []
    ragged: list[tuple[int, int, str]] = []
    record_breaks: list[tuple[int, int]] = []
    row_breaks: list[tuple[int, int]] = []

    def on_ragged(row: Any) -> str:
        # pyarrow hands over rows whose cell count differs from the header's; keep their record
        # number so the other rows' lines stay right
        text = row.text or ""
        skipped.append(row.number)
        if "\n" in text:
            record_breaks.append((row.number, text.count("\n")))
        if text.strip(" ,\r\n"):
            ragged.append((row.number, row.actual_columns, text))
        return "skip"

    parsed, rows_before = 0, state.rows
    failed: Exception | None = None
    try:
        # an Arrow file, not a Python one: Arrow reads ahead on its own threads, and a thread
        # calling back into Python while the interpreter exits aborts the process
        with pa.OSFile(str(path), "rb") as source:
            reader = pacsv.open_csv(
                source,
                # our own column names: the header was read (and stripped, BOM and all) above
                read_options=pacsv.ReadOptions(use_threads=False, block_size=BLOCK_BYTES,
                                               column_names=spec.written, skip_rows=1),
                parse_options=pacsv.ParseOptions(invalid_row_handler=on_ragged, ignore_empty_lines=False,
                                                 newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(column_types=spec.column_types(),
                                                     include_columns=list(spec.raw.values()),
                                                     strings_can_be_null=False,
                                                     quoted_strings_can_be_null=False),
            )
            done = 0
            with reader:  # closed before its file
                for batch in reader:
                    block = Block(batch, file, parsed, spec, state)
                    block.process()
                    row_breaks.extend(block.breaks)
                    problems.end_block(file)
                    parsed += batch.num_rows
                    position = source.tell()
                    counted(position - done)
                    done = position
    except (pa.ArrowException, OSError) as exc:
        failed = exc
    lines = LineMap(skipped, record_breaks, row_breaks)
    problems.resolve_file(file, lines)
    if failed is not None:
        _read_failed(failed, path, file, problems, int(lines.line_of(np.array([parsed]))[0]))
    for record, cells, text in ragged[:MAX_REPORTED]:
        line = int(lines.line_of_record(np.array([record]))[0])
        problems.add_line(file, line, "row", text.rstrip("\r\n"),
                          f"{cells} cells, the header has {len(spec.written)}")
    problems.total += max(0, len(ragged) - MAX_REPORTED)
    if state.rows == rows_before and not ragged and failed is None:
        problems.add_line(file, 2, "row", "", "no data rows after the header")


def _read_failed(exc: Exception, path: Path, file: int, problems: Problems, line: int) -> None:
    """Report why pyarrow stopped reading a CSV; ``line`` is where the first unread row starts."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "straddl" in text:  # pyarrow: "straddling object straddles two block boundaries"
        problems.add_line(file, line, "row", _line_start(path, line),
                          f"a row longer than the read block of {BLOCK_BYTES:,} bytes "
                          f"({BLOCK_BYTES >> 20} MiB) cannot be read; is a quote left open?")
    else:
        problems.add_file(file, f"cannot be read as CSV ({text[:200]})")


def _read_parquet(path: Path, file: int, state: State) -> None:
    """Read a Parquet file (e.g. a data set's consumption table) through the same checks."""
    problems = state.problems
    problems.lines[file] = LineMap(parquet=True)
    try:
        parquet = pq.ParquetFile(path)
        header = list(parquet.schema_arrow.names)
        spec = Spec.from_header(header, file, state, ",".join(header).encode())
        if spec is None:
            return
        rows = 0
        for batch in parquet.iter_batches(batch_size=1 << 16, columns=list(spec.raw.values())):
            Block(_as_text_batch(batch, spec), file, rows, spec, state).process()
            problems.end_block(file)
            rows += batch.num_rows
    except (pa.ArrowException, OSError, ValueError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        problems.add_file(file, f"cannot be read as Parquet ({text[:200]})")
        return
    finally:
        problems.resolve_file(file, LineMap(parquet=True))
    if rows == 0:
        problems.add_file(file, "no data rows")


def _as_text_batch(batch: pa.RecordBatch, spec: Spec) -> pa.RecordBatch:
    """A Parquet batch as the CSV reader gives it: every column as bytes.

    Timestamps become ISO text with ``+00:00`` when they carry a time zone (naive ones without,
    which the checks refuse); numbers their shortest decimal text, so a float that is not a whole
    number of Wh is caught rather than rounded.
    """
    types = spec.column_types()
    arrays = [_column_as_text(batch.column(i), types[name]) for i, name in enumerate(batch.schema.names)]
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def _column_as_text(column: pa.Array, target: pa.DataType) -> pa.Array:
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if pa.types.is_timestamp(column.type):
        encoded = pc.dictionary_encode(column)
        column = pa.DictionaryArray.from_arrays(encoded.indices, _timestamp_text(encoded.dictionary))
        column = column.dictionary_decode()
    elif not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
              or pa.types.is_binary(column.type)):
        column = pc.cast(column, pa.string())
    column = pc.fill_null(pc.cast(column, pa.binary()), b"")
    return pc.dictionary_encode(column) if pa.types.is_dictionary(target) else column


def _timestamp_text(values: pa.Array) -> pa.Array:
    """ISO 8601 text of timestamps (seconds, fractions only when there are any)."""
    unit = values.type.unit
    ticks = pc.fill_null(values.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
    text = np.datetime_as_string(ticks.astype(f"datetime64[{unit}]"), unit=unit).tolist()
    text = [t.rstrip("0").rstrip(".") if "." in t else t for t in text]
    suffix = "+00:00" if values.type.tz is not None else ""
    return pa.array([t + suffix for t in text], pa.string())


def _line_start(path: Path, line: int) -> bytes:
    """The first bytes of a physical line of a file (lines counted by their ``\\n``)."""
    try:
        with path.open("rb") as fh:
            to_skip, block = line - 1, b""
            while to_skip > 0:
                block = fh.read(BLOCK_BYTES)
                if not block:
                    return b""
                found = block.count(b"\n")
                if found < to_skip:
                    to_skip -= found
                    continue
                at = -1
                for _ in range(to_skip):
                    at = block.index(b"\n", at + 1)
                block, to_skip = block[at + 1:], 0
            start = block[:256]
            start += fh.read(256 - len(start))
    except OSError:
        return b""
    return start.split(b"\n", 1)[0].rstrip(b"\r")
