"""Rules across messages and files: resent settlement days, register reads against consumption.

Fed one message at a time by :func:`mhhs_workbench.validation.files.validate_files`, it keeps what the
rules need and no more: per MPAN, MQID and UTC settlement day the consumption of the latest
revision (48 Wh values, int32) and who sent it when; per meter register the reads. At the end:

- ``WB-DAY-RESENT``: an MPAN/MQID/day sent again must be a later revision: a new
  ``senderUniqueReference`` and a strictly later ``senderTimestamp`` [UTC];
- ``WB-MPAN-DIRECTION``: a metering point has one energy direction, so an MPAN's IF-021 active
  energy is import (``AI``) or export (``AE``), never both (an exporting site has a separate
  export MPAN). Reactive energy is not judged: a meter records both reactive quantities (``RI``,
  ``RE``) on an import MPAN whose site does not export;
- ``WB-READ-BACK``: a register's reads never go backwards, except at a wrap of its ``digits``
  (``10**digits`` kWh): a fall of more than half the register's span is taken as a wrap;
- ``WB-READ-RECONCILE``: between consecutive reads, the register advance equals the MPAN's active
  consumption (IF-021 ``AI``, or ``AE`` for an export MPAN) summed over the half hours in
  between [Wh]. Time-of-use meters (Economy 7) advance several registers, whose advances are
  added over the reads taken at the same instants; the cumulative register is reconciled alone.
  A span is reconciled only when every half hour of it was sent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mhhs_workbench.codes.messages import PERIOD_MINUTES
from mhhs_workbench.time.instants import parse_dip_datetime
from mhhs_workbench.time.periods import PERIODS_PER_UTC_DAY

__all__ = ["CrossChecks", "CrossFinding", "DayRecord", "ReadRecord", "register_digits"]

_PERIOD = timedelta(minutes=PERIOD_MINUTES)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CUMULATIVE = "C"
_ACTIVE = ("AI", "AE")  # import first: an MPAN carrying both (older data sets) reads import
#: Energy direction of each active measurement quantity (the one an MPAN's direction shows in).
DIRECTION = {"AI": "import", "AE": "export"}


@dataclass(frozen=True)
class CrossFinding:
    """A cross-message problem, placed at a message of a file.

    Attributes
    ----------
    file : int
        Position of the file among those checked.
    index : int
        Message index in the file.
    code, path, message, value : str
        As :class:`mhhs_workbench.validation.problems.Problem` (``value`` shortened, as ``repr``).
    """

    file: int
    index: int
    code: str
    path: str
    message: str
    value: str


@dataclass(frozen=True, slots=True)
class DayRecord:
    """One settlement day of one IF-021 message.

    Attributes
    ----------
    mpan, mqid : str
        Whose consumption.
    day : str
        ``settlementDayDate`` (UTC midnight, +00:00).
    values_wh : numpy.ndarray or None
        Consumption of the 48 half hours ending D 00:30 ... D+1 00:00 [Wh] (int32), ``None``
        when the day's periods could not be read as such.
    present : numpy.ndarray or None
        Which of the 48 half hours the message holds (bool).
    path : str
        JSON path of the day, e.g. ``$[3].payload.CustomBlock.B900.settlementDayConsumptionPeriods[0]``.
    """

    mpan: str
    mqid: str
    day: str
    values_wh: np.ndarray | None
    present: np.ndarray | None
    path: str


@dataclass(frozen=True, slots=True)
class ReadRecord:
    """One register read of an IF-041 message.

    Attributes
    ----------
    mpan, meter, register : str
        Whose register (``C`` for the cumulative one).
    when : datetime
        Read instant [UTC].
    reading_wh : int
        Register value [Wh].
    path : str
        JSON path of the reading value.
    """

    mpan: str
    meter: str
    register: str
    when: datetime
    reading_wh: int
    path: str


@dataclass(slots=True)  # one per MPAN/MQID/day of the run: kept small
class _Sent:
    stamp: datetime
    reference: str
    file: int
    index: int
    record: DayRecord


@dataclass(frozen=True, slots=True)
class _Read:
    record: ReadRecord
    file: int
    index: int


@dataclass
class CrossChecks:
    """State of the cross-message rules over one validation run.

    Parameters
    ----------
    sink : callable
        Called with each finding as soon as it is known (resent days at once, read rules at
        :meth:`finish`), so that findings take no memory here.
    digits : dict of str to int, optional
        Register digits per meter ID (from a data set's meters table); a meter not listed gets
        the integer digits of its largest reading (at least 5).
    """

    sink: Callable[[CrossFinding], None]
    digits: dict[str, int] = field(default_factory=dict)
    _days: dict[tuple[str, str, str], _Sent] = field(default_factory=dict)
    _reads: dict[str, list[_Read]] = field(default_factory=lambda: defaultdict(list))
    _directions: dict[str, tuple[str, str, int, str]] = field(default_factory=dict)
    _sources: list[str] = field(default_factory=list)

    def add_file(self, name: str) -> int:
        """Register a file; its number for the ``add_`` calls."""
        self._sources.append(name)
        return len(self._sources) - 1

    def drop_last_file(self) -> None:
        """Forget the file registered last (it was skipped before any message was added)."""
        self._sources.pop()

    def add_days(self, file: int, index: int, stamp: Any, reference: Any,
                 days: list[DayRecord]) -> None:
        """The settlement days of one IF-021 message (``senderTimestamp``,
        ``senderUniqueReference``)."""
        if days:
            self._check_direction(file, index, days[0])  # one message: one MPAN and MQID
        when = parse_dip_datetime(stamp, strict=False)
        if when is None or not isinstance(reference, str):
            return
        for record in days:
            key = (record.mpan, record.mqid, record.day)
            before = self._days.get(key)
            if before is None or (when > before.stamp and reference != before.reference):
                self._days[key] = _Sent(when, reference, file, index, record)
                continue
            how = ("the same senderUniqueReference" if reference == before.reference
                   else f"senderTimestamp {stamp} not later than {before.stamp.isoformat()}")
            self.sink(CrossFinding(
                file, index, "WB-DAY-RESENT", f"{record.path}.settlementDay.settlementDayDate",
                f"MPAN {record.mpan} {record.mqid} day {record.day} was already sent at "
                f"{self._where(before.file, before.record.path)}; this resend has {how}", repr(record.day)))

    def _check_direction(self, file: int, index: int, record: DayRecord) -> None:
        """WB-MPAN-DIRECTION: the first message of an MPAN sets its direction."""
        direction = DIRECTION.get(record.mqid)
        if direction is None:
            return  # reactive energy, or an unknown MQID (the schema's to report)
        first = self._directions.setdefault(record.mpan, (direction, record.mqid, file, record.path))
        if first[0] == direction:
            return
        path = record.path.split(".settlementDayConsumptionPeriods")[0] + ".MQID.measurementQuantityID"
        self.sink(CrossFinding(
            file, index, "WB-MPAN-DIRECTION", path,
            f"MPAN {record.mpan} carries {direction} ({record.mqid}) here but {first[0]} "
            f"({first[1]}) at {self._where(first[2], first[3])}: a metering point has one "
            "direction; an exporting site sends its export under its own export MPAN", repr(record.mqid)))

    def add_reads(self, file: int, index: int, reads: list[ReadRecord]) -> None:
        """The register reads of one IF-041 message."""
        for read in reads:
            self._reads[read.mpan].append(_Read(read, file, index))

    def _where(self, file: int, path: str) -> str:
        return f"{self._sources[file]} {path}"

    def finish(self) -> None:
        """Apply the read rules (their findings go to the sink)."""
        consumption = self._consumption()
        for mpan, reads in self._reads.items():
            by_register: dict[tuple[str, str], list[_Read]] = defaultdict(list)
            for read in reads:
                by_register[(read.record.meter, read.record.register)].append(read)
            advances: dict[tuple[str, str], list[tuple[_Read, _Read, int]]] = {}
            for (meter, register), series in by_register.items():
                series.sort(key=lambda r: r.record.when)
                advances[(meter, register)] = self._advances(meter, series)
            series_of = consumption.get(mpan)
            if series_of is not None:
                self._reconcile(mpan, advances, series_of)

    def _capacity_wh(self, meter: str, series: list[_Read]) -> int:
        digits = self.digits.get(meter)
        if digits is None:
            top = max(r.record.reading_wh for r in series) // 1000
            digits = max(5, len(str(top)))
        return 10 ** (digits + 3)

    def _advances(self, meter: str, series: list[_Read]) -> list[tuple[_Read, _Read, int]]:
        """WB-READ-BACK over one register; the advance [Wh] of each consecutive pair that has
        one (a fall that is no wrap has none)."""
        capacity = self._capacity_wh(meter, series)
        out = []
        for before, after in zip(series, series[1:], strict=False):
            if after.record.when == before.record.when:
                continue
            advance = after.record.reading_wh - before.record.reading_wh
            if advance < 0:
                if -advance > capacity // 2 and before.record.reading_wh < capacity:
                    advance += capacity  # the register wrapped
                else:
                    a, b = after.record, before.record
                    self.sink(CrossFinding(
                        after.file, after.index, "WB-READ-BACK", a.path,
                        f"register {a.register} of meter {a.meter} (MPAN {a.mpan}) went back from "
                        f"{b.reading_wh / 1000:.3f} kWh at {b.when.isoformat()} to "
                        f"{a.reading_wh / 1000:.3f} kWh at {a.when.isoformat()}, not a wrap of "
                        f"its {len(str(capacity)) - 4} digits", repr(f"{a.reading_wh / 1000:.3f}")))
                    continue
            out.append((before, after, advance))
        return out

    def _consumption(self) -> dict[str, _Series]:
        """Per MPAN the latest revision of each day of its active consumption."""
        chosen: dict[str, str] = {}
        for mpan, mqid, _ in self._days:
            if mqid in _ACTIVE and (mpan not in chosen or _ACTIVE.index(mqid) < _ACTIVE.index(chosen[mpan])):
                chosen[mpan] = mqid
        days: dict[str, dict[int, DayRecord]] = defaultdict(dict)
        for (mpan, mqid, day), sent in self._days.items():
            if chosen.get(mpan) == mqid and sent.record.values_wh is not None:
                start = parse_dip_datetime(day, strict=False)
                if start is not None:
                    days[mpan][(start - _EPOCH) // timedelta(days=1)] = sent.record
        return {mpan: _Series(chosen[mpan], found) for mpan, found in days.items()}

    def _reconcile(self, mpan: str, advances: dict[tuple[str, str], list[tuple[_Read, _Read, int]]],
                   series: _Series) -> None:
        # cumulative registers alone; configurable ones added up per meter over shared spans
        spans: dict[tuple[str, str, datetime, datetime], list[tuple[_Read, _Read, int]]] = (
            defaultdict(list))
        registers: dict[tuple[str, str], set[str]] = defaultdict(set)
        for (meter, register), pairs in advances.items():
            group = CUMULATIVE if register == CUMULATIVE else "configurable"
            registers[(meter, group)].add(register)
            for before, after, advance in pairs:
                spans[(meter, group, before.record.when, after.record.when)].append(
                    (before, after, advance))
        for (meter, group, start, end), pairs in spans.items():
            if len(pairs) != len(registers[(meter, group)]):
                continue  # not every register read at both instants
            used = series.between(start, end)
            if used is None:
                continue  # a half hour of the span was not sent
            advance = sum(a for _, _, a in pairs)
            if advance != used:
                after = max((p[1] for p in pairs), key=lambda r: (r.file, r.index, r.record.path))
                which = ("register C" if group == CUMULATIVE
                         else "registers " + "+".join(sorted(registers[(meter, group)])))
                self.sink(CrossFinding(
                    after.file, after.index, "WB-READ-RECONCILE", after.record.path,
                    f"{which} of meter {meter} advanced {advance} Wh from {start.isoformat()} to "
                    f"{end.isoformat()}, but IF-021 {series.mqid} consumption of MPAN {mpan} "
                    f"then is {used} Wh (difference {advance - used:+d} Wh)",
                    repr(f"{after.record.reading_wh / 1000:.3f}")))


@dataclass(frozen=True)
class _Series:
    mqid: str
    days: dict[int, DayRecord]

    def between(self, start: datetime, end: datetime) -> int | None:
        """Consumption of the half hours ending in (start, end] [Wh]; ``None`` when one of them
        is missing or the instants are not on half-hour boundaries."""
        first, last = _slot(start), _slot(end)
        if first is None or last is None or last <= first:
            return None
        total = 0
        for day in range(first // PERIODS_PER_UTC_DAY, (last - 1) // PERIODS_PER_UTC_DAY + 1):
            record = self.days.get(day)
            if record is None or record.values_wh is None or record.present is None:
                return None
            lo = max(first - day * PERIODS_PER_UTC_DAY, 0)
            hi = min(last - day * PERIODS_PER_UTC_DAY, PERIODS_PER_UTC_DAY)
            if not record.present[lo:hi].all():
                return None
            total += int(record.values_wh[lo:hi].sum(dtype=np.int64))
        return total


def _slot(when: datetime) -> int | None:
    """Half hours from 1970 to ``when`` when it is on a half-hour boundary."""
    delta = when - _EPOCH
    if delta % _PERIOD:
        return None
    return delta // _PERIOD


def register_digits(paths: list[Path]) -> dict[str, int]:
    """Register digits per meter ID from the meters table of the data sets holding ``paths``.

    Looks for ``tables/meters.parquet`` (or ``.csv``) in each given folder and the two above it
    (a data set, its ``messages`` folder, an interface folder); empty when there is none.
    """
    digits: dict[str, int] = {}
    seen: set[Path] = set()
    for given in paths:
        folder = given.resolve() if given.is_dir() else given.resolve().parent
        for candidate in (folder, *list(folder.parents)[:2]):
            tables = candidate / "tables"
            if tables in seen:
                continue
            seen.add(tables)
            for name in ("meters.parquet", "meters.csv"):
                table = tables / name
                if table.is_file():
                    wanted = ["meter_id", "register_digits"]
                    try:
                        frame = (pd.read_parquet(table, columns=wanted) if name.endswith("parquet")
                                 else pd.read_csv(table, usecols=wanted, dtype={"meter_id": str}))
                    except Exception:  # noqa: BLE001 - a table of another shape: no digits
                        continue
                    frame = frame.dropna()
                    digits.update(zip(frame["meter_id"].astype(str),
                                      frame["register_digits"].astype(int), strict=True))
                    break
    return digits
