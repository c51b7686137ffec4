"""Settlement data: the sums the central DUoS reports (REP-002, REP-002B) should carry.

The central systems aggregate, for each settlement run of a local settlement day, the active
energy of every MPAN by Supplier x GSP group x DUoS tariff x settlement period, with counts of
energised and de-energised MPANs and the day's volume on actual and on estimated data. This
module makes the same sums from the same data as the IF-021 messages, chunk by chunk:

- ``AI`` rows (import MPAN) fall under the meter's import tariff, ``AE`` rows (export) under its
  export tariff (:mod:`~mhhs_workbench.codes.settlement`); reactive quantities are not settled.
- The Supplier of a local settlement day is ``participants.supplier`` before the meter's change of
  supplier date and ``participants.new_supplier`` from that settlement date on.
- An MPAN is de-energised in a half hour inside its de-energised spell, energised otherwise, and
  not counted before its meter is installed.
- Each run uses the values as known at its execution (its cut-off). :data:`KnownValues` is that
  seam: given a chunk and, per UTC half hour, the cut-off of the run settling it, it returns the
  values and quality flags then known. :func:`values_as_sent` takes the chunk's re-sent versions
  (:mod:`~mhhs_workbench.sending.revisions`) and their send times (:mod:`~mhhs_workbench.sending.timeline`): a
  half hour whose revision left after the cut-off counts as first sent. Without revisions every
  run sees the same values (:func:`final_values`).

:class:`SettlementSums` holds one chunk's sparse integer sums (only the Supplier x GSP group x
tariff groups its meters are in); :class:`SettlementTotals` adds them up exactly, in any order,
into one row of slots per group. :func:`settlement_columns` turns the sums of some local days into
rows of the ``settlement`` table, one per run x Supplier x GSP group x tariff x local period of
every local day the data set covers completely, so a long data set is written a few weeks at a
time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa

from mhhs_workbench.codes.identifiers import GSP_GROUPS
from mhhs_workbench.codes.messages import ACTUAL_CODES, PERIOD_MINUTES
from mhhs_workbench.codes.settlement import TARIFF_IDS, TARIFFS, distributor_mpid
from mhhs_workbench.model.chunk import Chunk, DatasetFrame
from mhhs_workbench.model.population import distributor_dip_id, first_reported_days
from mhhs_workbench.model.quality import spell_mask
from mhhs_workbench.sending.addressing import role_indices
from mhhs_workbench.sending.timeline import SendTimeline
from mhhs_workbench.time.calendar import Run, timetable
from mhhs_workbench.time.periods import MAX_LOCAL_PERIODS, PERIODS_PER_UTC_DAY, local_period_counts

#: Measurement quantities settled, as indices into ``MQIDS``: import (AI) and export (AE).
SETTLED_MQIDS = (0, 1)

_N_GSP = len(GSP_GROUPS)
_N_TARIFF = len(TARIFF_IDS)

#: ``known(chunk, frame, cutoff) -> (values, quality)``: the chunk's values [Wh] and quality
#: indices as known at ``cutoff`` (datetime64[s] [UTC] per UTC half hour, shape ``(n_days * 48,)``),
#: both shaped like ``chunk.values``.
KnownValues = Callable[[Chunk, DatasetFrame, np.ndarray], tuple[np.ndarray, np.ndarray]]

SETTLEMENT_SCHEMA = pa.schema(
    [
        ("settlement_date", pa.date32()),
        ("settlement_code", pa.string()),
        ("run_number", pa.int64()),
        ("run_executed", pa.timestamp("s", tz="UTC")),
        ("supplier_mpid", pa.string()),
        ("supplier_dip_id", pa.string()),
        ("distributor_id", pa.string()),
        ("distributor_dip_id", pa.string()),
        ("gsp_group", pa.string()),
        ("duos_tariff_id", pa.string()),
        ("energy_direction", pa.string()),
        ("domestic_premise", pa.bool_()),
        ("settlement_period", pa.int8()),
        ("period_minutes", pa.int8()),
        ("volume_wh", pa.int64()),
        ("actual_wh", pa.int64()),
        ("estimated_wh", pa.int64()),
        ("energised_mpans", pa.int64()),
        ("deenergised_mpans", pa.int64()),
    ]
)


def final_values(chunk: Chunk, frame: DatasetFrame, cutoff: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The values and quality indices as finally sent, whatever the cut-off.

    What every run uses while a data set has one version of each value; a data set that keeps
    the versions it sent passes its own :data:`KnownValues` instead.
    """
    return chunk.values, chunk.quality


