"""The problems found in the user's files, and how each is worded.

Every problem is counted; the first :data:`MAX_REPORTED` in file, line and column order are worded
as ``file:line: column: value: rule`` and raised together as a :class:`CsvInputError`. A CSV row's
physical line is known only once its whole file is parsed, so :class:`Problems` holds row problems
until :class:`LineMap` can turn their parsed rows into lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mhhs_workbench.codes.remedies import FRONTS, REMEDIES
from mhhs_workbench.codes.rules import RULES

#: Problems worded in full; the rest are counted.
MAX_REPORTED = 50
#: Longest value echoed in a problem line [characters, quotes included].
MAX_ECHO = 80


def shown_name(name: str) -> str:
    """A file name as problem lines show it: as it is, or quoted with escapes (``'a\\nb.csv'``)
    when it holds characters that are not printable (a line break would split a problem line)."""
    return name if name.isprintable() else repr(name)


def rule_text(code: str) -> str:
    """A business rule of :mod:`mhhs_workbench.codes.rules` as quoted in problems: text [code]."""
    return f"{RULES[code].text} [{code}]"


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


@dataclass(order=True)
class _Entry:
    """One worded problem, sortable by file, line and column."""

    file: int
    line: int  # physical line (1 = header), Parquet row; 0 for the whole file
    column: int
    text: str = field(compare=False)


class Problems:
    """Every problem found; the first :data:`MAX_REPORTED` in file and line order are worded.

    While a CSV is read its rows are known by their parsed-row number; their lines are final only
    once the whole file is parsed (ragged rows pyarrow skips and quoted line breaks shift them),
    so row problems wait in ``pending`` until :meth:`resolve_file`.
    """

    def __init__(self, names: list[str]) -> None:
        self.names = [shown_name(n) for n in names]  # as problem lines show them
        self.entries: list[_Entry] = []
        self.total = 0
        self.pending: dict[int, list[tuple[int, int, str, Any, str]]] = {}
        self.kept_before_block: dict[int, int] = {}
        self.lines: dict[int, LineMap] = {}

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

    def resolve_file(self, file: int, lines: LineMap) -> None:
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
            self.resolve_file(file, self.lines.get(file) or LineMap())
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


class LineMap:
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
