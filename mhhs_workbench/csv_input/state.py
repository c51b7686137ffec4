"""What the files have given so far: meters, their attributes and the valid values.

:class:`State` gathers across files and blocks the meter code of each valid MPAN, the one value
per MPAN of each meter attribute (and of the ``register_csv`` file), the layout the first file set,
and the valid half hours of each block as a :class:`Part`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mhhs_workbench.codes.identifiers import GSP_GROUP_BY_DISTRIBUTOR
from mhhs_workbench.codes.rules import GSP
from mhhs_workbench.csv_input.cells import ATTRIBUTES, attribute_text, exact_wh, mpan_rule
from mhhs_workbench.csv_input.files import MAX_REGISTER_BYTES, read_bytes
from mhhs_workbench.csv_input.problems import LineMap, Problems, rule_text


@dataclass
class Part:
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


class State:
    """Meters, values, layout and problems gathered from the files read so far."""

    def __init__(self, problems: Problems, *, max_wh: int, forced_layout: str | None) -> None:
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
        self.attributes: dict[str, dict[int, _Given]] = {a: {} for a in ATTRIBUTES}
        self.register_file: dict[int, _Given] = {}
        self.parts: list[Part] = []
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
                problem = self.invalid_mpans.get(raw) or mpan_rule(raw)
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
        return (f"differs from {attribute_text(name, seen.value)!r} given earlier for MPAN "
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
                                       f"MPAN {mpan} is in {host}: {rule_text(GSP)}", order=20)

    def read_register_csv(self, path: Path, file: int) -> None:
        """The ``mpan,register_start_kwh`` file: each MPAN's opening register [kWh]."""
        problems = self.problems
        problems.lines[file] = LineMap()
        data = read_bytes(path, file, problems, limit=MAX_REGISTER_BYTES)
        if data is None:
            return
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            problems.add_line(file, 1, "file", "", "not UTF-8 text: save the file as CSV UTF-8")
            return
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            self._register_rows(reader, file)
        except csv.Error as exc:  # a field over csv's limit (128 KiB), ...
            problems.add_line(file, reader.line_num, "row", "", f"not a CSV row ({exc})")

    def _register_rows(self, reader: Any, file: int) -> None:
        """Check the register file's header and read its rows (``reader``: a ``csv.reader``)."""
        problems = self.problems
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
        rule = mpan_rule(mpan.encode("utf-8", "surrogateescape"))
        if rule:
            problems.add_line(file, line, "mpan", mpan, rule)
            return
        meter = self.codes.get(mpan.encode())
        if meter is None:
            problems.add_line(file, line, "mpan", mpan, "MPAN not in the consumption files")
            return
        wh, rule = exact_wh(value, unit)
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
                              f"differs from {attribute_text('register_start', given.value)!r} given "
                              f"for this MPAN at {problems.where(given.file, given.row)}", order=1)

    def register_starts(self) -> dict[int, int]:
        """Opening register [Wh] of each meter that has one, by meter code."""
        out = {m: int(g.value) for m, g in self.attributes["register_start"].items()}
        out.update({m: int(g.value) for m, g in self.register_file.items()})
        return out
