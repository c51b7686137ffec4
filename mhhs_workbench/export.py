"""Writers, manifest and atomic publication of a data set.

A data set is written into a hidden sibling folder (``.NAME.partial-PID-XXXX``), its manifest of
sha256 checksums written last, and the folder renamed into place in one step. A run that dies
leaves only the hidden folder, which never looks like a data set and is cleared by the next run.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .messages.common import join_items, request_item

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "mhhs-workbench data set"
MANIFEST_VERSION = 1


class PublicationError(RuntimeError):
    """A data set cannot be published where asked."""


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
            self._csv = path.open("w", encoding="utf-8", newline="\n")
            self._csv.write(",".join(schema.names) + "\n")
            self.paths.append(path)

    def write(self, columns: dict[str, Any], csv_columns: dict[str, list[str]] | None = None) -> None:
        """Append rows given as columns (arrays); ``csv_columns`` overrides text of some columns."""
        table = pa.table(columns, schema=self.schema)
        self.rows += table.num_rows
        if self._parquet is not None:
            self._buffer.append(table)
            self._buffered += table.num_rows
            while self._buffered >= self.row_group_rows:
                self._write_group(self.row_group_rows)
        if self._csv is not None and table.num_rows:
            self._csv.write(_csv_text(table, csv_columns or {}))

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


def _csv_text(table: pa.Table, overrides: dict[str, list[str]]) -> str:
    """CSV lines for a table (no header): plain values, empty for null, overrides used verbatim."""
    for name, text in overrides.items():
        i = table.column_names.index(name)
        table = table.set_column(i, name, pa.array(text, type=pa.string()))
    sink = io.BytesIO()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return sink.getvalue().decode("utf-8")


def write_table(folder: Path, name: str, columns: dict[str, Any], schema: pa.Schema, *, parquet: bool, csv: bool,
                csv_columns: dict[str, list[str]] | None = None) -> list[Path]:
    """Write a whole table at once; see :class:`TableWriter`."""
    writer = TableWriter(folder, name, schema, parquet=parquet, csv=csv)
    writer.write(columns, csv_columns)
    return writer.close()


# ---------------------------------------------------------------------- manifest


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build_manifest(root: Path, header: dict[str, Any]) -> dict[str, Any]:
    """Manifest of every file under ``root`` (but the manifest): path, size [bytes], sha256."""
    files = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST):
        rel = path.relative_to(root).as_posix()
        files.append({"path": rel, "bytes": path.stat().st_size, "sha256": sha256_file(path)})
    return {"format": MANIFEST_FORMAT, "manifest_version": MANIFEST_VERSION, **header, "files": files}


def write_manifest(root: Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest.json`` durably (it is the mark of a complete data set)."""
    path = root / MANIFEST
    data = orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return path


def verify(root: str | os.PathLike[str]) -> list[str]:
    """Re-check a published data set against its manifest.

    Returns
    -------
    list of str
        One line per problem (missing, changed, resized or unlisted file); empty when intact.
    """
    root = Path(root)
    path = root / MANIFEST
    if not path.is_file():
        return [f"{root}: no {MANIFEST}: not a complete data set"]
    try:
        manifest = orjson.loads(path.read_bytes())
        listed = {f["path"]: f for f in manifest["files"]}
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        return [f"{path}: unreadable manifest ({exc})"]
    problems = []
    for rel, entry in listed.items():
        file = root / rel
        if not file.is_file():
            problems.append(f"{rel}: missing")
        elif file.stat().st_size != entry["bytes"]:
            problems.append(f"{rel}: size {file.stat().st_size} bytes, manifest says {entry['bytes']}")
        elif sha256_file(file) != entry["sha256"]:
            problems.append(f"{rel}: sha256 differs from the manifest (file changed)")
    for file in sorted(p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST):
        if file.relative_to(root).as_posix() not in listed:
            problems.append(f"{file.relative_to(root).as_posix()}: not in the manifest")
    return problems


# ---------------------------------------------------------------------- publication


class Publication:
    """Write a data set into a hidden staging folder and rename it into place when complete.

    Use as a context manager: the body writes into :attr:`staging`; :meth:`publish` writes the
    manifest last and renames. If the body raises, the staging folder is removed.
    """

    PARTIAL = ".partial-"
    REPLACED = ".replaced-"

    def __init__(self, target: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        self.target = Path(target).absolute()
        self.overwrite = overwrite
        self.staging: Path | None = None
        self.published = False

    def __enter__(self) -> Publication:
        if self.target.exists():
            if not self.overwrite:
                raise PublicationError(
                    f"{self.target} already exists; choose another --out or pass --overwrite to replace it"
                )
            if not (is_dataset(self.target) or _is_empty_dir(self.target)):
                # --overwrite replaces data sets, never a folder of someone's other files
                raise PublicationError(
                    f"{self.target} is not a data set (no {MANIFEST} of this tool) and not empty; "
                    "refusing to replace it"
                )
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self._clear_stale()
        prefix = f".{self.target.name}{self.PARTIAL}{os.getpid()}-"
        self.staging = Path(tempfile.mkdtemp(prefix=prefix, dir=self.target.parent))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.staging, 0o777 & ~umask)  # mkdtemp makes it private; a data set is shared
        return self

    def publish(self, header: dict[str, Any]) -> dict[str, Any]:
        """Checksum everything, write the manifest last, rename into place; return the manifest."""
        assert self.staging is not None
        manifest = build_manifest(self.staging, header)
        write_manifest(self.staging, manifest)
        old = None
        if self.target.exists():
            old = self.target.with_name(f".{self.target.name}{self.REPLACED}{os.getpid()}")
            os.replace(self.target, old)
        os.replace(self.staging, self.target)
        self.published = True
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return manifest

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self.published and self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)

    def _clear_stale(self) -> None:
        """Remove staging and replaced folders of runs of this target whose process is gone."""
        for marker in (self.PARTIAL, self.REPLACED):
            for path in self.target.parent.glob(f".{self.target.name}{marker}*"):
                try:
                    pid = int(path.name.rsplit(marker, 1)[1].split("-")[0])
                except ValueError:
                    continue
                if not _process_alive(pid):
                    shutil.rmtree(path, ignore_errors=True)


def is_dataset(folder: Path) -> bool:
    """Whether ``folder`` holds a data set published by this tool (judged by its manifest)."""
    try:
        manifest = orjson.loads((folder / MANIFEST).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(manifest, dict) and manifest.get("format") == MANIFEST_FORMAT


def _is_empty_dir(folder: Path) -> bool:
    return folder.is_dir() and not any(folder.iterdir())


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
