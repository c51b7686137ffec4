"""The half-hour grid: every value in dense arrays, completed into whole UTC days.

:class:`Grid` places each value at its (MPAN, MQID) series and UTC half hour, refuses duplicates
and MPANs with both directions, completes (or drops) the first and last UTC day, fills
(``fill_missing``) or refuses the half hours missing inside the data, and builds the
:class:`~mhhs_workbench.model.supplied.SuppliedConsumption`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mhhs_workbench.codes.identifiers import GSP_GROUP_BY_DISTRIBUTOR
from mhhs_workbench.codes.messages import (
    ESTIMATION_REASON_NAMES,
    MEASUREMENT_QUANTITY_IDS,
    PERIOD_MINUTES,
)
from mhhs_workbench.codes.remedies import REMEDIES
from mhhs_workbench.csv_input.cells import Q_INDEX, attribute_text
from mhhs_workbench.csv_input.problems import MAX_REPORTED
from mhhs_workbench.csv_input.pseudonyms import pseudonymise_meter_ids, pseudonymise_mpans
from mhhs_workbench.csv_input.state import State
from mhhs_workbench.model.estimation import interpolate_single
from mhhs_workbench.model.supplied import (
    INSTALL_DAY_COLUMN,
    INSTALLED_BEFORE,
    NO_REGISTER_START,
    SuppliedConsumption,
)
from mhhs_workbench.time.periods import LOCAL_TZ, PERIODS_PER_UTC_DAY, format_utc

#: Most cells (series x half hours) a conversion may span [cells of 10 bytes], so MPANs whose
#: dates lie years apart cannot exhaust memory.
MAX_CELLS = 200_000_000

# Half hours the user did not supply are estimated as a Data Service estimates missing data:
# reason 2 "Missing" (DI-076), and the DI-083 method used. E0 "single missing period" when one
# half hour is missing between two supplied ones: their rounded mean, or 0 beside a neighbour at 0.
# That rule lives in mhhs_workbench.model.estimation.interpolate_single, which the generator's
# Data Service uses too, so the two never differ. E5 "previous daily advance" otherwise, because
# the value comes from the meter's own history (its mean for that half hour of the local day). E1
# would claim an actual daily advance over the gap, which a CSV of half hours does not carry
# (estimation.shaped_spread shares such a known advance; there is none to share here).
FILL_SINGLE = "E0"
FILL_HISTORY = "E5"
REASON_MISSING = int(next(c for c, name in ESTIMATION_REASON_NAMES.items() if name == "Missing"))


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
    lead_ok, trail_ok = first < PERIODS_PER_UTC_DAY, last >= T - PERIODS_PER_UTC_DAY
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
    onehot = np.zeros((slot.size, PERIODS_PER_UTC_DAY))
    onehot[np.arange(slot.size), slot] = 1.0
    sums = np.zeros((rows.size, PERIODS_PER_UTC_DAY), dtype=np.int64)
    counts = np.zeros((rows.size, PERIODS_PER_UTC_DAY), dtype=np.int64)
    for i in range(0, rows.size, 256):
        sel = rows[i: i + 256]
        supplied = present[sel]
        sums[i: i + 256] = np.rint(np.where(supplied, values[sel], 0).astype(np.float64) @ onehot)
        counts[i: i + 256] = np.rint(supplied.astype(np.float64) @ onehot)
    return sums, counts


class Grid:
    """Values in dense arrays: one row per (MPAN, MQID) series, one column per UTC half hour."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.problems = state.problems
        self.mapping: pd.DataFrame | None = None

    @classmethod
    def build(cls, state: State, key: str | None) -> Grid:
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
        self.first_day = (first - 1) // PERIODS_PER_UTC_DAY  # UTC day of the earliest period end
        n_days = (last - 1) // PERIODS_PER_UTC_DAY - self.first_day + 1
        self.R, self.T = self.series.size, n_days * PERIODS_PER_UTC_DAY
        if self.R * self.T > MAX_CELLS:
            self.problems.add_file(0, f"the values span {n_days} UTC days for {self.R} MPAN/MQID series "
                                   f"({self.R * self.T:,} half hours for {self.state.values:,} values): "
                                   "convert MPANs with distant dates separately")
            return
        base = self.first_day * PERIODS_PER_UTC_DAY + 1  # period number of column 0
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
        minutes = (self.first_day * PERIODS_PER_UTC_DAY + 1 + np.asarray(columns, dtype=np.int64)) * PERIOD_MINUTES
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
            start, stop = (PERIODS_PER_UTC_DAY if lead.any() else 0), (T - PERIODS_PER_UTC_DAY if trail.any() else T)
            if stop <= start:
                self.problems.add_file(0, "no complete UTC day is left after dropping the incomplete ones")
                return None
            notes += self._dropped(present, values, start, stop)
        before = present[:, :start].any(axis=1)  # series supplied inside a dropped first day
        dropped_wh = (values[:, :start] * present[:, :start]).sum(axis=1)
        self.first_day += start // PERIODS_PER_UTC_DAY
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
        inside &= np.arange(present.shape[1])[None, :] >= (np.maximum(install, 0) * PERIODS_PER_UTC_DAY)[self.series // 4][:, None]
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
        days = (self.first_day + np.arange(present.shape[1] // PERIODS_PER_UTC_DAY)).astype("datetime64[D]")
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
        starts = (earliest == latest) & (earliest >= PERIODS_PER_UTC_DAY) & (earliest % PERIODS_PER_UTC_DAY == 0)
        return np.where(starts, earliest // PERIODS_PER_UTC_DAY, INSTALLED_BEFORE).astype(np.int64)

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
            day = np.datetime64(int(self.first_day + cols.start // PERIODS_PER_UTC_DAY), "D")
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
        before, after = values[rr, np.maximum(cc - 1, 0)], values[rr, np.minimum(cc + 1, T - 1)]
        # E0 is the generator's rule, not a copy: mhhs_workbench.model.estimation.interpolate_single
        # (the rounded mean, or 0 when a neighbour is 0: the flow stopped at that edge)
        between = interpolate_single(before, after)
        stopped = single & (between == 0) & (np.maximum(before, after) > 0)
        history = counts[j, at] > 0
        wh = np.where(single, between, np.where(history, mean[j, at], overall[j]))
        values[rr, cc] = wh
        quality[rr, cc] = np.where(single, Q_INDEX[FILL_SINGLE], Q_INDEX[FILL_HISTORY])
        reasons[rr, cc] = REASON_MISSING
        return self._fill_notes(rr, cc, wh, single, stopped, history, counts[j, at], edge[rr, cc], slot)

    def _fill_notes(self, rr: np.ndarray, cc: np.ndarray, wh: np.ndarray, single: np.ndarray,
                    stopped: np.ndarray, history: np.ndarray, days: np.ndarray, edge: np.ndarray,
                    slot: np.ndarray) -> list[dict]:
        """One conversion-report note per estimated half hour.

        ``stopped``: single half hours estimated 0 beside a neighbour at 0 and one above it.
        """
        text = self._period_text(cc)
        labels = {row: self._label(row) for row in np.unique(rr).tolist()}
        reason = f"e {REASON_MISSING} {ESTIMATION_REASON_NAMES[str(REASON_MISSING)]}"
        notes = []
        for k, (row, c) in enumerate(zip(rr.tolist(), cc.tolist(), strict=True)):
            if stopped[k]:
                how = (f"q {FILL_SINGLE}, {reason}: 0, as a neighbouring half hour is 0 (the flow "
                       "stopped at that edge)")
            elif single[k]:
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
        starts = ((self.first_day * PERIODS_PER_UTC_DAY + np.arange(T)) * PERIOD_MINUTES).astype("datetime64[m]")
        local = pd.DatetimeIndex(starts.astype("datetime64[ns]")).tz_localize("UTC").tz_convert(LOCAL_TZ)
        return (local.hour * 2 + local.minute // PERIOD_MINUTES).to_numpy().astype(np.int64)

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
                                       attribute_text("register_start", str(given)),
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
