"""A file's layout (long, local or wide) from its header, and the columns it is read by.

:class:`Spec` says what one header holds: the layout (detected, or forced), each column by its
canonical name and as written, and the value unit. A header that fits no layout, or another
layout than the first file's, is a problem.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import pyarrow as pa

from mhhs_workbench.csv_input.problems import Problems
from mhhs_workbench.csv_input.state import State
from mhhs_workbench.time.periods import MAX_LOCAL_PERIODS, MIN_LOCAL_PERIODS

#: Layouts a file may have.
LAYOUTS: tuple[str, ...] = ("long", "local", "wide")
#: Columns any layout may carry, by canonical (lower-case) name.
OPTIONAL_COLUMNS = ("mqid", "quality", "reason", "meter_id", "connection_type", "gsp_group",
                    "register_start_kwh", "register_start_wh")
#: Other spellings accepted in headers (a data set's own consumption table uses these).
ALIASES = {"utc_period_end": "timestamp", "value_wh": "wh", "value_kwh": "kwh"}
_WIDE = tuple(f"p{k}" for k in range(1, MAX_LOCAL_PERIODS + 1))
_KNOWN = frozenset({"mpan", "timestamp", "kwh", "wh", "settlement_date", "settlement_period",
                    *OPTIONAL_COLUMNS, *_WIDE})
_REQUIRED = {"long": ("mpan", "timestamp"), "local": ("mpan", "settlement_date", "settlement_period"),
             "wide": ("mpan", "settlement_date", "p1")}


@dataclass
class Spec:
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
    def from_header(cls, header: list[str], file: int, state: State, first: bytes) -> Spec | None:
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
                    problems: Problems, first: bytes) -> Spec | None:
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
        elif layout == "wide" and (wide != list(_WIDE[: len(wide)]) or len(wide) < MIN_LOCAL_PERIODS):
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