def values_as_sent(chunk: Chunk, frame: DatasetFrame, cutoff: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The values and quality indices the IF-021 messages had delivered by ``cutoff``.

    The chunk holds each half hour's final version; a re-sent half hour whose revision was sent
    after its cut-off [UTC] counts with its first version instead. First versions are sent
    before the first run of their day: a scenario whose message length or send delays would
    send a day later is refused (``Scenario.check``).
    """
    rev = chunk.revisions
    if rev is None or rev.rows.size == 0:
        return chunk.values, chunk.quality
    timeline = SendTimeline.of(frame.scenario, frame.days)
    role = role_indices(chunk.meters["data_service_role"].to_numpy())[chunk.row_meter[rev.rows]]
    sent = timeline.sent_at(timeline.batch_id(role, rev.batch_day))
    t = np.arange(chunk.values.shape[1])
    span = (t[None, :] >= (rev.first_day * PERIODS_PER_UTC_DAY)[:, None]) & (
        t[None, :] < ((rev.first_day + rev.n_days) * PERIODS_PER_UTC_DAY)[:, None])
    late = span & (sent[:, None] > np.asarray(cutoff, dtype="datetime64[s]")[None, :])
    if not late.any():
        return chunk.values, chunk.quality
    values, quality = chunk.values.copy(), chunk.quality.copy()
    values[rev.rows] = np.where(late, rev.values, values[rev.rows])
    quality[rev.rows] = np.where(late, rev.quality, quality[rev.rows])
    return values, quality


@dataclass(frozen=True)
class LocalSlots:
    """The local settlement slots of a data set's UTC half hours.

    Attributes
    ----------
    days : numpy.ndarray of datetime64[D]
        Local settlement days touched by the UTC range, in order.
    slot : numpy.ndarray of int64
        For each UTC half hour, ``local day index * MAX_LOCAL_PERIODS + period - 1`` (50 slots a day).
    """

    days: np.ndarray
    slot: np.ndarray

    @classmethod
    def of(cls, frame: DatasetFrame) -> LocalSlots:
        """The slots of ``frame``'s half hours."""
        local_dates, local_periods = frame.local_periods
        days, day_of = np.unique(local_dates, return_inverse=True)
        return cls(days, day_of.reshape(-1) * MAX_LOCAL_PERIODS + (local_periods.astype(np.int64) - 1))

    @property
    def n_slots(self) -> int:
        """Slots of all local days."""
        return int(self.days.size * MAX_LOCAL_PERIODS)

    def complete_days(self) -> np.ndarray:
        """Whether the UTC range covers each local day completely (every one of its periods)."""
        covered = np.bincount(self.slot // MAX_LOCAL_PERIODS, minlength=self.days.size)
        return covered == local_period_counts(self.days)


@lru_cache(maxsize=8)
def _timetable(days: tuple, codes: tuple[str, ...]) -> list[Run]:
    """:func:`~mhhs_workbench.time.calendar.timetable`, once per process for every chunk
    and batch of days of a data set."""
    return timetable(days, codes)


def run_cutoffs(frame: DatasetFrame) -> np.ndarray:
    """Cut-off of each scenario run for each UTC half hour: the execution of the run that settles
    the half hour's local settlement day, datetime64[s] [UTC], shape ``(n_runs, n_days * 48)``."""
    slots = LocalSlots.of(frame)
    codes = list(frame.scenario.runs)
    runs = _timetable(tuple(d.item() for d in slots.days), tuple(codes))
    out = np.empty((len(codes), slots.days.size), dtype="datetime64[s]")
    day_index = {d.item(): i for i, d in enumerate(slots.days)}
    for run in runs:
        out[codes.index(run.code), day_index[run.settlement_date]] = np.datetime64(run.executed.replace(tzinfo=None))
    return out[:, slots.slot // MAX_LOCAL_PERIODS]


@dataclass
class SettlementSums:
    """Sparse settlement sums of a chunk: one entry per (group, local slot) one of its meters is in.

    A group is Supplier (0: ``participants.supplier``, 1: ``new_supplier``) x GSP group x DUoS
    tariff; ``key = group * n_slots + slot``.

    Attributes
    ----------
    n_slots : int
        Local slots of the data set (:attr:`LocalSlots.n_slots`).
    key : numpy.ndarray of int64
        Sorted, unique keys.
    volume : numpy.ndarray of int64, shape ``(n_runs, n_keys)``
        Energy per run [Wh].
    actual : numpy.ndarray of int64, shape ``(n_runs, n_keys)``
        The part of ``volume`` flagged actual [Wh].
    energised, deenergised : numpy.ndarray of int64, shape ``(n_keys,)``
        MPANs energised / de-energised in the slot.
    """

    n_slots: int
    key: np.ndarray
    volume: np.ndarray
    actual: np.ndarray
    energised: np.ndarray
    deenergised: np.ndarray

    @classmethod
    def empty(cls, n_slots: int, n_runs: int) -> SettlementSums:
        """No meters yet."""
        none = np.zeros(0, dtype=np.int64)
        return cls(n_slots, none, np.zeros((n_runs, 0), np.int64), np.zeros((n_runs, 0), np.int64), none, none)

    @classmethod
    def of_chunk(cls, chunk: Chunk, frame: DatasetFrame, known: KnownValues = values_as_sent) -> SettlementSums:
        """One chunk's sums for every run of the scenario.

        Parameters
        ----------
        chunk : Chunk
            Meters with their reported values; ``meters`` has the DUoS tariff columns.
        frame : DatasetFrame
            The data set's scenario (its ``runs``) and time axis.
        known : KnownValues
            The values each run sees, given its cut-offs (see the module docstring).
        """
        slots = LocalSlots.of(frame)
        t = slots.slot.size
        rows = np.flatnonzero(np.isin(chunk.row_mqid, SETTLED_MQIDS))
        cutoffs = run_cutoffs(frame)
        if rows.size == 0:
            return cls.empty(slots.n_slots, cutoffs.shape[0])
        meters = chunk.meters
        m = chunk.row_meter[rows]
        group = _row_groups(meters, chunk.row_mqid[rows], m, frame)
        key = group * slots.n_slots + slots.slot[None, :]
        uniq, inv = np.unique(key, return_inverse=True)
        inv = inv.reshape(-1)

        def total(weights: np.ndarray) -> np.ndarray:
            # float sums of integer Wh are exact far beyond any chunk's totals (2**53 Wh)
            return np.rint(np.bincount(inv, weights=weights.reshape(-1), minlength=uniq.size)).astype(np.int64)

        exists = np.arange(t)[None, :] >= (first_reported_days(meters, frame.days)[m] * PERIODS_PER_UTC_DAY)[:, None]
        dead = spell_mask(chunk.plan.deenergised_first[m], chunk.plan.deenergised_days[m], t)
        actual_code = np.isin(np.asarray(frame.quality_codes), ACTUAL_CODES)
        volume, actual = [], []
        for cutoff in cutoffs:
            values, quality = known(chunk, frame, cutoff)
            v = values[rows]
            volume.append(total(v))
            actual.append(total(np.where(actual_code[quality[rows]], v, 0)))
        return cls(slots.n_slots, uniq, np.array(volume), np.array(actual),
                   total(exists & ~dead), total(exists & dead))


@dataclass
class SettlementTotals:
    """A data set's settlement sums: one row of slots per group any meter is in.

    Attributes
    ----------
    n_slots : int
        Local slots of the data set.
    n_runs : int
        Runs summed.
    groups : dict of int to numpy.ndarray
        Per group, int64 rows: volume per run [Wh], actual per run [Wh], energised and
        de-energised MPANs, shape ``(2 * n_runs + 2, n_slots)``.
    seen : dict of int to numpy.ndarray
        Per group, the slots some meter was in (a Supplier's group only from its first day).
    """

    n_slots: int
    n_runs: int
    groups: dict[int, np.ndarray] = field(default_factory=dict)
    seen: dict[int, np.ndarray] = field(default_factory=dict)

    def add(self, sums: SettlementSums) -> None:
        """Add a chunk's sums (exact integers: any order gives the same totals)."""
        group, slot = sums.key // self.n_slots, sums.key % self.n_slots
        r = self.n_runs
        for part in np.split(np.arange(group.size), np.flatnonzero(np.diff(group)) + 1) if group.size else []:
            g = int(group[part[0]])
            if g not in self.groups:
                self.groups[g] = np.zeros((2 * r + 2, self.n_slots), dtype=np.int64)
                self.seen[g] = np.zeros(self.n_slots, dtype=bool)
            rows, at = self.groups[g], slot[part]  # slots are unique within a group: plain adds
            self.seen[g][at] = True
            rows[:r, at] += sums.volume[:, part]
            rows[r:2 * r, at] += sums.actual[:, part]
            rows[2 * r, at] += sums.energised[part]
            rows[2 * r + 1, at] += sums.deenergised[part]

    def of_days(self, days: np.ndarray) -> SettlementSums:
        """The sums of local days ``days`` (indices), every group, as :class:`SettlementSums`."""
        slot = (np.asarray(days, dtype=np.int64)[:, None] * MAX_LOCAL_PERIODS + np.arange(MAX_LOCAL_PERIODS)).ravel()
        order = sorted(self.groups)
        r = self.n_runs
        if not order:
            return SettlementSums.empty(self.n_slots, r)
        block = np.stack([self.groups[g][:, slot] for g in order], axis=1)  # (rows, groups, slots)
        key = (np.asarray(order, dtype=np.int64)[:, None] * self.n_slots + slot[None, :]).ravel()
        seen = np.stack([self.seen[g][slot] for g in order]).ravel()
        flat = block.reshape(block.shape[0], -1)[:, seen]
        return SettlementSums(self.n_slots, key[seen], flat[:r], flat[r:2 * r], flat[2 * r], flat[2 * r + 1])


def _row_groups(meters: Any, mqid: np.ndarray, m: np.ndarray, frame: DatasetFrame) -> np.ndarray:
    """Group (Supplier x GSP group x tariff) of each settled value row in each UTC half hour."""
    gsp = np.searchsorted(np.asarray(GSP_GROUPS), meters["gsp_group"].to_numpy().astype(str))[m]
    tariff_index = {t: i for i, t in enumerate(TARIFF_IDS)}
    imports = np.array([tariff_index[t] for t in meters["duos_import_tariff_id"]], dtype=np.int64)
    exports = np.array([tariff_index.get(t, -1) for t in meters["duos_export_tariff_id"]], dtype=np.int64)
    tariff = np.where(mqid == 0, imports[m], exports[m])
    if (tariff < 0).any():
        raise ValueError("an export value row belongs to a meter without an export DUoS tariff")
    local_dates = frame.local_periods[0]
    cos = meters["change_of_supplier_date"].to_numpy().astype("datetime64[D]")[m]
    # the new Supplier settles every local settlement day from the change of supplier date on
    new = ~np.isnat(cos)[:, None] & (local_dates[None, :] >= cos[:, None])
    return (new.astype(np.int64) * _N_GSP + gsp[:, None]) * _N_TARIFF + tariff[:, None]


@dataclass(frozen=True)
class SettlementRows:
    """The ``settlement`` table as columns (see :data:`SETTLEMENT_SCHEMA`), in report order, with
    the runs it covers."""

    columns: dict[str, np.ndarray]
    runs: list[Run]

    @property
    def n_rows(self) -> int:
        """Rows of the table."""
        return int(self.columns["volume_wh"].size)


def settlement_columns(sums: SettlementSums, frame: DatasetFrame) -> SettlementRows:
    """Rows of the ``settlement`` table from sums (of all or some local days).

    Only local settlement days the UTC range covers completely are settled, each with its own
    number of periods (46, 48 or 50); run numbers are those of the whole data set. Rows are
    ordered by settlement date, run number, Supplier, GSP group, tariff and period.
    """
    scenario = frame.scenario
    slots = LocalSlots.of(frame)
    group, slot = sums.key // sums.n_slots, sums.key % sums.n_slots
    day, period = slot // MAX_LOCAL_PERIODS, slot % MAX_LOCAL_PERIODS + 1
    complete = slots.complete_days()
    counts = local_period_counts(slots.days)
    keep = np.flatnonzero(complete[day] & (period <= counts[day]))
    group, day, period = group[keep], day[keep], period[keep]
    supplier, gsp, tariff = group // (_N_GSP * _N_TARIFF), (group // _N_TARIFF) % _N_GSP, group % _N_TARIFF

    codes = list(scenario.runs)
    runs = _timetable(tuple(d.item() for d in slots.days[complete]), tuple(codes))
    number = np.zeros((len(codes), slots.days.size), dtype=np.int64)
    executed = np.zeros((len(codes), slots.days.size), dtype="datetime64[s]")
    day_index = {d.item(): i for i, d in enumerate(slots.days)}
    for run in runs:
        r, d = codes.index(run.code), day_index[run.settlement_date]
        number[r, d] = run.number
        executed[r, d] = np.datetime64(run.executed.replace(tzinfo=None))

    p = scenario.participants
    n, n_runs = keep.size, len(codes)
    run_of = np.repeat(np.arange(n_runs), n)
    at = np.tile(np.arange(n), n_runs)
    gsp_names = np.asarray(GSP_GROUPS, dtype=object)
    tariffs = np.asarray(TARIFF_IDS, dtype=object)
    volume = sums.volume[:, keep].reshape(-1)
    actual = sums.actual[:, keep].reshape(-1)
    columns = {
        "settlement_date": slots.days[day][at],
        "settlement_code": np.asarray(codes, dtype=object)[run_of],
        "run_number": number[run_of, day[at]],
        "run_executed": executed[run_of, day[at]],
        "supplier_mpid": np.array([p.supplier_mpid, p.new_supplier_mpid], dtype=object)[supplier][at],
        "supplier_dip_id": np.array([p.supplier, p.new_supplier], dtype=object)[supplier][at],
        "distributor_id": np.array([distributor_mpid(g) for g in GSP_GROUPS], dtype=object)[gsp][at],
        "distributor_dip_id": np.array([distributor_dip_id(p.distributor_prefix, g) for g in GSP_GROUPS],
                                       dtype=object)[gsp][at],
        "gsp_group": gsp_names[gsp][at],
        "duos_tariff_id": tariffs[tariff][at],
        "energy_direction": np.array([TARIFFS[t][0] for t in TARIFF_IDS], dtype=object)[tariff][at],
        "domestic_premise": np.array([TARIFFS[t][1] for t in TARIFF_IDS])[tariff][at],
        "settlement_period": period[at].astype(np.int8),
        "period_minutes": np.full(n * n_runs, PERIOD_MINUTES, dtype=np.int8),
        "volume_wh": volume,
        "actual_wh": actual,
        "estimated_wh": volume - actual,
        "energised_mpans": sums.energised[keep][at],
        "deenergised_mpans": sums.deenergised[keep][at],
    }
    order = np.lexsort((columns["settlement_period"], tariff[at], gsp[at], supplier[at], columns["run_number"],
                        columns["settlement_date"]))
    return SettlementRows({k: v[order] for k, v in columns.items()}, runs)
