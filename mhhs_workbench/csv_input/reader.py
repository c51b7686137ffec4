"""Consumption from the user's CSV (or Parquet) files, checked and completed into whole UTC days.

The tool's second mode: a tester's own half-hourly values (a spreadsheet, a meter-data export, a
data set's own ``tables/consumption.csv``) become a
:class:`~mhhs_workbench.model.supplied.SuppliedConsumption`, which
:func:`mhhs_workbench.dataset.convert_csv` turns into IF-021 and IF-041 messages, tables and
aggregates.

Three layouts, told apart by the header (or forced with ``layout=``):

=======  =============================================  ===========================================
layout   columns                                        one row is
=======  =============================================  ===========================================
long     ``mpan,timestamp,kwh``                         a half hour; ``timestamp`` is its END,
                                                        ISO 8601 with an offset (``Z`` accepted)
local    ``mpan,settlement_date,settlement_period,kwh``  a local (Europe/London) settlement period,
                                                        1-46/48/50 as the day has
wide     ``mpan,settlement_date,p1,...,p50``            a local settlement day [kWh]; blank cells
                                                        beyond the day's periods
=======  =============================================  ===========================================

Optional in every layout: ``mqid`` (AI, AE, RI, RE; an MPAN is AI or AE, never both),
``quality`` and ``reason`` (the DIP's ``q`` and ``e``), ``meter_id``, ``connection_type`` (W, L,
H, U), ``gsp_group`` (needed for IDNO MPANs), ``register_start_kwh``; ``wh`` instead of ``kwh``. A data set's own consumption table
(``utc_period_end``, ``value_wh``, ...) reads as the long layout, its local columns cross-checked.

Everything is checked before anything is converted, and every problem is reported (up to
:data:`MAX_REPORTED`, then counted) as ``file:line: column: value: rule`` in a
:class:`CsvInputError`.

Values are read in blocks by ``pyarrow.csv.open_csv`` with every column as raw bytes (nothing is
guessed), checked column by column, and kept as dense integer arrays [Wh]: memory follows the
number of values, not the size of the text. Numbers are parsed as decimal text, never through
floating point.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import hashlib
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from mhhs_workbench.codes.identifiers import (
    GSP_GROUP_BY_DISTRIBUTOR,
    GSP_GROUPS,
    METER_SERIALS,
    mpan_check_digit,
    mpan_problem,
)
from mhhs_workbench.codes.messages import (
    ACTUAL_CODES,
    ESTIMATE_CODES,
    ESTIMATION_REASON_NAMES,
    ESTIMATION_REASONS,
    MEASUREMENT_QUANTITY_IDS,
    QUALITY_CODES,
    ZE_CODES,
)
from mhhs_workbench.codes.remedies import FRONTS, REMEDIES
from mhhs_workbench.model.identities import indexed_meter_serials, keyed_permutation
from mhhs_workbench.model.randomness import hash_counter, meter_keys
from mhhs_workbench.model.supplied import (
    INSTALL_DAY_COLUMN,
    INSTALLED_BEFORE,
    NO_REGISTER_START,
    REPORT_COLUMNS,
    SuppliedConsumption,
)
from mhhs_workbench.time.periods import LOCAL_TZ, format_utc, local_period_counts, local_to_utc

__all__ = [
    "DEFAULT_MAX_KWH",
    "LAYOUTS",
    "MAX_REPORTED",
    "CsvInput",
    "CsvInputError",
    "notes_frame",
    "pseudonymise_meter_ids",
    "pseudonymise_mpans",
    "read_csv_input",
    "read_supplied",
]

#: Layouts a file may have.
LAYOUTS: tuple[str, ...] = ("long", "local", "wide")
#: Problems worded in full; the rest are counted.
MAX_REPORTED = 50
#: Longest value echoed in a problem line [characters, quotes included].
MAX_ECHO = 80
#: Default ceiling on one half hour [kWh]: 10 MWh, beyond any single metering point.
DEFAULT_MAX_KWH = 10_000.0
#: Dates outside these years are refused (timestamps and settlement dates).
YEARS = (1990, 2099)

PERIODS = 48
_HALF_HOUR = 30  # [minutes]
#: Bytes pyarrow parses at a time: small enough to keep memory flat, large enough to be fast.
BLOCK_BYTES = 1 << 21
#: Most cells (series x half hours) a conversion may span [cells of 10 bytes], so MPANs whose
#: dates lie years apart cannot exhaust memory.
MAX_CELLS = 200_000_000

#: Columns any layout may carry, by canonical (lower-case) name.
OPTIONAL_COLUMNS = ("mqid", "quality", "reason", "meter_id", "connection_type", "gsp_group",
                    "register_start_kwh", "register_start_wh")
#: Other spellings accepted in headers (a data set's own consumption table uses these).
ALIASES = {"utc_period_end": "timestamp", "value_wh": "wh", "value_kwh": "kwh"}
_WIDE = tuple(f"p{k}" for k in range(1, 51))
_KNOWN = frozenset({"mpan", "timestamp", "kwh", "wh", "settlement_date", "settlement_period",
                    *OPTIONAL_COLUMNS, *_WIDE})
_REQUIRED = {"long": ("mpan", "timestamp"), "local": ("mpan", "settlement_date", "settlement_period"),
             "wide": ("mpan", "settlement_date", "p1")}
#: Connection types a CSV may give (DI-015): whole current (smart), LV/HV CT (advanced), unmetered.
CONNECTION_TYPES = ("W", "L", "H", "U")
#: Columns describing a meter rather than a half hour: one value per MPAN.
_ATTRIBUTES = ("meter_id", "connection_type", "gsp_group", "register_start")
_METER_ID_MAX = 10  # DIP meterID: at most 10 characters

# Half hours the user did not supply are estimated as a Data Service estimates missing data:
# reason 2 "Missing" (DI-076), and the DI-083 method used. E0 "single missing period" when one
# half hour is missing between two supplied ones (its value is their mean, as E0 describes); E5
# "previous daily advance" otherwise, because the value comes from the meter's own history (its
# mean for that half hour of the local day). E1 would claim an actual daily advance over the gap,
# which a CSV of half hours does not carry.
FILL_SINGLE = "E0"
FILL_HISTORY = "E5"
REASON_MISSING = int(next(c for c, name in ESTIMATION_REASON_NAMES.items() if name == "Missing"))

_Q_INDEX = {q: i for i, q in enumerate(QUALITY_CODES)}
_IS_ZE = np.isin(np.array(QUALITY_CODES), ZE_CODES)
_IS_ESTIMATE = np.isin(np.array(QUALITY_CODES), ESTIMATE_CODES)
_IS_ACTUAL = np.isin(np.array(QUALITY_CODES), ACTUAL_CODES)

# Whole-column patterns (RE2, run by pyarrow); cells that fail are diagnosed one by one.
_KWH_FAST = r"^[0-9]{1,15}(\.[0-9]{1,3}0*)?$"  # zeros after the third decimal lose nothing
_WH_FAST = r"^[0-9]{1,18}(\.0+)?$"
_NUMBER = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?")
_INSTANT = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
                      r"(Z|[+-]\d{2}:?\d{2})?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NO_DAY = np.iinfo(np.int64).min
_FIRST_MINUTE = int((datetime(YEARS[0], 1, 1, tzinfo=UTC) - _EPOCH).total_seconds() // 60)
_LAST_MINUTE = int((datetime(YEARS[1] + 1, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds() // 60)


def _rule(name: str) -> str:
    """A business rule of :mod:`mhhs_workbench.validation.checks` as quoted in problems: text [code].

    Imported on first use: validation pulls in jsonschema, which takes about a second to import,
    and valid input never needs it.
    """
    from mhhs_workbench.validation import checks as validation

    code = getattr(validation, name)
    return f"{validation.RULES[code].text} [{code}]"


class CsvInputError(ValueError):
    """The input breaks rules; nothing was converted.

    Attributes
    ----------
    problems : list of str
        One line per problem, ``file:line: column: value: rule``, at most :data:`MAX_REPORTED`,
        then ``... and N more problems`` when there were more.
    total : int
        Number of problems found.
    summary : str
        One line: how many problems, and that nothing was converted. ``str()`` of the error is
        this line followed by the problem lines.
    """

    def __init__(self, problems: list[str], total: int) -> None:
        self.problems = problems
        self.total = total
        plural = "s" if total != 1 else ""
        #: One line saying how many problems there were (the CLI's ``error:`` line).
        self.summary = f"{total} problem{plural} in the input; nothing was converted"
        super().__init__("\n".join([self.summary, *problems]))

    def worded(self, front: str) -> str:
        """The summary and problem lines with their advice in the words of ``front`` (see
        :mod:`mhhs_workbench.codes.remedies`)."""
        lines = []
        for line in self.problems:
            for key in ("fill_missing", "max_kwh"):
                line = line.replace(REMEDIES[key][0], REMEDIES[key][FRONTS.index(front)])
            lines.append(line)
        return "\n".join([self.summary, *lines])


@dataclass(frozen=True)
class CsvInput:
    """What :func:`read_csv_input` made of the user's files.

    Attributes
    ----------
    supplied : SuppliedConsumption
        The checked, complete consumption for :func:`mhhs_workbench.dataset.convert_csv`.
    mapping : pandas.DataFrame or None
        With pseudonymisation, the real identifier behind each pseudonym (columns ``kind``
        (``mpan`` or ``meter_id``), ``real``, ``pseudonym``). It re-identifies the data: keep it
        apart from the data set. ``None`` without pseudonymisation.
    rows : int
        Rows read (a wide row, one local day, counts once).
    values : int
        Half-hour values read.
    """

    supplied: SuppliedConsumption
    mapping: pd.DataFrame | None
    rows: int
    values: int


# =============================================================================================
# Entry points


def read_supplied(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], **options: Any
                  ) -> SuppliedConsumption:
    """The consumption of :func:`read_csv_input` alone (same parameters).

    Raises
    ------
    CsvInputError
        If the input breaks any rule; ``problems`` lists them.
    """
    return read_csv_input(paths, **options).supplied


def read_csv_input(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    layout: str | None = None,
    max_kwh: float = DEFAULT_MAX_KWH,
    fill_missing: bool = False,
    drop_incomplete_days: bool = False,
    pseudonymise_key: str | None = None,
    register_csv: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> CsvInput:
    """Read and check consumption files into whole UTC days of half-hourly values.

    Parameters
    ----------
    paths : path or sequence of paths
        CSV files (or Parquet files such as a data set's ``tables/consumption.parquet``), all of
        one layout (see the module notes).
    layout : {'long', 'local', 'wide'}, optional
        Force a layout instead of detecting it from the header.
    max_kwh : float
        Largest plausible value of one half hour [kWh]; larger ones are errors.
    fill_missing : bool
        Estimate half hours missing inside the data (``E0``/``E5``, reason 2, listed in
        ``notes``) instead of refusing them.
    drop_incomplete_days : bool
        Drop a first or last UTC day the data covers only in part, instead of completing it with
        estimates.
    pseudonymise_key : str, optional
        Replace MPANs and meter IDs by synthetic valid ones derived from this key (the mapping is
        returned in the result).
    register_csv : path, optional
        CSV of ``mpan,register_start_kwh``: each MPAN's register at the start of its first
        supplied half hour [kWh].
    progress : bool
        Show a progress bar over the bytes read.

    Returns
    -------
    CsvInput
        The consumption, the real -> pseudonym mapping (with ``pseudonymise_key``), and the
        numbers of rows and values read.

    Raises
    ------
    CsvInputError
        If the input breaks any rule.
    ValueError
        For arguments no input could satisfy (an unknown layout, ``max_kwh`` <= 0, ...).
    """
    files = [Path(p) for p in ([paths] if isinstance(paths, str | os.PathLike) else paths)]
    if not files:
        raise ValueError("no input files given")
    if layout is not None and layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if not (isinstance(max_kwh, int | float) and np.isfinite(max_kwh) and max_kwh > 0):
        raise ValueError(f"max_kwh must be a positive number [kWh], got {max_kwh!r}")
    if pseudonymise_key is not None and not str(pseudonymise_key):
        raise ValueError("the pseudonymisation key must not be empty")
    names = [str(p) for p in files] + ([str(register_csv)] if register_csv is not None else [])
    state = _State(_Problems(names), max_wh=int(Decimal(str(max_kwh)) * 1000), forced_layout=layout)
    with _progress(files, progress) as counted:
        for file, path in enumerate(files):
            _read_file(path, file, state, counted)
    state.check_meters()
    if register_csv is not None:
        state.read_register_csv(Path(register_csv), len(files))
    state.problems.raise_if_any()
    grid = _Grid.build(state, pseudonymise_key)
    state.problems.raise_if_any()
    # file names may hold real identifiers (exports named by MPAN): not kept when pseudonymising
    sources = names if pseudonymise_key is None else [f"input {i + 1} of {len(names)}" for i in range(len(names))]
    supplied = grid.complete(fill_missing=fill_missing, drop_incomplete_days=drop_incomplete_days,
                             sources=sources)
    state.problems.raise_if_any()
    return CsvInput(supplied, grid.mapping, state.rows, state.values)


#: Environment variable holding the pseudonymisation key (never a notebook parameter).
PSEUDONYMISE_KEY_ENV = "MHHS_WORKBENCH_PSEUDONYMISE_KEY"


def pseudonymisation_key(pseudonymise: bool) -> str | None:
    """The key from :data:`PSEUDONYMISE_KEY_ENV` when ``pseudonymise`` is asked for, else ``None``.

    Raises
    ------
    ValueError
        Pseudonymisation is asked for and the variable is unset or empty.
    """
    if not pseudonymise:
        return None
    key = os.environ.get(PSEUDONYMISE_KEY_ENV, "")
    if not key:
        raise ValueError(f"pseudonymisation needs a key in the environment variable {PSEUDONYMISE_KEY_ENV}")
    return key


def notes_frame(supplied: SuppliedConsumption) -> pd.DataFrame:
    """The conversion report (``supplied.notes``) as a table, one row per change made."""
    return pd.DataFrame(supplied.notes, columns=list(REPORT_COLUMNS))


# =============================================================================================
# Problems


@dataclass(order=True)
class _Entry:
    """One worded problem, sortable by file, line and column."""

    file: int
    line: int  # physical line (1 = header), Parquet row; 0 for the whole file
    column: int
    text: str = field(compare=False)


class _Problems:
    """Every problem found; the first :data:`MAX_REPORTED` in file and line order are worded.

    While a CSV is read its rows are known by their parsed-row number; their lines are final only
    once the whole file is parsed (ragged rows pyarrow skips and quoted line breaks shift them),
    so row problems wait in ``pending`` until :meth:`resolve_file`.
    """

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.entries: list[_Entry] = []
        self.total = 0
        self.pending: dict[int, list[tuple[int, int, str, Any, str]]] = {}
        self.kept_before_block: dict[int, int] = {}
        self.lines: dict[int, _LineMap] = {}

    def add_file(self, file: int, rule: str) -> None:
        """A problem of a whole file (missing, unreadable, ...)."""
        self.total += 1
        self.entries.append(_Entry(file, 0, 0, f"{self.names[file]}: {rule}"))

    def add_line(self, file: int, line: int, column: str, value: Any, rule: str, order: int = 0) -> None:
        """A problem at a known line."""
        self.total += 1
        self.entries.append(_Entry(file, line, order, self._format(file, line, column, value, rule)))

    def add_rows(self, file: int, rows: np.ndarray, column: str, order: int,
                 value_of: Callable[[int], Any], rule: str | Callable[[Any, int], str]) -> None:
        """Problems at parsed rows (ascending) of a file: all counted, the first worded.

        Once a file holds :data:`MAX_REPORTED` worded rows from earlier blocks, later rows can
        never be among the first reported, so they are only counted.
        """
        if not len(rows):
            return
        self.total += len(rows)
        if self.kept_before_block.get(file, 0) >= MAX_REPORTED:
            return
        bucket = self.pending.setdefault(file, [])
        for row in np.asarray(rows)[:MAX_REPORTED].tolist():
            value = value_of(row)
            bucket.append((row, order, column, value, rule(value, row) if callable(rule) else rule))

    def end_block(self, file: int) -> None:
        """Mark the end of a block: rows of later blocks come after every row so far."""
        self.kept_before_block[file] = len(self.pending.get(file, []))

    def resolve_file(self, file: int, lines: _LineMap) -> None:
        """Word a file's row problems with their lines, now that the lines are known."""
        self.lines[file] = lines
        bucket = self.pending.pop(file, [])
        if bucket:
            found = lines.line_of(np.array([b[0] for b in bucket], dtype=np.int64)).tolist()
            for (_, order, column, value, rule), line in zip(bucket, found, strict=True):
                self.entries.append(_Entry(file, line, order, self._format(file, line, column, value, rule)))

    def add_cell(self, file: int, row: int, column: str, value: Any, rule: str, order: int = 0) -> None:
        """A problem at a parsed row of a file already read."""
        line = int(self.line_of(file, row))
        self.add_line(file, line, column, value, rule, order)

    def line_of(self, file: int, row: int) -> int:
        """Line (Parquet: row) of a parsed row of a file already read."""
        return int(self.lines[file].line_of(np.array([row]))[0])

    def where(self, file: int, row: int) -> str:
        """``file:line`` of a parsed row, for pointing at it from another problem."""
        return f"{self.names[file]}:{self._position(file, self.line_of(file, row))}"

    def _position(self, file: int, line: int) -> str:
        lines = self.lines.get(file)
        return f"row {line}" if lines is not None and lines.parquet else str(line)

    def _format(self, file: int, line: int, column: str, value: Any, rule: str) -> str:
        return f"{self.names[file]}:{self._position(file, line)}: {column}: {_echo(value)}: {rule}"

    def lines_out(self) -> list[str]:
        """The problem lines as the user sees them."""
        shown = sorted(self.entries)[:MAX_REPORTED]
        out = [e.text for e in shown]
        if self.total > len(shown):
            out.append(f"... and {self.total - len(shown)} more problems")
        return out

    def raise_if_any(self) -> None:
        """Raise :class:`CsvInputError` if anything was found."""
        for file in list(self.pending):  # a file that failed half way: word what it had
            self.resolve_file(file, self.lines.get(file) or _LineMap())
        if self.total:
            raise CsvInputError(self.lines_out(), self.total)


def _echo(value: Any) -> str:
    """A value as a problem line shows it: quoted, escaped, at most :data:`MAX_ECHO` characters."""
    text = value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else str(value)
    if not text.isprintable():
        # bytes that are not UTF-8 show as \xNN, other unprintable characters as Python escapes
        text = "".join(c if c.isprintable() else f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF
                       else repr(c)[1:-1] for c in text)
    if len(text) > MAX_ECHO - 2:
        text = text[: MAX_ECHO - 5] + "..."
    return f"'{text}'"


class _LineMap:
    """Physical line of each parsed row of one CSV file.

    pyarrow numbers records, not lines; it skips the ragged rows it hands to the invalid-row
    handler, and a quoted value holding a line break makes one record span several lines.

    Parameters
    ----------
    skipped : iterable of int
        Record numbers (1 = header) of the rows pyarrow skipped.
    record_breaks : iterable of (int, int)
        ``(record, extra lines)`` of skipped records spanning several lines.
    row_breaks : iterable of (int, int)
        ``(parsed row, extra lines)`` of parsed rows spanning several lines.
    parquet : bool
        Rows of a Parquet file: positions are 1-based row numbers.
    """

    def __init__(self, skipped: Iterable[int] = (), record_breaks: Iterable[tuple[int, int]] = (),
                 row_breaks: Iterable[tuple[int, int]] = (), *, parquet: bool = False) -> None:
        skipped = np.sort(np.asarray(list(skipped), dtype=np.int64))
        # the k-th skipped record r hides one record from the parsed rows at or after r - k
        self._shift_at = skipped - np.arange(skipped.size)
        row_breaks = list(row_breaks)
        breaks = list(record_breaks) + list(zip(
            self.record_of(np.array([b[0] for b in row_breaks], dtype=np.int64)).tolist(),
            [b[1] for b in row_breaks], strict=True))
        breaks.sort()
        self._break_records = np.array([b[0] for b in breaks], dtype=np.int64)
        self._break_extra = np.cumsum(np.array([b[1] for b in breaks], dtype=np.int64))
        self.parquet = parquet

    def record_of(self, rows: np.ndarray) -> np.ndarray:
        """Record number (1 = header) of parsed rows (0-based)."""
        rows = np.asarray(rows, dtype=np.int64)
        return rows + 2 + np.searchsorted(self._shift_at, rows + 2, side="right")

    def line_of_record(self, records: np.ndarray) -> np.ndarray:
        """Physical line on which each record starts."""
        records = np.asarray(records, dtype=np.int64)
        if not self._break_records.size:
            return records
        k = np.searchsorted(self._break_records, records, side="left")
        return records + np.where(k > 0, self._break_extra[np.maximum(k - 1, 0)], 0)

    def line_of(self, rows: np.ndarray) -> np.ndarray:
        """Physical line (1 = header) of parsed rows; for Parquet their 1-based row number."""
        rows = np.asarray(rows, dtype=np.int64)
        return rows + 1 if self.parquet else self.line_of_record(self.record_of(rows))


# =============================================================================================
# What the files have given so far


@dataclass
class _Part:
    """The valid values of one block, one entry per half hour."""

    file: int
    first: int  # parsed row of the block's first row
    rows: np.ndarray | None  # int32 parsed row of each value; None: first, first + 1, ...
    meter: np.ndarray | None  # int32 meter code (order of first appearance)
    mqid: np.ndarray | None  # int8 index into MEASUREMENT_QUANTITY_IDS
    period: np.ndarray | None  # int32 UTC half-hour number: period END [minutes since 1970] / 30
    wh: np.ndarray | None  # int32 (int64 for a max_kwh beyond 2**31 Wh) [Wh]
    quality: np.ndarray | None  # int8 index into QUALITY_CODES; None: all actual
    reason: np.ndarray | None  # int8 DI-076 number; None: all 0
    size: int = 0

    def row(self, k: int) -> int:
        """Parsed row of the part's k-th value."""
        return self.first + k if self.rows is None else int(self.rows[k])


@dataclass
class _Given:
    """A meter attribute and the first row that gave it."""

    value: str
    file: int
    row: int


class _State:
    """Meters, values, layout and problems gathered from the files read so far."""

    def __init__(self, problems: _Problems, *, max_wh: int, forced_layout: str | None) -> None:
        self.problems = problems
        self.max_wh = max_wh
        self.wh_dtype = np.int32 if max_wh < 2**31 else np.int64  # values held as small as they fit
        self.forced_layout = forced_layout
        self.layout: tuple[str, int] | None = None  # (layout, file that set it)
        self.time_column = "timestamp"  # as the first file names it, for duplicate problems
        self.codes: dict[bytes, int] = {}  # MPAN text -> meter code
        self.invalid_mpans: dict[bytes, str] = {}
        self.mpans: list[str] = []
        self.first_seen: list[tuple[int, int]] = []  # (file, row) of each meter's first row
        self.attributes: dict[str, dict[int, _Given]] = {a: {} for a in _ATTRIBUTES}
        self.register_file: dict[int, _Given] = {}
        self.parts: list[_Part] = []
        self.rows = 0
        self.values = 0
        self.instant_cache: dict[bytes, tuple[int, str | None]] = {}

    def meter_codes(self, dictionary: list[bytes | None], file: int, first_rows: np.ndarray) -> np.ndarray:
        """Meter code of each distinct MPAN text of a block (-1 if invalid or unused).

        ``first_rows[i]`` is the first parsed row holding ``dictionary[i]`` (-1: not in a row).
        """
        out = np.full(len(dictionary), -1, dtype=np.int32)
        for i, raw in enumerate(dictionary):
            raw = raw or b""
            code = self.codes.get(raw)
            if code is None and first_rows[i] >= 0:
                problem = self.invalid_mpans.get(raw) or _mpan_rule(raw)
                if problem is not None:
                    self.invalid_mpans[raw] = problem
                    continue
                code = self.codes[raw] = len(self.mpans)
                self.mpans.append(raw.decode("ascii"))
                self.first_seen.append((file, int(first_rows[i])))
            if code is not None:
                out[i] = code
        return out

    def set_attribute(self, name: str, meter: int, value: str, file: int, row: int) -> str | None:
        """Record a meter's attribute; the problem when an earlier row gave another value."""
        seen = self.attributes[name].setdefault(meter, _Given(value, file, row))
        if seen.value == value:
            return None
        return (f"differs from {_attribute_text(name, seen.value)!r} given earlier for MPAN "
                f"{self.mpans[meter]}: one value per MPAN")

    def check_meters(self) -> None:
        """GSP groups: needed for IDNOs, and matching the distributor when given for others."""
        groups = self.attributes["gsp_group"]
        for meter, mpan in enumerate(self.mpans):
            host = GSP_GROUP_BY_DISTRIBUTOR.get(mpan[:2])
            given = groups.get(meter)
            if host is None and given is None:
                file, row = self.first_seen[meter]
                self.problems.add_cell(file, row, "mpan", mpan,
                                       f"distributor {mpan[:2]} is not one of the 14 host distributors "
                                       "(an IDNO?): give its gsp_group")
            elif host is not None and given is not None and given.value != host:
                self.problems.add_cell(given.file, given.row, "gsp_group", given.value,
                                       f"MPAN {mpan} is in {host}: {_rule('GSP')}", order=20)

    def read_register_csv(self, path: Path, file: int) -> None:
        """The ``mpan,register_start_kwh`` file: each MPAN's opening register [kWh]."""
        problems = self.problems
        problems.lines[file] = _LineMap()
        data = _read_bytes(path, file, problems)
        if data is None:
            return
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            problems.add_line(file, 1, "file", "", "not UTF-8 text: save the file as CSV UTF-8")
            return
        reader = csv.reader(io.StringIO(text, newline=""))
        header = [h.strip().lower() for h in next(reader, [])]
        units = [h for h in header if h in ("register_start_kwh", "register_start_wh")]
        if "mpan" not in header or len(units) != 1 or len(header) != 2:
            problems.add_line(file, 1, "header", ",".join(header),
                              "expected the header mpan,register_start_kwh (or register_start_wh)")
            return
        unit = "kwh" if units[0].endswith("kwh") else "wh"
        at_mpan = header.index("mpan")
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != 2:
                problems.add_line(file, line, "row", ",".join(cells), f"{len(cells)} cells, the header has 2")
                continue
            self._register_row(file, line, cells[at_mpan], cells[1 - at_mpan], units[0], unit)

    def _register_row(self, file: int, line: int, mpan: str, value: str, column: str, unit: str) -> None:
        problems = self.problems
        rule = _mpan_rule(mpan.encode("utf-8", "surrogateescape"))
        if rule:
            problems.add_line(file, line, "mpan", mpan, rule)
            return
        meter = self.codes.get(mpan.encode())
        if meter is None:
            problems.add_line(file, line, "mpan", mpan, "MPAN not in the consumption files")
            return
        wh, rule = _exact_wh(value, unit)
        if rule:
            problems.add_line(file, line, column, value, rule, order=1)
            return
        if meter in self.register_file:
            problems.add_line(file, line, "mpan", mpan,
                              f"MPAN given twice (first on line {self.register_file[meter].row})")
            return
        self.register_file[meter] = _Given(str(wh), file, line)
        given = self.attributes["register_start"].get(meter)
        if given is not None and given.value != str(wh):
            problems.add_line(file, line, column, value,
                              f"differs from {_attribute_text('register_start', given.value)!r} given "
                              f"for this MPAN at {problems.where(given.file, given.row)}", order=1)

    def register_starts(self) -> dict[int, int]:
        """Opening register [Wh] of each meter that has one, by meter code."""
        out = {m: int(g.value) for m, g in self.attributes["register_start"].items()}
        out.update({m: int(g.value) for m, g in self.register_file.items()})
        return out


def _attribute_text(name: str, value: str) -> str:
    """An attribute as the user gave it (register starts are held in Wh)."""
    if name == "register_start":
        wh = int(value)
        return f"{wh // 1000}.{wh % 1000:03d} kWh"
    return value


def _mpan_rule(raw: bytes) -> str | None:
    """Why an MPAN cell is not a valid MPAN core, or None."""
    if raw == b"":
        return "empty MPAN: every row needs the 13-digit MPAN core"
    text = _decode(raw)
    if text is None:
        return "not UTF-8 text"
    if text.strip() != text:
        return "spaces around the MPAN"
    if not (text.isascii() and text.isdigit()):
        return "an MPAN core is 13 digits: no letters, spaces or other characters"
    if len(text) != 13:
        return f"an MPAN core is 13 digits, this has {len(text)}"
    if mpan_problem(text):
        return f"the check digit should be {mpan_check_digit(text[:12])}: {_rule('MPAN')}"
    return None


# =============================================================================================
# Files


@contextlib.contextmanager
def _progress(files: list[Path], enabled: bool) -> Iterator[Callable[[int], None]]:
    """A callback counting bytes read into a tqdm bar (or into nothing)."""
    if not enabled:
        yield lambda n: None
        return
    from tqdm.auto import tqdm

    total = sum(p.stat().st_size for p in files if p.is_file())
    with tqdm(total=total, unit="B", unit_scale=True, desc="reading input") as bar:
        yield bar.update


def _read_bytes(path: Path, file: int, problems: _Problems, size: int = -1) -> bytes | None:
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


def _read_file(path: Path, file: int, state: _State, counted: Callable[[int], None]) -> None:
    """Check one file's header and read its rows into ``state``."""
    problems = state.problems
    head = _read_bytes(path, file, problems, 1 << 16)
    if head is None:
        return
    if head.startswith(b"PAR1"):
        _read_parquet(path, file, state)
        return
    kind = _binary_kind(head)
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
    spec = _Spec.from_header(header, file, state, first)
    if spec is not None:
        _read_csv(path, file, spec, state, counted)


def _binary_kind(head: bytes) -> str | None:
    """Why the start of a file is not CSV text, or None."""
    if head.startswith(b"PK\x03\x04"):
        return "binary content, not CSV text (a zip file or Excel workbook? save it as CSV UTF-8)"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text: save the file as CSV UTF-8"
    if b"\x00" in head:
        return "binary content, not CSV text (NUL bytes)"
    return None


@dataclass
class _Spec:
    """What one file's header says: layout, columns and their names as written."""

    layout: str
    raw: dict[str, str]  # canonical name -> name as written
    written: list[str]  # every header cell, in order
    unit: str  # value column of long/local: "kwh" or "wh"
    wide: list[str]  # p1 .. pK of the wide layout
    crosscheck: bool  # the long layout also carries settlement_date and settlement_period

    def order(self, name: str) -> int:
        """Position of a column, so problems of one line come in column order."""
        return list(self.raw).index(name) if name in self.raw else 99

    def column_types(self) -> dict[str, pa.DataType]:
        """pyarrow types by written name: raw bytes, dictionary-encoded where values repeat."""
        plain = {"kwh", "wh", *_WIDE}
        return {written: pa.binary() if name in plain else pa.dictionary(pa.int32(), pa.binary())
                for name, written in self.raw.items()}

    @classmethod
    def from_header(cls, header: list[str], file: int, state: _State, first: bytes) -> _Spec | None:
        """The header's spec, or None after reporting what is wrong with it."""
        problems = state.problems
        before = problems.total
        raw: dict[str, str] = {}
        for position, cell in enumerate(header):
            name = ALIASES.get(cell.lower(), cell.lower())
            if name in raw:
                problems.add_line(file, 1, "header", cell, f"column {name} appears twice", position)
            elif name in _KNOWN:
                raw[name] = cell
            elif len(header) == 1 and (";" in cell or "\t" in cell):
                problems.add_line(file, 1, "header", cell, "columns must be separated by commas")
            elif cell[:1].isdigit():
                problems.add_line(file, 1, "header", first,
                                  "no header: the first line must name the columns, e.g. mpan,timestamp,kwh")
                return None
            elif cell == "":
                problems.add_line(file, 1, "header", first, f"column {position + 1} has no name", position)
            else:
                close = difflib.get_close_matches(cell.lower(), sorted(_KNOWN | set(ALIASES)), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.add_line(file, 1, "header", cell, f"unknown column{hint}", position)
        if problems.total > before:
            return None
        spec = cls._for_layout(state.forced_layout or _detect_layout(raw), raw, header, file, problems, first)
        if spec is None:
            return None
        if state.layout is None:
            state.layout = (spec.layout, file)
            state.time_column = raw.get({"long": "timestamp", "local": "settlement_period"}.get(
                spec.layout, "settlement_date"), "timestamp")
        elif state.layout[0] != spec.layout:
            problems.add_line(file, 1, "header", first,
                              f"{spec.layout} layout, but {problems.names[state.layout[1]]} has the "
                              f"{state.layout[0]} layout: give files of one layout")
            return None
        return spec

    @classmethod
    def _for_layout(cls, layout: str | None, raw: dict[str, str], header: list[str], file: int,
                    problems: _Problems, first: bytes) -> _Spec | None:
        def refuse(rule: str) -> None:
            problems.add_line(file, 1, "header", first, rule)

        if layout is None:
            refuse("not one of the layouts: long mpan,timestamp,kwh; local mpan,settlement_date,"
                   "settlement_period,kwh; wide mpan,settlement_date,p1..p50")
            return None
        missing = [c for c in _REQUIRED[layout] if c not in raw]
        units = [c for c in ("kwh", "wh") if c in raw]
        wide = [c for c in _WIDE if c in raw]
        if layout == "wide":
            stray = [raw[c] for c in ("timestamp", "settlement_period", "kwh", "wh") if c in raw]
        else:
            stray = [raw[c] for c in wide]
            missing += [] if units else ["kwh (or wh)"]
        if missing:
            refuse(f"the {layout} layout needs the column(s) {', '.join(missing)}")
        elif stray:
            refuse(f"column(s) {', '.join(stray)} do not belong to the {layout} layout")
        elif layout == "wide" and (wide != list(_WIDE[: len(wide)]) or len(wide) < 46):
            refuse("the wide layout needs the columns p1, p2, ... in a run from p1 to p46, p48 or p50")
        elif len(units) == 2:
            refuse("give kwh or wh, not both")
        elif "register_start_kwh" in raw and "register_start_wh" in raw:
            refuse("give register_start_kwh or register_start_wh, not both")
        elif layout == "long" and ("settlement_date" in raw) != ("settlement_period" in raw):
            refuse("settlement_date and settlement_period go together")
        else:
            crosscheck = layout == "long" and "settlement_period" in raw
            return cls(layout, raw, list(header), units[0] if units else "kwh", wide, crosscheck)
        return None


def _detect_layout(raw: dict[str, str]) -> str | None:
    if "p1" in raw:
        return "wide"
    if "timestamp" in raw:
        return "long"
    if "settlement_period" in raw:
        return "local"
    return None


def _read_csv(path: Path, file: int, spec: _Spec, state: _State, counted: Callable[[int], None]) -> None:
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
                    block = _Block(batch, file, parsed, spec, state)
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
    lines = _LineMap(skipped, record_breaks, row_breaks)
    problems.resolve_file(file, lines)
    for record, cells, text in ragged[:MAX_REPORTED]:
        line = int(lines.line_of_record(np.array([record]))[0])
        problems.add_line(file, line, "row", text.rstrip("\r\n"),
                          f"{cells} cells, the header has {len(spec.written)}")
    problems.total += max(0, len(ragged) - MAX_REPORTED)
    if state.rows == rows_before and not ragged:
        problems.add_line(file, 2, "row", "", "no data rows after the header")


def _read_parquet(path: Path, file: int, state: _State) -> None:
    """Read a Parquet file (e.g. a data set's consumption table) through the same checks."""
    problems = state.problems
    problems.lines[file] = _LineMap(parquet=True)
    try:
        parquet = pq.ParquetFile(path)
        header = list(parquet.schema_arrow.names)
        spec = _Spec.from_header(header, file, state, ",".join(header).encode())
        if spec is None:
            return
        rows = 0
        for batch in parquet.iter_batches(batch_size=1 << 16, columns=list(spec.raw.values())):
            _Block(_as_text_batch(batch, spec), file, rows, spec, state).process()
            problems.end_block(file)
            rows += batch.num_rows
    except (pa.ArrowException, OSError, ValueError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        problems.add_file(file, f"cannot be read as Parquet ({text[:200]})")
        return
    finally:
        problems.resolve_file(file, _LineMap(parquet=True))
    if rows == 0:
        problems.add_file(file, "no data rows")


def _as_text_batch(batch: pa.RecordBatch, spec: _Spec) -> pa.RecordBatch:
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


# =============================================================================================
# One block of rows


class _Block:
    """Check one block of rows, column by column, and keep its valid values.

    Each column is checked whole (pyarrow or numpy); only the rare bad cells are then worded one
    by one. A row with several problems gets each of them reported.
    """

    def __init__(self, batch: pa.RecordBatch, file: int, first_row: int, spec: _Spec, state: _State) -> None:
        self.n = batch.num_rows
        self.file = file
        self.first_row = first_row
        self.spec = spec
        self.state = state
        self.columns = {name: batch.column(written) for name, written in spec.raw.items()}
        self.ok = np.ones(self.n, dtype=bool)
        self.reported: dict[str, np.ndarray] = {}  # cells already reported, by column
        self.breaks: list[tuple[int, int]] = []  # (parsed row, extra lines) of multi-line rows

    def report(self, bad: np.ndarray, name: str, rule: str | Callable[[Any, int], str]) -> None:
        """Report the rows where ``bad`` holds, in column ``name``; mark them invalid.

        A callable ``rule`` gets the cell's bytes and the row's position in the block.
        """
        done = self.reported.setdefault(name, np.zeros(self.n, dtype=bool))
        idx = np.flatnonzero(bad & ~done)  # one problem per cell: the first found
        if not idx.size:
            return
        done[idx] = True
        column = self.columns.get(name)
        first = self.first_row
        wording = rule if not callable(rule) else (lambda value, row: rule(value, row - first))
        self.state.problems.add_rows(self.file, idx + first, self.spec.raw.get(name, name),
                                     self.spec.order(name), lambda row: _cell(column, row - first), wording)
        self.ok[idx] = False

    def line_breaks(self, name: str, hits: np.ndarray) -> None:
        """Report cells holding a quoted line break (``hits`` per row); note the lines they add.

        Dictionary columns are searched whole (their distinct values are few); value columns only
        where a cell already failed the number pattern, which a line break always makes it do.
        """
        if hits.any():
            self.report(hits > 0, name, "a line break inside a value")
            rows = np.flatnonzero(hits)
            self.breaks += list(zip((rows + self.first_row).tolist(), hits[rows].tolist(), strict=True))

    def _dictionary_line_breaks(self) -> None:
        for name, column in self.columns.items():
            if isinstance(column, pa.DictionaryArray) and len(column.dictionary):
                hits = pc.count_substring(column.dictionary, "\n").to_numpy(zero_copy_only=False)
                if hits.any():
                    self.line_breaks(name, hits[column.indices.to_numpy(zero_copy_only=False)])

    # -- the checks -----------------------------------------------------------------------
    def process(self) -> None:
        """Check every column and keep the block's valid values as a :class:`_Part`."""
        if not self.n:
            return
        self._dictionary_line_breaks()
        blank = self._blank_rows()
        meter = self._meters(blank)
        mqid = self._codes("mqid", _mqid_rule, blank)
        quality = self._codes("quality", _quality_rule, blank) if "quality" in self.columns else None
        reason = self._codes("reason", _reason_rule, blank) if "reason" in self.columns else None
        for name in _ATTRIBUTES:
            self._attribute(name, meter, blank)
        if self.spec.layout == "wide":
            rows, period, wh = self._wide(blank)
        else:
            period = self._local(blank) if self.spec.layout == "local" else self._long(blank)
            wh = self._values(self.spec.unit, blank)
            rows = np.arange(self.n)
        self._value_rules(rows, wh, quality, reason)
        self.state.rows += int((~blank).sum())
        keep = self.ok[rows] & ~blank[rows]
        rows = rows[keep]
        self.state.values += int(rows.size)
        if rows.size:
            # most blocks are whole and in order: their rows need not be stored
            contiguous = rows.size == self.n and self.spec.layout != "wide"
            self.state.parts.append(_Part(
                file=self.file,
                first=self.first_row,
                rows=None if contiguous else (rows + self.first_row).astype(np.int32),
                meter=meter[rows],
                mqid=mqid[rows].astype(np.int8),
                period=period[keep].astype(np.int32),
                wh=wh[keep].astype(self.state.wh_dtype),
                quality=None if quality is None else quality[rows].astype(np.int8),
                reason=None if reason is None else reason[rows].astype(np.int8),
                size=int(rows.size),
            ))

    def _blank_rows(self) -> np.ndarray:
        """Rows whose every cell is empty (spreadsheets leave them): ignored."""
        blank = _lengths(self.columns["mpan"]) == 0
        for column in self.columns.values():
            if not blank.any():
                break
            blank &= _lengths(column) == 0
        return blank

    def _meters(self, blank: np.ndarray) -> np.ndarray:
        column = self.columns["mpan"]
        indices = column.indices.to_numpy(zero_copy_only=False)
        dictionary = column.dictionary.to_pylist()
        first = np.full(len(dictionary), -1, dtype=np.int64)
        live = np.flatnonzero(~blank)
        first[indices[live][::-1]] = live[::-1] + self.first_row  # last write wins: the first row
        meter = self.state.meter_codes(dictionary, self.file, first)[indices]
        invalid = self.state.invalid_mpans
        self.report((meter < 0) & ~blank, "mpan", lambda v, _: invalid.get(_raw(v)) or "invalid MPAN")
        return meter

    def _codes(self, name: str, rule: Callable[[bytes], tuple[int, str | None]], blank: np.ndarray) -> np.ndarray:
        """Each row's index in a code column (the default where the column is absent)."""
        column = self.columns.get(name)
        if column is None:
            return np.zeros(self.n, dtype=np.int64)
        return self._lookup(column, name, rule, blank, 0)

    def _lookup(self, column: pa.DictionaryArray, name: str, rule: Callable[[bytes], tuple[int, str | None]],
                blank: np.ndarray, default: int) -> np.ndarray:
        """Parse a dictionary column's distinct values with ``rule``; report the bad rows."""
        parsed = [rule(v or b"") for v in column.dictionary.to_pylist()]
        indices = column.indices.to_numpy(zero_copy_only=False)
        values = np.array([p[0] for p in parsed] or [default], dtype=np.int64)[indices]
        messages = {(v or b""): p[1] for v, p in zip(column.dictionary.to_pylist(), parsed, strict=True) if p[1]}
        if messages:
            bad = np.array([p[1] is not None for p in parsed])[indices] & ~blank
            self.report(bad, name, lambda v, _: messages.get(_raw(v), "invalid"))
        return values

    def _attribute(self, name: str, meter: np.ndarray, blank: np.ndarray) -> None:
        """A meter attribute column: check each distinct value, then one value per MPAN."""
        canonical = name
        if name == "register_start":
            canonical = "register_start_wh" if "register_start_wh" in self.columns else "register_start_kwh"
        column = self.columns.get(canonical)
        if column is None:
            return
        dictionary = [v or b"" for v in column.dictionary.to_pylist()]
        parsed = [_attribute_rule(canonical, v) for v in dictionary]
        indices = column.indices.to_numpy(zero_copy_only=False)
        messages = {v: p[1] for v, p in zip(dictionary, parsed, strict=True) if p[1]}
        if messages:
            bad = np.array([p[1] is not None for p in parsed])[indices] & ~blank
            self.report(bad, canonical, lambda v, _: messages.get(_raw(v), "invalid"))
        given = np.array([p[0] is not None for p in parsed] or [False])
        rows = np.flatnonzero(given[indices] & self.ok & (meter >= 0))
        if not rows.size:
            return
        pairs = meter[rows].astype(np.int64) * (len(dictionary) + 1) + indices[rows]
        _, first = np.unique(pairs, return_index=True)
        for r in rows[np.sort(first)].tolist():
            conflict = self.state.set_attribute(name, int(meter[r]), parsed[indices[r]][0], self.file,
                                                r + self.first_row)
            if conflict:
                one = np.zeros(self.n, dtype=bool)
                one[r] = True
                self.report(one, canonical, conflict)

    # -- time -----------------------------------------------------------------------------
    def _long(self, blank: np.ndarray) -> np.ndarray:
        """UTC half-hour number of each row from its period-end timestamp."""
        column = self.columns["timestamp"]
        minutes, rules = _instants(column.dictionary, self.state.instant_cache)
        indices = column.indices.to_numpy(zero_copy_only=False)
        bad_entry = np.array([r is not None for r in rules] or [False])
        if bad_entry.any():
            lookup = {(column.dictionary[i].as_py() or b""): rules[i] for i in np.flatnonzero(bad_entry)}
            self.report(bad_entry[indices] & ~blank, "timestamp", lambda v, _: lookup.get(_raw(v), "invalid"))
        period = minutes[indices] // _HALF_HOUR
        if self.spec.crosscheck:
            local = self._local(blank)
            mismatch = (local >= 0) & ~bad_entry[indices] & (local != period) & ~blank
            self.report(mismatch, "settlement_period",
                        "settlement_date and settlement_period are not the half hour the timestamp ends")
        return period

    def _local(self, blank: np.ndarray) -> np.ndarray:
        """UTC half-hour number of each row from its local settlement date and period (-1 bad)."""
        day = self._dates(blank)
        number = self._lookup(self.columns["settlement_period"], "settlement_period", _period_number, blank, 0)
        valid = (day != _NO_DAY) & (number > 0) & ~blank
        out = np.full(self.n, -1, dtype=np.int64)
        counts = _period_counts(day, valid)
        beyond = valid & (number > counts)
        self.report(beyond, "settlement_period", lambda v, i: _no_such_period(int(number[i]), day[i], counts[i]))
        valid &= ~beyond
        if valid.any():
            pairs = day[valid] * 64 + number[valid]
            uniq, inverse = np.unique(pairs, return_inverse=True)
            ends = local_to_utc((uniq // 64).astype("datetime64[D]"), uniq % 64)
            out[valid] = (ends.astype("datetime64[m]").astype(np.int64) // _HALF_HOUR)[inverse]
        return out

    def _dates(self, blank: np.ndarray) -> np.ndarray:
        """Local settlement date of each row as days since 1970 (:data:`_NO_DAY` if bad)."""
        return self._lookup(self.columns["settlement_date"], "settlement_date", _date_value, blank, _NO_DAY)

    def _wide(self, blank: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row, UTC half-hour number and Wh of every non-blank period cell of the day rows."""
        day = self._dates(blank)
        valid_day = (day != _NO_DAY) & ~blank
        counts = _period_counts(day, valid_day)
        midnight = _local_midnight_periods(day, valid_day)
        rows, periods, values = [], [], []
        for k, name in enumerate(self.spec.wide, start=1):
            present = (_lengths(self.columns[name]) > 0) & ~blank
            beyond = present & valid_day & (k > counts)
            self.report(beyond, name, lambda v, i, k=k: _no_such_period(k, day[i], counts[i]))
            wh = self._values(name, ~present)
            use = np.flatnonzero(present & valid_day & (k <= counts))
            rows.append(use)
            periods.append(midnight[use] + k)
            values.append(wh[use])
        return np.concatenate(rows), np.concatenate(periods), np.concatenate(values)

    # -- values ---------------------------------------------------------------------------
    def _values(self, name: str, skip: np.ndarray) -> np.ndarray:
        """Exact Wh of each cell of a value column; -1 where invalid (reported, unless skipped)."""
        column = self.columns[name]
        unit = "wh" if name == "wh" else "kwh"
        fast = pc.match_substring_regex(column, _KWH_FAST if unit == "kwh" else _WH_FAST)
        fine = fast.to_numpy(zero_copy_only=False)
        decimals = pc.cast(pc.if_else(fast, column, pa.scalar(b"0", pa.binary())),
                           pa.decimal128(18, 3 if unit == "kwh" else 0))
        # a decimal128 holds its unscaled integer, here the value in Wh, which fits the low word
        wh = np.frombuffer(decimals.buffers()[1], dtype=np.int64)[0: 2 * self.n: 2].copy()
        wh[~fine] = -1
        if not fine.all():
            hits = np.zeros(self.n, dtype=np.int64)
            hits[~fine] = pc.count_substring(column.filter(pa.array(~fine)), "\n").to_numpy(zero_copy_only=False)
            self.line_breaks(name, hits)
        max_wh = self.state.max_wh
        self.report(~fine & ~skip, name, lambda v, _: _value_rule(_raw(v), unit, max_wh))
        too_big = fine & (wh > max_wh) & ~skip
        self.report(too_big, name, _too_big_rule(max_wh))
        wh[too_big] = -1
        return wh

    def _value_rules(self, rows: np.ndarray, wh: np.ndarray, quality: np.ndarray | None,
                     reason: np.ndarray | None) -> None:
        """ECS1011 and ECS1015 over every value: 0 with ZE codes, a reason with estimates only."""
        if quality is None and reason is None:
            return
        q = quality[rows] if quality is not None else np.zeros(rows.size, dtype=np.int64)
        e = reason[rows] if reason is not None else np.zeros(rows.size, dtype=np.int64)
        valid = (wh >= 0) & self.ok[rows]
        where_e = "reason" if "reason" in self.columns else "quality"
        where_v = self.spec.unit if self.spec.layout != "wide" else "quality"
        for bad, name, rule in (
            (_IS_ZE[q] & (wh > 0), where_v, lambda: _rule("ECS1011")),
            (_IS_ESTIMATE[q] & (e == 0), where_e, lambda: _rule("ECS1015")),
            (_IS_ACTUAL[q] & (e > 0), where_e, lambda: "actual data (q A, A1-A3) carries no estimation reason e"),
        ):
            hit = np.zeros(self.n, dtype=bool)
            hit[rows[bad & valid]] = True
            if hit.any():
                self.report(hit, name, rule())


def _cell(column: pa.Array | None, index: int) -> Any:
    """The raw bytes of one cell, for wording a problem."""
    if column is None:
        return ""
    value = column[index].as_py()
    return b"" if value is None else value


def _raw(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogateescape")


def _decode(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _lengths(column: pa.Array) -> np.ndarray:
    """Byte length of each cell."""
    if isinstance(column, pa.DictionaryArray):
        lengths = pc.binary_length(column.dictionary).to_numpy(zero_copy_only=False)
        if not lengths.size:
            return np.zeros(len(column), dtype=np.int64)
        return lengths[column.indices.to_numpy(zero_copy_only=False)]
    return pc.binary_length(column).to_numpy(zero_copy_only=False)


# -- code and attribute cells ---------------------------------------------------------------


def _mqid_rule(raw: bytes) -> tuple[int, str | None]:
    text = _decode(raw)
    if text == "":
        return 0, None  # AI when not given
    if text in MEASUREMENT_QUANTITY_IDS:
        return MEASUREMENT_QUANTITY_IDS.index(text), None
    return 0, f"not a measurement quantity ({', '.join(MEASUREMENT_QUANTITY_IDS)})"


def _quality_rule(raw: bytes) -> tuple[int, str | None]:
    text = _decode(raw)
    if text == "":
        return _Q_INDEX["A"], None  # actual when not given
    if text in _Q_INDEX:
        return _Q_INDEX[text], None
    return 0, "not a quality code q (DI-083: A, E, E0-E9, ZE, ZE1-ZE3, A1-A3, AAE1-3, EAE1-3, EA1-13)"


def _reason_rule(raw: bytes) -> tuple[int, str | None]:
    text = _decode(raw)
    if text == "":
        return 0, None
    if text in ESTIMATION_REASONS:
        return int(text), None
    return 0, "not an estimation reason e (DI-076: 1 to 10, or empty)"


def _attribute_rule(name: str, raw: bytes) -> tuple[str | None, str | None]:
    """(value as held, problem) of a meter attribute cell; (None, None) when empty."""
    text = _decode(raw)
    if text is None:
        return None, "not UTF-8 text"
    if text == "":
        return None, None
    if name == "meter_id":
        if len(text) > _METER_ID_MAX or not text.isprintable() or text.strip() != text:
            return None, f"a meter ID is 1 to {_METER_ID_MAX} printable characters, no spaces around"
        return text, None
    if name == "connection_type":
        if text in CONNECTION_TYPES:
            return text, None
        return None, "not a connection type (W smart, L or H advanced, U unmetered)"
    if name == "gsp_group":
        if text in GSP_GROUPS:
            return text, None
        return None, f"not a GSP group ({', '.join(GSP_GROUPS)})"
    wh, problem = _exact_wh(text, "kwh" if name.endswith("kwh") else "wh")
    return (None, problem) if problem else (str(wh), None)


def _period_number(raw: bytes) -> tuple[int, str | None]:
    text = _decode(raw) or ""
    if text == "":
        return 0, "empty settlement period"
    if not (text.isascii() and text.isdigit()) or len(text) > 3:
        return 0, "a settlement period is a whole number, 1 to 50"
    number = int(text)
    if number < 1:
        return 0, "settlement period 0 does not exist: periods start at 1"
    if number > 50:
        return 0, f"settlement period {number} does not exist: a day has at most 50"
    return number, None


def _no_such_period(number: int, day: int, count: int) -> str:
    why = {46: " (the March clock change)", 50: " (the October clock change)"}.get(int(count), "")
    when = (date(1970, 1, 1) + timedelta(days=int(day))).isoformat()
    return f"settlement period {number} does not exist on {when}: it has {count} periods{why}"


def _date_value(raw: bytes) -> tuple[int, str | None]:
    text = _decode(raw)
    if text is None:
        return _NO_DAY, "not UTF-8 text"
    if text == "":
        return _NO_DAY, "empty settlement date"
    if not _DATE.fullmatch(text):
        return _NO_DAY, "not a date YYYY-MM-DD"
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return _NO_DAY, "impossible date"
    if not YEARS[0] <= day.year <= YEARS[1]:
        return _NO_DAY, f"outside the years {YEARS[0]} to {YEARS[1]}"
    return (day - date(1970, 1, 1)).days, None


def _period_counts(day: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Local settlement periods (46, 48 or 50) of each row's date (0 where invalid)."""
    out = np.zeros(day.size, dtype=np.int64)
    if valid.any():
        uniq, inverse = np.unique(day[valid], return_inverse=True)
        out[valid] = local_period_counts(uniq.astype("datetime64[D]"))[inverse]
    return out


def _local_midnight_periods(day: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """UTC half-hour number of each row's local midnight (so period k is this + k)."""
    out = np.zeros(day.size, dtype=np.int64)
    if valid.any():
        uniq, inverse = np.unique(day[valid], return_inverse=True)
        first = local_to_utc(uniq.astype("datetime64[D]"), np.ones(uniq.size, dtype=np.int64))
        out[valid] = (first.astype("datetime64[m]").astype(np.int64) // _HALF_HOUR - 1)[inverse]
    return out


# -- numbers --------------------------------------------------------------------------------


def _exact_wh(text: str, unit: str) -> tuple[int, str | None]:
    """Whole Wh of a plain decimal text in kWh (at most 3 decimals) or Wh, or the problem."""
    rule = _number_rule(text, unit)
    if rule:
        return 0, rule
    return int(Decimal(text) * (1000 if unit == "kwh" else 1)), None


def _number_rule(text: str, unit: str) -> str | None:
    """Why a text is not a plain non-negative number of the unit, or None."""
    if text == "":
        return "empty value: a row needs a value (leave the row out to have it estimated)"
    if text.strip() != text:
        return "spaces around the number"
    bare = text.lower().lstrip("+-")
    if bare in ("nan", "na", "n/a", "null", "none"):
        return "not a number (NaN)"
    if bare in ("inf", "infinity"):
        return "not a finite number"
    m = _NUMBER.fullmatch(text)
    if m is None or not (m[2] or m[3]):
        if any(c.isalpha() for c in text):
            return "letters in a number: write plain decimals such as 0.125"
        if "," in text:
            return "comma in a number: no thousands separators, and a point for decimals"
        return "not a number"
    if m[1] == "-":
        return f"negative value: {_rule('ECS1010')}"
    if m[1] == "+" or not m[2] or m[3] == "":
        return "not a plain decimal number such as 0.125"
    decimals = (m[3] or "").rstrip("0")
    if unit == "kwh" and len(decimals) > 3:
        return "more than 3 decimals: the DIP's resolution is 1 Wh (0.001 kWh); values are never rounded"
    if unit == "wh" and decimals:
        return "Wh values are whole numbers: the DIP's resolution is 1 Wh"
    return None


def _value_rule(raw: bytes, unit: str, max_wh: int) -> str:
    text = _decode(raw)
    if text is None:
        return "not UTF-8 text"
    rule = _number_rule(text, unit)
    if rule:
        return rule
    if Decimal(text) * (1000 if unit == "kwh" else 1) > max_wh:
        return _too_big_rule(max_wh)
    return "not a number"


def _too_big_rule(max_wh: int) -> str:
    return (f"more than {max_wh / 1000:g} kWh in one half hour is impossible for a metering point "
            f"{REMEDIES['max_kwh'][0]}")


# -- instants -------------------------------------------------------------------------------


def _instants(values: pa.Array, cache: dict[bytes, tuple[int, str | None]]) -> tuple[np.ndarray, list[str | None]]:
    """Minutes since 1970 [UTC] of period-end texts, and the rule each bad one breaks.

    The DIP's own form (``2025-10-26T01:30:00+00:00``) and the ``Z`` form are parsed as whole
    arrays; any other text is parsed (or diagnosed) alone and remembered.
    """
    minutes, ok = _fast_instants(values)
    rules: list[str | None] = [None] * len(values)
    for i in np.flatnonzero(~ok).tolist():
        raw = values[i].as_py() or b""
        if raw not in cache:
            if len(cache) > 100_000:
                cache.clear()
            cache[raw] = _slow_instant(raw)
        minutes[i], rules[i] = cache[raw]
    return minutes, rules


_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _fast_instants(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised parse of canonical period-end texts; ``ok`` is False for anything else."""
    n = len(values)
    minutes = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    buffers = values.buffers()
    if not n or buffers[2] is None:
        return minutes, ok
    offsets = np.frombuffer(buffers[1], dtype=np.int32, count=n + 1, offset=values.offset * 4).astype(np.int64)
    data = np.frombuffer(buffers[2], dtype=np.uint8)
    lengths = np.diff(offsets)
    for width in (25, 20):
        sel = np.flatnonzero(lengths == width)
        if not sel.size:
            continue
        c = data[offsets[sel, None] + np.arange(width)]
        d = c.astype(np.int64) - 48
        digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18] + ([20, 21, 23, 24] if width == 25 else [])
        good = ((d[:, digits] >= 0) & (d[:, digits] <= 9)).all(axis=1)
        good &= (c[:, 4] == 45) & (c[:, 7] == 45) & (c[:, 10] == 84) & (c[:, 13] == 58) & (c[:, 16] == 58)
        year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
        month, day = d[:, 5] * 10 + d[:, 6], d[:, 8] * 10 + d[:, 9]
        hour, minute, second = d[:, 11] * 10 + d[:, 12], d[:, 14] * 10 + d[:, 15], d[:, 17] * 10 + d[:, 18]
        if width == 25:  # +HH:MM
            good &= ((c[:, 19] == 43) | (c[:, 19] == 45)) & (c[:, 22] == 58)
            off_h, off_m = d[:, 20] * 10 + d[:, 21], d[:, 23] * 10 + d[:, 24]
            good &= (off_h < 24) & (off_m < 60)
            offset = np.where(c[:, 19] == 45, -1, 1) * (off_h * 60 + off_m)
        else:  # Z
            good &= c[:, 19] == 90
            offset = 0
        month_ok = (month >= 1) & (month <= 12)
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        days_in_month = _DAYS_IN_MONTH[np.where(month_ok, month, 1)] + (leap & (month == 2))
        good &= month_ok & (day >= 1) & (day <= days_in_month) & (hour < 24) & (minute < 60) & (second == 0)
        total = _days_from_civil(year, month, day) * 1440 + hour * 60 + minute - offset
        good &= (total % _HALF_HOUR == 0) & (total > _FIRST_MINUTE) & (total <= _LAST_MINUTE)
        minutes[sel[good]] = total[good]
        ok[sel[good]] = True
    return minutes, ok


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def _slow_instant(raw: bytes) -> tuple[int, str | None]:
    """Minutes since 1970 [UTC] of one period-end text, or the rule it breaks."""
    text = _decode(raw)
    if text is None:
        return 0, "not UTF-8 text"
    if text == "":
        return 0, "empty timestamp"
    m = _INSTANT.fullmatch(text)
    if m is None:
        return 0, "not an ISO 8601 period end such as 2025-10-26T01:30:00+00:00"
    if m[8] is None:
        return 0, "no UTC offset: write the time with its offset, e.g. 2025-10-26T01:30:00+00:00 or ...Z"
    year, month, day, hour, minute = (int(m[i]) for i in range(1, 6))
    second = int(m[6] or 0)
    try:
        wall = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return 0, "impossible date or time"
    offset = 0
    if m[8] != "Z":
        digits = m[8][1:].replace(":", "")
        off_h, off_m = int(digits[:2]), int(digits[2:])
        if off_h > 23 or off_m > 59:
            return 0, "impossible UTC offset"
        offset = (-1 if m[8][0] == "-" else 1) * (off_h * 60 + off_m)
    total = int((wall - _EPOCH).total_seconds() // 60) - offset
    if second or (m[7] or "").strip("0") or total % _HALF_HOUR:
        return 0, f"not the end of a half hour: {_rule('ECS1005')}"
    if not _FIRST_MINUTE < total <= _LAST_MINUTE:
        return 0, f"outside the years {YEARS[0]} to {YEARS[1]}"
    return total, None


# =============================================================================================
# Pseudonyms


def _key_number(key: str, purpose: bytes) -> int:
    """A 63-bit number from the user's key (keyed: BLAKE2b with the purpose as personalisation)."""
    digest = hashlib.blake2b(str(key).encode("utf-8"), digest_size=8, person=purpose).digest()
    return int.from_bytes(digest, "little") >> 1


def pseudonymise_mpans(mpans: Sequence[str] | np.ndarray, key: str) -> np.ndarray:
    """Synthetic valid MPAN cores of the same distributors, one per real MPAN.

    Digits 3-12 of each core go through a keyed permutation of the 10**10 possible values
    (:func:`~mhhs_workbench.model.identities.keyed_permutation`, one key per distributor) and the
    check digit is recomputed: distinct MPANs get distinct pseudonyms, the same key always gives
    the same ones. A pseudonym that happens to be one of the real MPANs is replaced, in the order
    of the real MPANs, by a further permutation's, so no real MPAN is left in the output.

    Parameters
    ----------
    mpans : sequence of str
        Distinct valid 13-digit MPAN cores.
    key : str
        The pseudonymisation key.

    Returns
    -------
    numpy.ndarray of str
        The pseudonyms, in the order of ``mpans``.
    """
    real = np.asarray(mpans, dtype="U13")
    out = np.empty_like(real)
    base = _key_number(key, b"mhhs-mpan")
    for distributor in sorted(set(m[:2] for m in real.tolist())):
        sel = np.flatnonzero(np.char.startswith(real, distributor))
        body = real[sel].astype("U12").astype(np.int64) % 10**10  # digits 3-12
        out[sel] = _mpans_of(distributor, _permuted(body, base, int(distributor), 0))

    def again(i: int, attempt: int) -> str:
        body = np.array([int(real[i][2:12])], dtype=np.int64)
        return str(_mpans_of(real[i][:2], _permuted(body, base, int(real[i][:2]), attempt))[0])

    return _avoid(real, out, again)


def _permuted(body: np.ndarray, base: int, distributor: int, attempt: int) -> np.ndarray:
    key = int(hash_counter(meter_keys(base, np.array([distributor]), attempt), 0)[0]) >> 2
    return keyed_permutation(body, 10**10, key)


def _mpans_of(distributor: str, body: np.ndarray) -> np.ndarray:
    prefixes = np.char.add(distributor, np.char.zfill(body.astype("U10"), 10))
    return np.char.add(prefixes, mpan_check_digit(prefixes))


def _avoid(real: np.ndarray, out: np.ndarray, again: Callable[[int, int], str]) -> np.ndarray:
    """Replace pseudonyms that are real identifiers or repeat one, deterministically."""
    real_set = set(real.tolist())
    seen: set[str] = set()
    for i in np.argsort(real, kind="stable").tolist():
        attempt = 0
        while out[i] in real_set or out[i] in seen:
            attempt += 1
            out[i] = again(i, attempt)
        seen.add(str(out[i]))
    return out


def pseudonymise_meter_ids(meter_ids: Sequence[str] | np.ndarray, key: str) -> np.ndarray:
    """Synthetic meter serials (``24M0123456`` style), one per distinct real meter ID.

    Each ID's keyed hash picks a serial number, turned into a serial by the keyed bijection
    :func:`~mhhs_workbench.model.identities.indexed_meter_serials`; a serial already taken (or equal to a
    real ID) is rehashed with a counter, in the order of the real IDs.

    Parameters
    ----------
    meter_ids : sequence of str
        Distinct, non-empty meter IDs.
    key : str
        The pseudonymisation key.
    """
    real = np.asarray(meter_ids, dtype=object).astype(str)
    serial_key = _key_number(key, b"mhhs-serial")

    def serial(i: int, attempt: int) -> str:
        digest = hashlib.blake2b(f"{attempt}:{real[i]}".encode(), digest_size=8,
                                 key=str(key).encode("utf-8")[:64], person=b"mhhs-meter-id").digest()
        index = int.from_bytes(digest, "little") % METER_SERIALS
        return str(indexed_meter_serials(np.array([index]), serial_key)[0])

    out = np.array([serial(i, 0) for i in range(real.size)], dtype=object)
    return _avoid(real, out, serial).astype(str)


# =============================================================================================
# The grid: every value in dense arrays


def _edges(present: np.ndarray, midnight: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Half hours missing in the first and the last UTC day of the grid, per series.

    ``lead``: before a series' first value when that value is on the first day; ``trail``: after
    its last value when that is on the last day. A series starting later or ending earlier is not
    concerned: its missing days are gaps.

    Parameters
    ----------
    present : numpy.ndarray of bool, shape ``(series, T)``
        Supplied half hours.
    midnight : numpy.ndarray of bool, shape ``(T + 1,)``, optional
        Whether each column boundary is a local midnight. When given, only series whose values
        start (end) at a local midnight count: whole local days, which leave their first and
        last UTC day part-covered. A series that starts at, say, 05:00 has a gap instead.
    """
    T = present.shape[1]
    cols = np.arange(T)[None, :]
    first = present.argmax(axis=1)
    last = T - 1 - present[:, ::-1].argmax(axis=1)
    lead_ok, trail_ok = first < PERIODS, last >= T - PERIODS
    if midnight is not None:
        lead_ok &= midnight[first]
        trail_ok &= midnight[last + 1]
    lead = (cols < first[:, None]) & lead_ok[:, None]
    trail = (cols > last[:, None]) & trail_ok[:, None]
    return lead & ~present, trail & ~present


def _slot_sums(present: np.ndarray, values: np.ndarray, rows: np.ndarray,
               slot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum [Wh] and count of the supplied values of ``rows`` in each local half hour of day.

    A product with a one-hot matrix of the columns' half hours, a few hundred rows at a time so
    the temporaries stay small; float64 is exact for these integer sums (< 2**53 Wh).
    """
    onehot = np.zeros((slot.size, PERIODS))
    onehot[np.arange(slot.size), slot] = 1.0
    sums = np.zeros((rows.size, PERIODS), dtype=np.int64)
    counts = np.zeros((rows.size, PERIODS), dtype=np.int64)
    for i in range(0, rows.size, 256):
        sel = rows[i: i + 256]
        supplied = present[sel]
        sums[i: i + 256] = np.rint(np.where(supplied, values[sel], 0).astype(np.float64) @ onehot)
        counts[i: i + 256] = np.rint(supplied.astype(np.float64) @ onehot)
    return sums, counts


class _Grid:
    """Values in dense arrays: one row per (MPAN, MQID) series, one column per UTC half hour."""

    def __init__(self, state: _State) -> None:
        self.state = state
        self.problems = state.problems
        self.mapping: pd.DataFrame | None = None

    @classmethod
    def build(cls, state: _State, key: str | None) -> _Grid:
        """Place every value; report duplicates."""
        grid = cls(state)
        grid._meters(key)
        grid._place()
        return grid

    def _meters(self, key: str | None) -> None:
        """Output identifiers (pseudonyms with a key) and the meters' order: by output MPAN."""
        real = np.array(self.state.mpans, dtype="U13")
        self.out_mpans = real
        ids = self.state.attributes["meter_id"]
        self.meter_ids = np.array([ids[m].value if m in ids else "" for m in range(real.size)], dtype=object)
        if key is not None and real.size:
            self.out_mpans = pseudonymise_mpans(real, key)
            distinct = sorted(set(self.meter_ids.tolist()) - {""})
            fake = dict(zip(distinct, pseudonymise_meter_ids(distinct, key).tolist(), strict=True)) if distinct else {}
            frames = [pd.DataFrame({"kind": "mpan", "real": real, "pseudonym": self.out_mpans}),
                      pd.DataFrame({"kind": "meter_id", "real": distinct,
                                    "pseudonym": [fake[d] for d in distinct]})]
            self.mapping = pd.concat(frames, ignore_index=True).sort_values(["kind", "real"], ignore_index=True)
            self.meter_ids = np.array([fake.get(m, "") for m in self.meter_ids], dtype=object)
        self.rank = np.empty(real.size, dtype=np.int64)
        self.by_rank = np.argsort(self.out_mpans, kind="stable")  # meter code of each rank
        self.rank[self.by_rank] = np.arange(real.size)

    def _place(self) -> None:
        parts = self.state.parts
        if not parts:
            self.problems.add_file(0, "no values in the input")
            return
        n_keys = len(self.state.mpans) * 4
        used = np.zeros(n_keys, dtype=bool)
        first, last = np.iinfo(np.int64).max, np.iinfo(np.int64).min
        for part in parts:
            used[self.rank[part.meter] * 4 + part.mqid] = True
            first, last = min(first, int(part.period.min())), max(last, int(part.period.max()))
        both = used.reshape(-1, 4)[:, 0] & used.reshape(-1, 4)[:, 1]  # per rank: AI and AE
        if both.any():
            self._both_directions(self.by_rank[np.flatnonzero(both)])
            return
        self.series = np.flatnonzero(used)  # rank * 4 + mqid: meter-major, AI AE RI RE
        row_of = np.full(n_keys, -1, dtype=np.int64)
        row_of[self.series] = np.arange(self.series.size)
        self.first_day = (first - 1) // PERIODS  # UTC day of the earliest period end
        n_days = (last - 1) // PERIODS - self.first_day + 1
        self.R, self.T = self.series.size, n_days * PERIODS
        if self.R * self.T > MAX_CELLS:
            self.problems.add_file(0, f"the values span {n_days} UTC days for {self.R} MPAN/MQID series "
                                   f"({self.R * self.T:,} half hours for {self.state.values:,} values): "
                                   "convert MPANs with distant dates separately")
            return
        base = self.first_day * PERIODS + 1  # period number of column 0
        cells = self.R * self.T  # < 2**31 (MAX_CELLS): int32 cell numbers
        self.flat = np.empty(self.state.values, dtype=np.int32)  # the cell of every value read
        self.ends = np.cumsum([p.size for p in parts])
        owner = np.full(cells, -1, dtype=np.int32)  # position of the value a cell holds
        self.values = np.zeros(cells, dtype=np.int64)
        self.quality = np.zeros(cells, dtype=np.int8)
        self.reasons = np.zeros(cells, dtype=np.int8)
        start = 0
        for part, end in zip(parts, self.ends.tolist(), strict=True):
            flat = row_of[self.rank[part.meter] * 4 + part.mqid] * self.T + (part.period - base)
            self.flat[start:end] = flat
            owner[flat] = np.arange(start, end, dtype=np.int32)
            self.values[flat] = part.wh
            if part.quality is not None:
                self.quality[flat] = part.quality
            if part.reason is not None:
                self.reasons[flat] = part.reason
            # the grid holds them now: free them as we go, to keep the peak low
            part.meter = part.mqid = part.period = part.wh = part.quality = part.reason = None
            start = end
        # a cell given twice keeps one value's position: the others are duplicates
        repeated = owner[self.flat] != np.arange(self.flat.size, dtype=np.int32)
        if repeated.any():
            self._duplicates(np.unique(self.flat[repeated]))
            return
        self.present = owner >= 0

    def _both_directions(self, meters: np.ndarray) -> None:
        """An MPAN with import (AI) and export (AE) values: a metering point has one direction,
        so the first AE value of each such MPAN is a problem pointing at its first AI value."""
        bad = np.zeros(len(self.state.mpans), dtype=bool)
        bad[meters] = True
        first: dict[int, dict[int, tuple[int, int]]] = {0: {}, 1: {}}  # AI, AE: meter -> (file, row)
        for part in self.state.parts:
            for mqid, found in first.items():
                hit = np.flatnonzero(bad[part.meter] & (part.mqid == mqid))
                codes, at = np.unique(part.meter[hit], return_index=True)
                for meter, k in zip(codes.tolist(), at.tolist(), strict=True):
                    found.setdefault(meter, (part.file, part.row(int(hit[k]))))
        shown = sorted(meters.tolist(), key=lambda m: first[1][m])
        self.problems.total += max(0, len(shown) - MAX_REPORTED)
        for meter in shown[:MAX_REPORTED]:
            (file, row), (file0, row0) = first[1][meter], first[0][meter]
            self.problems.add_cell(
                file, row, "mqid", "AE",
                f"MPAN {self.state.mpans[meter]} has import (AI) values too (first on "
                f"{self.problems.where(file0, row0)}): a metering point has one direction; give "
                "the export under the site's own export MPAN", order=50)

    def _where(self, positions: np.ndarray) -> list[tuple[int, int]]:
        """(file, parsed row) of positions in the concatenated values."""
        k = np.searchsorted(self.ends, positions, side="right")
        starts = np.concatenate([[0], self.ends])
        out = []
        for pos, part_no in zip(positions.tolist(), k.tolist(), strict=True):
            part = self.state.parts[part_no]
            out.append((part.file, part.row(int(pos - starts[part_no]))))
        return out

    def _duplicates(self, cells: np.ndarray) -> None:
        """Every value after the first for the same MPAN, MQID and half hour is a problem."""
        positions = np.flatnonzero(np.isin(self.flat, cells))
        order = np.lexsort((positions, self.flat[positions]))
        positions = positions[order]
        cell_of = self.flat[positions]
        repeat = np.concatenate([[False], cell_of[1:] == cell_of[:-1]])
        firsts = np.maximum.accumulate(np.where(~repeat, np.arange(positions.size), 0))
        shown = np.flatnonzero(repeat)
        self.problems.total += max(0, shown.size - MAX_REPORTED)
        for j in shown[:MAX_REPORTED].tolist():
            (file, row), (file0, row0) = self._where(positions[[j, firsts[j]]])
            end = self._period_text(np.array([cell_of[j] % self.T]))[0]
            self.problems.add_cell(file, row, self.state.time_column, end,
                                   "duplicate: the same MPAN, MQID and half hour as "
                                   f"{self.problems.where(file0, row0)}", order=50)

    def _period_text(self, columns: np.ndarray) -> np.ndarray:
        """UTC period-end text [UTC] of grid columns."""
        minutes = (self.first_day * PERIODS + 1 + np.asarray(columns, dtype=np.int64)) * _HALF_HOUR
        return format_utc(minutes.astype("datetime64[m]"))

    # -- completing the data ----------------------------------------------------------------
    def complete(self, *, fill_missing: bool, drop_incomplete_days: bool,
                 sources: list[str]) -> SuppliedConsumption | None:
        """Whole UTC days: complete (or drop) the first and last day, fill or refuse the gaps.

        Completed: the half hours a series of whole local days leaves uncovered in the first and
        last UTC day. Dropped (``drop_incomplete_days``): a first or last UTC day some series
        covers only in part, whatever the reason. Anything else missing is a gap.

        Returns None after recording problems.
        """
        R, T = self.R, self.T
        present = self.present.reshape(R, T)
        values = self.values.reshape(R, T)
        notes: list[dict[str, str | None]] = []
        start, stop = 0, T
        if drop_incomplete_days:
            lead, trail = _edges(present)
            start, stop = (PERIODS if lead.any() else 0), (T - PERIODS if trail.any() else T)
            if stop <= start:
                self.problems.add_file(0, "no complete UTC day is left after dropping the incomplete ones")
                return None
            notes += self._dropped(present, values, start, stop)
        before = present[:, :start].any(axis=1)  # series supplied inside a dropped first day
        dropped_wh = (values[:, :start] * present[:, :start]).sum(axis=1)
        self.first_day += start // PERIODS
        self.offset = start
        present, values = present[:, start:stop], values[:, start:stop]
        quality = self.quality.reshape(R, T)[:, start:stop]
        reasons = self.reasons.reshape(R, T)[:, start:stop]
        empty = np.flatnonzero(~present.any(axis=1))
        for row in empty.tolist():
            mpan, mqid = self._label(row)
            self.problems.add_file(0, f"every value of MPAN {mpan} {mqid} lies in the incomplete UTC "
                                   "days dropped: convert it without drop_incomplete_days")
        if empty.size:
            return None
        lead, trail = _edges(present, self._local_slots(present.shape[1] + 1) == 0)
        edge = lead | trail
        install = self._install_days(present)
        inside = ~present & ~edge
        # nothing is missing before a meter was installed: its values are never sent
        inside &= np.arange(present.shape[1])[None, :] >= (np.maximum(install, 0) * PERIODS)[self.series // 4][:, None]
        notes += self._install_notes(install)
        if inside.any() and not fill_missing:
            self._gaps(inside)
            return None
        if (edge | inside).any():
            notes += self._fill(present, values, quality, reasons, edge | inside, edge)
        first_supplied = present.argmax(axis=1)
        estimated_before = np.array([values[r, : first_supplied[r]].sum() for r in range(R)], dtype=np.int64)
        # the register is given at the start of a series' first supplied half hour
        shift = np.where(before, dropped_wh, -estimated_before)
        registers = self._registers(shift)
        if self.problems.total:
            return None
        days = (self.first_day + np.arange(present.shape[1] // PERIODS)).astype("datetime64[D]")
        return SuppliedConsumption(
            days=days,
            row_meter=(self.series // 4).astype(np.int64), row_mqid=(self.series % 4).astype(np.int8),
            meters=self._meter_frame(registers, install),
            values=np.ascontiguousarray(values), quality=np.ascontiguousarray(quality),
            reasons=np.ascontiguousarray(reasons), notes=notes, sources=list(sources))

    def _install_days(self, present: np.ndarray) -> np.ndarray:
        """Install day index of each meter (by rank), :data:`INSTALLED_BEFORE` for none.

        A meter whose every series first has a value at the same 00:00 UTC after the first day
        was installed then: the whole days before are not a gap.
        """
        first = present.argmax(axis=1)  # every series has a value (checked before)
        meter = self.series // 4
        n = len(self.state.mpans)
        earliest = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        latest = np.full(n, -1, dtype=np.int64)
        np.minimum.at(earliest, meter, first)
        np.maximum.at(latest, meter, first)
        starts = (earliest == latest) & (earliest >= PERIODS) & (earliest % PERIODS == 0)
        return np.where(starts, earliest // PERIODS, INSTALLED_BEFORE).astype(np.int64)

    def _install_notes(self, install: np.ndarray) -> list[dict]:
        """A conversion-report note per meter read as installed inside the data."""
        notes = []
        for rank in np.flatnonzero(install >= 0).tolist():
            day = np.datetime64(int(self.first_day + install[rank]), "D")
            notes.append({"mpan": str(self.out_mpans[self.by_rank[rank]]), "mqid": None, "utc_period_end": None,
                          "action": "meter installed",
                          "detail": f"every channel starts at {day}T00:00:00Z, after the first day: read as the "
                                    "meter's install date (no values sent before it, an installation read then)"})
        return notes

    def _label(self, row: int) -> tuple[str, str]:
        """(output MPAN, MQID) of a series row."""
        key = int(self.series[row])
        return str(self.out_mpans[self.by_rank[key // 4]]), MEASUREMENT_QUANTITY_IDS[key % 4]

    def _dropped(self, present: np.ndarray, values: np.ndarray, start: int, stop: int) -> list[dict]:
        """Notes for the supplied values of the dropped first and last days."""
        notes = []
        T = present.shape[1]
        for cols in (slice(0, start), slice(stop, T)):
            if cols.start == cols.stop:
                continue
            day = np.datetime64(int(self.first_day + cols.start // PERIODS), "D")
            counts = present[:, cols].sum(axis=1)
            for row in np.flatnonzero(counts).tolist():
                mpan, mqid = self._label(row)
                wh = int(values[row, cols][present[row, cols]].sum())
                notes.append({"mpan": mpan, "mqid": mqid, "utc_period_end": None, "action": "dropped day",
                              "detail": f"UTC day {day} is incomplete: its {int(counts[row])} supplied "
                                        f"half hours ({wh} Wh) were left out"})
        return notes

    def _gaps(self, inside: np.ndarray) -> None:
        """Refuse half hours missing inside the data: one problem per run, at a neighbouring row."""
        R, T = inside.shape
        padded = np.zeros((R, T + 2), dtype=np.int8)
        padded[:, 1:-1] = inside
        step = np.diff(padded, axis=1)
        rows, starts = np.nonzero(step == 1)
        _, stops = np.nonzero(step == -1)  # same order: row-major, one stop per start
        self.problems.total += max(0, rows.size - MAX_REPORTED)
        for row, a, b in zip(rows[:MAX_REPORTED].tolist(), starts[:MAX_REPORTED].tolist(),
                             stops[:MAX_REPORTED].tolist(), strict=True):
            anchor = a - 1 if a > 0 and not inside[row, a - 1] else b  # a supplied neighbour
            anchor_cell = row * self.T + self.offset + anchor
            position = np.flatnonzero(self.flat == anchor_cell)
            mpan, mqid = self._label(row)
            text = self._period_text(np.array([a, b - 1]))
            span = f"{text[0]}" if b - a == 1 else f"{text[0]} to {text[1]}"
            many = b - a > 1
            rule = (f"{mqid}: {b - a} half hour{'s' if many else ''} ending {span} "
                    f"{'are' if many else 'is'} missing {'after' if anchor < a else 'before'} this "
                    f"row: supply {'them' if many else 'it'} or estimate {'them' if many else 'it'} "
                    f"{REMEDIES['fill_missing'][0]}")
            if position.size:
                file, parsed_row = self._where(position[:1])[0]
                meter = self.by_rank[int(self.series[row]) // 4]
                self.problems.add_cell(file, parsed_row, "mpan", self.state.mpans[meter], rule, 60)
            else:
                self.problems.add_file(0, rule)

    def _fill(self, present: np.ndarray, values: np.ndarray, quality: np.ndarray, reasons: np.ndarray,
              fill: np.ndarray, edge: np.ndarray) -> list[dict]:
        """Estimate the half hours in ``fill`` (E0 between two supplied values, else E5)."""
        T = present.shape[1]
        rows = np.flatnonzero(fill.any(axis=1))
        slot = self._local_slots(T)
        sums, counts = _slot_sums(present, values, rows, slot)
        # the meter's mean for that local half hour of day, rounded half up to a whole Wh; its
        # overall mean where that half hour was never supplied
        mean = (2 * sums + counts) // np.maximum(2 * counts, 1)
        total, n = sums.sum(axis=1), counts.sum(axis=1)
        overall = (2 * total + n) // (2 * n)
        rr, cc = np.nonzero(fill)
        j, at = np.searchsorted(rows, rr), slot[cc]
        left = (cc > 0) & present[rr, np.maximum(cc - 1, 0)]
        right = (cc < T - 1) & present[rr, np.minimum(cc + 1, T - 1)]
        single = left & right
        pair = values[rr, np.maximum(cc - 1, 0)] + values[rr, np.minimum(cc + 1, T - 1)]
        history = counts[j, at] > 0
        wh = np.where(single, (pair + 1) // 2, np.where(history, mean[j, at], overall[j]))
        values[rr, cc] = wh
        quality[rr, cc] = np.where(single, _Q_INDEX[FILL_SINGLE], _Q_INDEX[FILL_HISTORY])
        reasons[rr, cc] = REASON_MISSING
        return self._fill_notes(rr, cc, wh, single, history, counts[j, at], edge[rr, cc], slot)

    def _fill_notes(self, rr: np.ndarray, cc: np.ndarray, wh: np.ndarray, single: np.ndarray,
                    history: np.ndarray, days: np.ndarray, edge: np.ndarray, slot: np.ndarray) -> list[dict]:
        """One conversion-report note per estimated half hour."""
        text = self._period_text(cc)
        labels = {row: self._label(row) for row in np.unique(rr).tolist()}
        reason = f"e {REASON_MISSING} {ESTIMATION_REASON_NAMES[str(REASON_MISSING)]}"
        notes = []
        for k, (row, c) in enumerate(zip(rr.tolist(), cc.tolist(), strict=True)):
            if single[k]:
                how = f"q {FILL_SINGLE}, {reason}: mean of the two neighbouring half hours"
            elif history[k]:
                start = f"{slot[c] // 2:02d}:{slot[c] % 2 * 30:02d}"
                how = (f"q {FILL_HISTORY}, {reason}: the meter's mean for the half hour starting "
                       f"{start} local time, over {int(days[k])} supplied half hours")
            else:
                how = f"q {FILL_HISTORY}, {reason}: the meter's mean half hour"
            mpan, mqid = labels[row]
            notes.append({"mpan": mpan, "mqid": mqid, "utc_period_end": str(text[k]),
                          "action": "completed UTC day" if edge[k] else "filled missing half hour",
                          "detail": f"estimated {int(wh[k])} Wh ({how})"})
        return notes

    def _local_slots(self, T: int) -> np.ndarray:
        """Local (Europe/London) half hour of day (0-47) in which each of ``T`` columns starts."""
        starts = ((self.first_day * PERIODS + np.arange(T)) * _HALF_HOUR).astype("datetime64[m]")
        local = pd.DatetimeIndex(starts.astype("datetime64[ns]")).tz_localize("UTC").tz_convert(LOCAL_TZ)
        return (local.hour * 2 + local.minute // _HALF_HOUR).to_numpy().astype(np.int64)

    def _registers(self, shift: np.ndarray) -> np.ndarray:
        """Opening register [Wh] at the start of the first UTC day, per meter (by rank).

        The user gives the register at the start of each MPAN's first supplied half hour: add what
        was supplied in a dropped first day, subtract what was estimated before that half hour
        (``shift`` per series [Wh]; the AI series drives the register, the AE one for an MPAN that only exports).
        """
        out = np.full(len(self.state.mpans), NO_REGISTER_START, dtype=np.int64)
        # the series the register counts: AI, or AE for an MPAN that only exports
        ai_row = {int(key) // 4: r for r, key in reversed(list(enumerate(self.series.tolist()))) if key % 4 in (0, 1)}
        for meter, given in self.state.register_starts().items():
            rank = int(self.rank[meter])
            row = ai_row.get(rank)
            start = given + (int(shift[row]) if row is not None else 0)
            if start < 0:
                file, parsed_row = self.state.first_seen[meter]
                self.problems.add_cell(file, parsed_row, "register_start_kwh",
                                       _attribute_text("register_start", str(given)),
                                       "smaller than the estimates made before the MPAN's first half "
                                       "hour: the register would start below zero", 30)
            out[rank] = start
        return out

    def _meter_frame(self, registers: np.ndarray, install: np.ndarray | None = None) -> pd.DataFrame:
        order = self.by_rank
        attributes = self.state.attributes

        def given(name: str, default: str) -> list[str]:
            return [attributes[name][m].value if m in attributes[name] else default for m in order.tolist()]

        gsp = [g if g else (GSP_GROUP_BY_DISTRIBUTOR.get(self.state.mpans[m][:2]) or "")
               for g, m in zip(given("gsp_group", ""), order.tolist(), strict=True)]
        return pd.DataFrame({
            "mpan": self.out_mpans[order].astype(object),
            "meter_id": self.meter_ids[order].astype(object),
            "connection_type": given("connection_type", "W"),
            "gsp_group": gsp,
            "register_start_wh": registers,
            **({} if install is None or (install < 0).all() else {INSTALL_DAY_COLUMN: install}),
        })
