"""Writers of a data set's files: DIP request-body message files and tables (Parquet and CSV)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from mhhs_workbench.messages.common import join_items, request_item

# ---------------------------------------------------------------------- message files


class MessageFileWriter:
    """Streams payloads of one interface into numbered DIP request-body files.

    Files hold ``per_file`` messages each (the last may hold fewer) and are named
    ``<interface>_<nnnnnn>.json``, so the same payloads always give the same files whatever the
    size of the chunks they arrive in.
    """

    def __init__(self, folder: Path, interface_id: str, per_file: int) -> None:
        self.folder = folder
        self.interface_id = interface_id
        self.per_file = per_file
        self.pending: list[bytes] = []
        self.files: list[Path] = []
        self.messages = 0

    def add(self, payload: dict[str, Any]) -> None:
        """Queue one payload; writes a file whenever ``per_file`` are queued."""
        self.pending.append(request_item(payload))
        self.messages += 1
        if len(self.pending) == self.per_file:
            self._flush()

    def close(self) -> list[Path]:
        """Write any queued payloads and return the files written."""
        if self.pending:
            self._flush()
        return self.files

    def _flush(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self.interface_id}_{len(self.files) + 1:06d}.json"
        path.write_bytes(join_items(self.pending))
        self.files.append(path)
        self.pending = []


# ---------------------------------------------------------------------- tables


#: Rows turned into CSV text at once.
CSV_SLICE_ROWS = 262_144


class TableWriter:
    """Writes one table as Parquet and/or CSV from chunks, byte-identically whatever the chunking.

    Parquet row groups hold exactly ``row_group_rows`` rows (the last fewer), so the file does not
    depend on how rows arrived; CSV text is appended chunk by chunk after one header.
    """

    def __init__(
        self,
        folder: Path,
        name: str,
        schema: pa.Schema,
        *,
        parquet: bool,
        csv: bool,
        row_group_rows: int = 262_144,
    ) -> None:
        self.schema = schema
        self.row_group_rows = row_group_rows
        self.rows = 0
        folder.mkdir(parents=True, exist_ok=True)
        self.paths: list[Path] = []
        self._buffer: list[pa.Table] = []
        self._buffered = 0
        self._parquet = None
        self._csv = None
        if parquet:
            path = folder / f"{name}.parquet"
            self._parquet = pq.ParquetWriter(path, schema, compression="zstd")
            self.paths.append(path)
        if csv:
            path = folder / f"{name}.csv"
            self._csv = path.open("wb")
            self._csv.write((",".join(schema.names) + "\n").encode())
            self.paths.append(path)

    def write(self, columns: dict[str, Any], csv_columns: dict[str, Any] | None = None) -> None:
        """Append rows given as columns (arrays); ``csv_columns`` overrides text of some columns."""
        table = pa.table(columns, schema=self.schema)
        self.rows += table.num_rows
        if self._parquet is not None:
            self._buffer.append(table)
            self._buffered += table.num_rows
            while self._buffered >= self.row_group_rows:
                self._write_group(self.row_group_rows)
        if self._csv is not None:
            # in slices: the text of a large table is several times its Arrow size
            for start in range(0, table.num_rows, CSV_SLICE_ROWS):
                part = {name: text[start : start + CSV_SLICE_ROWS] for name, text in (csv_columns or {}).items()}
                self._csv.write(_csv_text(table.slice(start, CSV_SLICE_ROWS), part))

    def _write_group(self, n: int) -> None:
        merged = pa.concat_tables(self._buffer).combine_chunks()
        self._parquet.write_table(merged.slice(0, n), row_group_size=n)
        rest = merged.slice(n)
        self._buffer = [rest] if rest.num_rows else []
        self._buffered = rest.num_rows

    def close(self) -> list[Path]:
        """Finish the files and return their paths."""
        if self._parquet is not None:
            if self._buffered:
                self._write_group(self._buffered)
            self._parquet.close()
        if self._csv is not None:
            self._csv.close()
        return self.paths


def _csv_text(table: pa.Table, overrides: dict[str, Any]) -> bytes:
    """CSV lines for a table (no header): plain values, empty for null, overrides used verbatim."""
    for name, text in overrides.items():
        i = table.column_names.index(name)
        table = table.set_column(i, name, pa.array(text, type=pa.string()))
    sink = io.BytesIO()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return sink.getvalue()


def write_table(folder: Path, name: str, columns: dict[str, Any], schema: pa.Schema, *, parquet: bool, csv: bool,
                csv_columns: dict[str, list[str]] | None = None) -> list[Path]:
    """Write a whole table at once; see :class:`TableWriter`."""
    writer = TableWriter(folder, name, schema, parquet=parquet, csv=csv)
    writer.write(columns, csv_columns)
    return writer.close()
