"""One block of rows, checked column by column, its valid values kept.

Each column is checked whole (pyarrow or numpy); only the rare bad cells are then worded one by
one. The block's valid half hours become a :class:`~mhhs_workbench.csv_input.state.Part`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mhhs_workbench.codes.messages import PERIOD_MINUTES
from mhhs_workbench.codes.rules import ECS1011, ECS1015
from mhhs_workbench.csv_input.cells import (
    ATTRIBUTES,
    IS_ACTUAL,
    IS_ESTIMATE,
    IS_ZE,
    KWH_FAST,
    NO_DAY,
    WH_FAST,
    as_bytes,
    attribute_rule,
    byte_lengths,
    cell_bytes,
    date_value,
    instants,
    local_midnight_periods,
    mqid_rule,
    no_such_period,
    period_counts,
    period_number,
    quality_rule,
    reason_rule,
    too_big_rule,
    value_rule,
)
from mhhs_workbench.csv_input.layout import Spec
from mhhs_workbench.csv_input.problems import rule_text
from mhhs_workbench.csv_input.state import Part, State
from mhhs_workbench.time.periods import local_to_utc


class Block:
    """Check one block of rows, column by column, and keep its valid values.

    Each column is checked whole (pyarrow or numpy); only the rare bad cells are then worded one
    by one. A row with several problems gets each of them reported.
    """

    def __init__(self, batch: pa.RecordBatch, file: int, first_row: int, spec: Spec, state: State) -> None:
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
                                     self.spec.order(name), lambda row: cell_bytes(column, row - first), wording)
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
        """Check every column and keep the block's valid values as a :class:`Part`."""
        if not self.n:
            return
        self._dictionary_line_breaks()
        blank = self._blank_rows()
        meter = self._meters(blank)
        mqid = self._codes("mqid", mqid_rule, blank)
        quality = self._codes("quality", quality_rule, blank) if "quality" in self.columns else None
        reason = self._codes("reason", reason_rule, blank) if "reason" in self.columns else None
        for name in ATTRIBUTES:
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
            self.state.parts.append(Part(
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
        blank = byte_lengths(self.columns["mpan"]) == 0
        for column in self.columns.values():
            if not blank.any():
                break
            blank &= byte_lengths(column) == 0
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
        self.report((meter < 0) & ~blank, "mpan", lambda v, _: invalid.get(as_bytes(v)) or "invalid MPAN")
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
            self.report(bad, name, lambda v, _: messages.get(as_bytes(v), "invalid"))
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
        parsed = [attribute_rule(canonical, v) for v in dictionary]
        indices = column.indices.to_numpy(zero_copy_only=False)
        messages = {v: p[1] for v, p in zip(dictionary, parsed, strict=True) if p[1]}
        if messages:
            bad = np.array([p[1] is not None for p in parsed])[indices] & ~blank
            self.report(bad, canonical, lambda v, _: messages.get(as_bytes(v), "invalid"))
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
        minutes, rules = instants(column.dictionary, self.state.instant_cache)
        indices = column.indices.to_numpy(zero_copy_only=False)
        bad_entry = np.array([r is not None for r in rules] or [False])
        if bad_entry.any():
            lookup = {(column.dictionary[i].as_py() or b""): rules[i] for i in np.flatnonzero(bad_entry)}
            self.report(bad_entry[indices] & ~blank, "timestamp", lambda v, _: lookup.get(as_bytes(v), "invalid"))
        period = minutes[indices] // PERIOD_MINUTES
        if self.spec.crosscheck:
            local = self._local(blank)
            mismatch = (local >= 0) & ~bad_entry[indices] & (local != period) & ~blank
            self.report(mismatch, "settlement_period",
                        "settlement_date and settlement_period are not the half hour the timestamp ends")
        return period

    def _local(self, blank: np.ndarray) -> np.ndarray:
        """UTC half-hour number of each row from its local settlement date and period (-1 bad)."""
        day = self._dates(blank)
        number = self._lookup(self.columns["settlement_period"], "settlement_period", period_number, blank, 0)
        valid = (day != NO_DAY) & (number > 0) & ~blank
        out = np.full(self.n, -1, dtype=np.int64)
        counts = period_counts(day, valid)
        beyond = valid & (number > counts)
        self.report(beyond, "settlement_period", lambda v, i: no_such_period(int(number[i]), day[i], counts[i]))
        valid &= ~beyond
        if valid.any():
            pairs = day[valid] * 64 + number[valid]
            uniq, inverse = np.unique(pairs, return_inverse=True)
            ends = local_to_utc((uniq // 64).astype("datetime64[D]"), uniq % 64)
            out[valid] = (ends.astype("datetime64[m]").astype(np.int64) // PERIOD_MINUTES)[inverse]
        return out

    def _dates(self, blank: np.ndarray) -> np.ndarray:
        """Local settlement date of each row as days since 1970 (:data:`NO_DAY` if bad)."""
        return self._lookup(self.columns["settlement_date"], "settlement_date", date_value, blank, NO_DAY)

    def _wide(self, blank: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row, UTC half-hour number and Wh of every non-blank period cell of the day rows."""
        day = self._dates(blank)
        valid_day = (day != NO_DAY) & ~blank
        counts = period_counts(day, valid_day)
        midnight = local_midnight_periods(day, valid_day)
        rows, periods, values = [], [], []
        for k, name in enumerate(self.spec.wide, start=1):
            present = (byte_lengths(self.columns[name]) > 0) & ~blank
            beyond = present & valid_day & (k > counts)
            self.report(beyond, name, lambda v, i, k=k: no_such_period(k, day[i], counts[i]))
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
        fast = pc.match_substring_regex(column, KWH_FAST if unit == "kwh" else WH_FAST)
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
        self.report(~fine & ~skip, name, lambda v, _: value_rule(as_bytes(v), unit, max_wh))
        too_big = fine & (wh > max_wh) & ~skip
        self.report(too_big, name, too_big_rule(max_wh))
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
            (IS_ZE[q] & (wh > 0), where_v, lambda: rule_text(ECS1011)),
            (IS_ESTIMATE[q] & (e == 0), where_e, lambda: rule_text(ECS1015)),
            (IS_ACTUAL[q] & (e > 0), where_e, lambda: "actual data (q A, A1-A3) carries no estimation reason e"),
        ):
            hit = np.zeros(self.n, dtype=bool)
            hit[rows[bad & valid]] = True
            if hit.any():
                self.report(hit, name, rule())
