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
from mhhs_workbench.csv_input.files import BLOCK_BYTES, binary_kind, read_bytes
from mhhs_workbench.csv_input.layout import Spec
from mhhs_workbench.csv_input.problems import MAX_REPORTED, LineMap
from mhhs_workbench.csv_input.state import State


def read_file(path: Path, file: int, state: State, counted: Callable[[int], None]) -> None:
    """Check one file's header and read its rows into ``state``."""
    problems = state.problems
    head = read_bytes(path, file, problems, 1 << 16)
    if head is None:
        return
    if head.startswith(b"PAR1"):
        _read_parquet(path, file, state)
        return
    kind = binary_kind(head)
    if kind:
        problems.add_line(file, 1, "file", head[:16], kind)
        return
    first = re.split(rb"\r\n|\r|\n", head, maxsplit=1)[0]  # pyarrow ends lines at any of them
    if not head.replace(b"\xef\xbb\xbf", b"").strip(b" \t\r\n,"):
        problems.add_line(file, 1, "header", first,
                          "the file is empty: expected a header such as mpan,timestamp,kwh")
        return
    try:
        header = [c.strip() for c in next(csv.reader([first.decode("utf-8-sig")]), [])]
    except UnicodeDecodeError:
        problems.add_line(file, 1, "header", first, "not UTF-8 text: save the file as CSV UTF-8")
        return
    except csv.Error as exc:
        problems.add_line(file, 1, "header", first, f"not a CSV header ({exc})")
        return
    spec = Spec.from_header(header, file, state, first)
    if spec is not None:
        _read_csv(path, file, spec, state, counted)


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
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        problems.add_file(file, f"cannot be read as CSV ({text[:200]})")
    lines = LineMap(skipped, record_breaks, row_breaks)
    problems.resolve_file(file, lines)
    for record, cells, text in ragged[:MAX_REPORTED]:
        line = int(lines.line_of_record(np.array([record]))[0])
        problems.add_line(file, line, "row", text.rstrip("\r\n"),
                          f"{cells} cells, the header has {len(spec.written)}")
    problems.total += max(0, len(ragged) - MAX_REPORTED)
    if state.rows == rows_before and not ragged:
        problems.add_line(file, 2, "row", "", "no data rows after the header")


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
