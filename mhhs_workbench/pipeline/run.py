"""The chunk pipeline: plan the chunks, write each one (anywhere), assemble the results in order.

1. :meth:`RunPlan.build` counts every meter's messages per send batch cheaply (see
   :mod:`~mhhs_workbench.sending.timeline`) and fixes, for each chunk and batch, the global index of the
   chunk's first IF-021 and IF-041 message in it; messages are numbered in send order (batch send
   time, then meter order), and each sender's references run in that order.
2. :func:`write_chunk` builds one chunk and writes its message files straight into the staging
   folder, and its pieces of files shared with other chunks into one pack per interface; it
   returns the chunk's table rows and settlement sums. It needs nothing from any other chunk, so
   it runs in this process or on a Dask worker alike.
3. :class:`Assembler` takes the results in chunk order: joins each shared message file as soon as
   its last piece is in (on the writer thread, while the next chunk is built), appends table rows,
   adds settlement sums, and at the end writes the settlement table and reports.

The bytes of every file depend only on the scenario, never on the chunk size or the process that
wrote a chunk.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
from tqdm.auto import tqdm

from mhhs_workbench.messages.files import Checksums, MessageFiles, PieceJoiner, PiecePack
from mhhs_workbench.messages.if021_bytes import IF021ByteWriter
from mhhs_workbench.messages.send_order import (
    BatchPlacement,
    if021_placed,
    if021_send_items,
    if041_placed,
    if041_send_items,
)
from mhhs_workbench.model.chunk import DatasetFrame, chunk_bounds, effective_chunk_size
from mhhs_workbench.pipeline.allocator import keep_buffers_in_heap
from mhhs_workbench.pipeline.chunks import attach_reads, generate_chunk
from mhhs_workbench.pipeline.send_tables import (
    HISTORY_SCHEMA,
    SEND_SCHEDULE_SCHEMA,
    history_rows,
    schedule_rows,
)
from mhhs_workbench.pipeline.settlement_outputs import write_settlement
from mhhs_workbench.pipeline.tables import (
    CONSUMPTION_SCHEMA,
    METERS_SCHEMA,
    READINGS_SCHEMA,
    consumption_rows,
    meters_rows,
    readings_rows,
    to_table,
)
from mhhs_workbench.publish.writers import TableWriter
from mhhs_workbench.sending.addressing import INTERFACES, ROLES, Addressing
from mhhs_workbench.sending.batches import add_batch_counts
from mhhs_workbench.sending.counts import counts_of
from mhhs_workbench.sending.facts import meter_sending
from mhhs_workbench.sending.timeline import SendTimeline
from mhhs_workbench.settlement.sums import LocalSlots, SettlementSums, SettlementTotals

#: Meters counted at once when planning (bounds the planning memory for any fleet size).
PLAN_BATCH = 1_000_000
#: Table name -> schema, in the order tables are written.
TABLES = {"consumption": CONSUMPTION_SCHEMA, "readings": READINGS_SCHEMA, "meters": METERS_SCHEMA,
          "send_schedule": SEND_SCHEDULE_SCHEMA, "history": HISTORY_SCHEMA}
#: Rows per Parquet row group: tables of few rows per meter in smaller groups, so the rows
#: buffered for a group stop growing while the fleet is still small (memory stays flat).
ROW_GROUP_ROWS = {"consumption": 262_144, "readings": 65_536, "meters": 16_384, "send_schedule": 65_536,
                  "history": 65_536}
#: Stages whose time a run reports.
STAGES = ("consumption", "readings", "IF-021", "IF-041", "tables", "settlement", "publication")


@dataclass(frozen=True)
class RunPlan:
    """Where every chunk's messages go, fixed before any chunk is generated.

    Attributes
    ----------
    frame : DatasetFrame
        The data set's scenario and time axis.
    bounds : list of (int, int)
        Global meter indices ``[start, stop)`` of each chunk.
    first_message : dict of str to numpy.ndarray
        Per interface, messages of the chunks before each chunk, shape ``(n_chunks,)``.
    first_reference : dict of str to numpy.ndarray
        Per interface, messages each role sends for the chunks before each chunk, shape
        ``(n_chunks, n_roles)``.
    totals : dict of str to int
        Messages per interface in the whole data set.
    role_totals : dict of str to numpy.ndarray
        Per interface, messages each role sends in the whole data set.
    timeline : SendTimeline
        Send time of every data service's daily batch.
    batch_first : dict of str to numpy.ndarray
        Per interface, the global index of each chunk's first message in each batch, shape
        ``(n_chunks, timeline.n_ids)``.
    batch_bounds : dict of str to numpy.ndarray
        Per interface, the global index of each batch's first message in send order, then the
        total, shape ``(timeline.n_ids + 1,)`` (the message files never span two batches).
    batch_reference : dict of str to numpy.ndarray
        Per interface and batch id, messages its sender sent before the batch, ``(timeline.n_ids,)``.
    """

    frame: DatasetFrame
    bounds: list[tuple[int, int]]
    first_message: dict[str, np.ndarray]
    first_reference: dict[str, np.ndarray]
    totals: dict[str, int]
    role_totals: dict[str, np.ndarray]
    timeline: SendTimeline
    batch_first: dict[str, np.ndarray]
    batch_bounds: dict[str, np.ndarray]
    batch_reference: dict[str, np.ndarray]

    @classmethod
    def build(cls, frame: DatasetFrame, chunk_size: int) -> RunPlan:
        """Count every meter's messages and place each chunk's."""
        n_meters = frame.n_meters
        bounds = chunk_bounds(n_meters, effective_chunk_size(chunk_size, frame.n_days))
        starts = np.array([b[0] for b in bounds], dtype=np.int64)
        per_chunk = {i: np.zeros((len(bounds), len(ROLES)), dtype=np.int64) for i in INTERFACES}
        timeline = SendTimeline.of(frame.scenario, frame.days)
        per_batch = {i: np.zeros((len(bounds), timeline.n_ids), dtype=np.int64) for i in INTERFACES}
        for lo in range(0, n_meters, PLAN_BATCH):
            hi = min(lo + PLAN_BATCH, n_meters)
            # the meters' keyed facts, drawn once: they give both the counts and the batches
            sending = meter_sending(frame, lo, hi)
            chunk_of = np.searchsorted(starts, np.arange(lo, hi), side="right") - 1
            for interface, per_meter in counts_of(sending, frame).items():
                np.add.at(per_chunk[interface], (chunk_of, sending.role), per_meter)
            add_batch_counts(per_batch, chunk_of, sending, frame, timeline)
        for interface in INTERFACES:
            by_role = per_batch[interface].reshape(len(bounds), len(ROLES), timeline.n_batches).sum(axis=2)
            if not np.array_equal(by_role, per_chunk[interface]):
                raise RuntimeError(f"{interface}: messages per send batch do not add up to the messages counted")
        first_reference = {i: np.cumsum(c, axis=0) - c for i, c in per_chunk.items()}
        first_message = {i: first_reference[i].sum(axis=1) for i in INTERFACES}
        totals = {i: int(c.sum()) for i, c in per_chunk.items()}
        role_totals = {i: c.sum(axis=0) for i, c in per_chunk.items()}
        batch_first, batch_bounds, batch_reference = {}, {}, {}
        for interface, counts in per_batch.items():
            in_batch = counts.sum(axis=0)
            bounds_sorted = np.concatenate([[0], np.cumsum(in_batch[timeline.order])])
            batch_start = np.empty(timeline.n_ids, dtype=np.int64)
            batch_start[timeline.order] = bounds_sorted[:-1]
            batch_first[interface] = batch_start[None, :] + np.cumsum(counts, axis=0) - counts
            batch_bounds[interface] = bounds_sorted
            # a role's batches go out in day order, so its references run batch by batch
            per_role = in_batch.reshape(len(ROLES), timeline.n_batches)
            batch_reference[interface] = (np.cumsum(per_role, axis=1) - per_role).ravel()
        return cls(frame, bounds, first_message, first_reference, totals, role_totals, timeline, batch_first,
                   batch_bounds, batch_reference)

    def placement(self, interface: str, index: int) -> BatchPlacement:
        """Where chunk ``index`` puts its messages of ``interface``, batch by batch."""
        bounds = self.batch_bounds[interface]
        start, end = np.empty(self.timeline.n_ids, dtype=np.int64), np.empty(self.timeline.n_ids, dtype=np.int64)
        start[self.timeline.order], end[self.timeline.order] = bounds[:-1], bounds[1:]
        first = self.batch_first[interface]
        following = first[index + 1] if index + 1 < self.n_chunks else end
        return BatchPlacement(first[index], following - first[index], start, self.batch_reference[interface])

    @property
    def n_chunks(self) -> int:
        """Number of chunks."""
        return len(self.bounds)


@dataclass
class ChunkResult:
    """What a written chunk hands back to the assembler (its message files are already on disk).

    Attributes
    ----------
    index : int
        Chunk number.
    meters : int
        Meters in the chunk.
    messages : dict of str to int
        Messages written per interface.
    tables : dict of str to (pyarrow.Table, dict)
        Rows of each table asked for, with CSV text overrides.
    settlement : SettlementSums or None
        Partial settlement sums, when the settlement output is asked for.
    seconds : dict of str to float
        Time spent per stage [s].
    checksums : dict of str to (int, str)
        Size [bytes] and sha256 of the whole message files the chunk wrote, by path in the data set.
    packs : dict of str to str
        Per interface, the name of the pack holding the chunk's pieces of shared files, if any.
    """

    index: int
    meters: int
    messages: dict[str, int]
    tables: dict[str, tuple[pa.Table, dict[str, list[str]]]] = field(default_factory=dict)
    settlement: SettlementSums | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    checksums: Checksums = field(default_factory=dict)
    packs: dict[str, str] = field(default_factory=dict)


def message_folders(root: Path, scenario_messages_per_file: int,
                    batch_bounds: dict[str, np.ndarray] | None = None) -> dict[str, MessageFiles]:
    """The message file sets of a data set rooted at ``root`` (files within send batches when
    ``batch_bounds`` are given, see :attr:`RunPlan.batch_bounds`)."""
    bounds = batch_bounds or {}
    return {i: MessageFiles(root / "messages" / i, i, scenario_messages_per_file, bounds.get(i)) for i in INTERFACES}


def write_chunk(plan: RunPlan, index: int, root: str | Path) -> ChunkResult:
    """Generate chunk ``index`` and write its messages under ``root``; return its other outputs.

    Safe to run more than once (a retried task): it writes the same files under the same names.
    The pieces of message files shared with other chunks go into one pack file per interface.
    """
    frame = plan.frame
    scenario = frame.scenario
    outputs = set(scenario.outputs)
    want_tables = bool(outputs & {"parquet", "csv"})
    keep_buffers_in_heap()
    seconds = dict.fromkeys(STAGES, 0.0)
    t = time.perf_counter()
    start, stop = plan.bounds[index]
    chunk = generate_chunk(frame, index, start, stop, with_reads=False)
    seconds["consumption"] = time.perf_counter() - t
    t = time.perf_counter()
    if "if041" in outputs or want_tables:
        chunk = attach_reads(frame, chunk)
    seconds["readings"] = time.perf_counter() - t

    addressing = Addressing.from_scenario(scenario)
    files = message_folders(Path(root), scenario.messages.messages_per_file, plan.batch_bounds)
    timeline = plan.timeline
    messages = dict.fromkeys(INTERFACES, 0)
    checksums: Checksums = {}
    packs: dict[str, str] = {}
    schedules: list[tuple[tuple[pa.Table, dict[str, list[str]]], np.ndarray]] = []
    history = None
    for interface, wanted in (("IF-021", "if021"), ("IF-041", "if041")):
        if wanted not in outputs:
            continue
        t = time.perf_counter()
        # place() checks the chunk's messages per batch against the plan
        where = plan.placement(interface, index)
        if interface == "IF-021":
            placed = if021_placed(chunk, frame, timeline, where)
            items, refs = if021_send_items(chunk, frame, addressing, _if021_writer(frame), placed, timeline)
        else:
            placed = if041_placed(chunk, timeline, where)
            items, refs = if041_send_items(chunk, frame, addressing, placed, timeline)
        runs = ((int(placed.index[lo]), items[lo:hi]) for lo, hi in placed.runs())
        pack = files[interface].pack()
        written, digests = _write_runs(files[interface], runs, pack)
        checksums.update({f"messages/{interface}/{name}": d for name, d in digests.items()})
        if pack.path is not None:
            packs[interface] = pack.path.name
        messages[interface] = written
        seconds[interface] = time.perf_counter() - t
        if want_tables:
            t = time.perf_counter()
            rows, meter = schedule_rows(interface, placed, refs, files[interface], timeline, chunk, frame)
            schedules.append((to_table(rows, SEND_SCHEDULE_SCHEMA), meter))
            if interface == "IF-021":
                history = to_table(history_rows(placed, refs, timeline, chunk, frame), HISTORY_SCHEMA)
            seconds["tables"] += time.perf_counter() - t

    result = ChunkResult(index, stop - start, messages, seconds=seconds, checksums=checksums, packs=packs)
    t = time.perf_counter()
    if want_tables:
        result.tables = {
            "consumption": to_table(consumption_rows(chunk, frame), CONSUMPTION_SCHEMA),
            "readings": to_table(readings_rows(chunk), READINGS_SCHEMA),
            "meters": to_table(meters_rows(chunk, frame.days), METERS_SCHEMA),
            "send_schedule": _by_meter(schedules, SEND_SCHEDULE_SCHEMA),
            "history": history or to_table(({name: [] for name in HISTORY_SCHEMA.names}, {}), HISTORY_SCHEMA),
        }
    seconds["tables"] += time.perf_counter() - t
    t = time.perf_counter()
    if scenario.wants("settlement"):
        # each run sums the values as sent by its cut-off (settlement.values_as_sent)
        result.settlement = SettlementSums.of_chunk(chunk, frame)
    seconds["settlement"] = time.perf_counter() - t
    return result


_WRITERS: dict[tuple, IF021ByteWriter] = {}
#: One thread per process writes message files while the next block is formatted.
_WRITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mhhs-message-writer")


def _new_writer() -> None:
    """A forked process (e.g. a Dask worker) gets its own writer: threads do not survive a fork."""
    global _WRITER
    _WRITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mhhs-message-writer")


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_writer)


def _by_meter(tables: list[tuple[tuple[pa.Table, dict[str, list[str]]], np.ndarray]],
              schema: pa.Schema) -> tuple[pa.Table, dict]:
    """One table (and CSV text overrides) of a chunk's tables of one schema, each with the meter
    of every row: rows by meter, then table, then their own order (chunk-independent)."""
    if not tables:
        return to_table(({name: [] for name in schema.names}, {}), schema)
    meter = np.concatenate([m for _, m in tables])
    part = np.concatenate([np.full(m.size, i) for i, (_, m) in enumerate(tables)])
    order = np.lexsort((np.arange(meter.size), part, meter))
    text = {key: [v for (_, t), _ in tables for v in t[key]] for key in tables[0][0][1]}
    table = pa.concat_tables([table for (table, _), _ in tables]).take(pa.array(order))
    return table, {key: [values[i] for i in order.tolist()] for key, values in text.items()}


def _write_runs(files: MessageFiles, runs: Iterable[tuple[int, list]], pack: PiecePack) -> tuple[int, Checksums]:
    """Write runs ``(first, items)`` of consecutive messages; return how many and the files' checksums.

    The file writes (kernel copies, disk waits and sha256 all release the GIL) run on a writer
    thread while the next run is prepared. Every write has finished when this returns or raises.
    The pieces of files shared with other chunks go into ``pack``, not a file each.
    """
    written = 0
    checksums: Checksums = {}
    pending: list[Future] = []
    try:
        for first, items in runs:
            pending.append(_WRITER.submit(files.write, first, items, pack))
            written += len(items)
            while len(pending) > 1:
                checksums.update(pending.pop(0).result())
        while pending:
            checksums.update(pending.pop(0).result())
        pack.close()
    finally:
        _wait_through_interrupts(pending)
        pack.discard()
    return written, checksums


def _wait_through_interrupts(futures: list[Future]) -> None:
    """Wait for ``futures`` even through Ctrl-C or SIGTERM (raised once they are done), so that
    no write lands in a folder that the interrupted run is about to remove."""
    interrupt: KeyboardInterrupt | None = None
    while True:
        try:
            wait(futures)
            break
        except KeyboardInterrupt as exc:
            interrupt = exc
    if interrupt is not None:
        raise interrupt


def _if021_writer(frame: DatasetFrame) -> IF021ByteWriter:
    """One byte writer per data set and process: its day templates are built once."""
    key = (str(frame.days[0]), frame.n_days, frame.scenario.messages.days_per_message, frame.quality_codes)
    writer = _WRITERS.get(key)
    if writer is None:  # a data set at a time: drop the others' templates
        writer = IF021ByteWriter(frame.days, frame.scenario.messages.days_per_message, frame.quality_codes)
        _WRITERS.clear()
        _WRITERS[key] = writer
    return writer


class Assembler:
    """Takes chunk results in order and finishes the data set's tables and message files.

    Parameters
    ----------
    plan : RunPlan
        The run.
    root : pathlib.Path
        The staging folder of the data set.
    """

    def __init__(self, plan: RunPlan, root: Path) -> None:
        self.plan = plan
        self.root = root
        outputs = set(plan.frame.scenario.outputs)
        self.parquet, self.csv = "parquet" in outputs, "csv" in outputs
        self.writers: dict[str, TableWriter] = {}
        if self.parquet or self.csv:
            self.writers = {name: TableWriter(root / "tables", name, schema, parquet=self.parquet, csv=self.csv,
                                              row_group_rows=ROW_GROUP_ROWS[name])
                            for name, schema in TABLES.items()}
        self.settlement = (SettlementTotals(LocalSlots.of(plan.frame).n_slots, len(plan.frame.scenario.runs))
                           if plan.frame.scenario.wants("settlement") else None)
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.meters = 0
        self.next_index = 0
        self.checksums: Checksums = {}
        self.files = message_folders(root, plan.frame.scenario.messages.messages_per_file, plan.batch_bounds)
        # shared message files joined on the writer thread as soon as their chunks are in
        self.joiners = {i: PieceJoiner(self.files[i], plan.totals[i]) for i in INTERFACES}
        self.joins: list[tuple[str, Future]] = []

    def add(self, result: ChunkResult) -> None:
        """Add the next chunk's result (results must come in chunk order)."""
        if result.index != self.next_index:
            raise RuntimeError(f"chunk {result.index} arrived before chunk {self.next_index}")
        self.next_index += 1
        self.meters += result.meters
        self.checksums.update(result.checksums)
        t = time.perf_counter()
        for interface, pack in result.packs.items():
            ready, done = self.joiners[interface].add_pack(pack)
            if ready or done:
                self.joins.append((interface, _WRITER.submit(self.joiners[interface].join, ready, done)))
        self._collect(block=False)
        self.seconds["publication"] += time.perf_counter() - t
        for stage, s in result.seconds.items():
            self.seconds[stage] += s
        t = time.perf_counter()
        for name, (table, csv_text) in result.tables.items():
            self.writers[name].write(table, csv_text)
        self.seconds["tables"] += time.perf_counter() - t
        if self.settlement is not None and result.settlement is not None:
            t = time.perf_counter()
            self.settlement.add(result.settlement)
            self.seconds["settlement"] += time.perf_counter() - t

    def _collect(self, block: bool) -> None:
        """Take the checksums of finished joins (of all, waiting for them, when ``block``); a
        failed join raises here."""
        while self.joins and (block or self.joins[0][1].done()):
            interface, future = self.joins.pop(0)
            self.checksums.update({f"messages/{interface}/{name}": d for name, d in future.result().items()})

    def wait(self) -> None:
        """Wait for every join still running (also through Ctrl-C), e.g. before a failed run's
        folder is removed."""
        _wait_through_interrupts([future for _, future in self.joins])

    def close(self) -> dict[str, int]:
        """Finish every file; return the data set's counts."""
        if self.next_index != self.plan.n_chunks:
            raise RuntimeError(f"only {self.next_index} of {self.plan.n_chunks} chunks were assembled")
        scenario = self.plan.frame.scenario
        counts = {"meters": self.meters, "days": self.plan.frame.n_days}
        t = time.perf_counter()
        try:
            self._collect(block=True)
        finally:
            self.wait()
        files = self.files
        for interface, wanted in (("IF-021", "if021"), ("IF-041", "if041")):
            key = interface.lower().replace("-", "")
            joined: Checksums = {}
            written = files[interface].finish(self.plan.totals[interface], joined) if wanted in scenario.outputs else []
            self.checksums.update({f"messages/{interface}/{name}": d for name, d in joined.items()})
            counts[f"{key}_files"] = len(written)
            counts[f"{key}_messages"] = self.plan.totals[interface] if wanted in scenario.outputs else 0
        self.seconds["publication"] += time.perf_counter() - t
        t = time.perf_counter()
        counts["consumption_rows"] = self.writers["consumption"].rows if self.writers else 0
        counts["reading_rows"] = self.writers["readings"].rows if self.writers else 0
        for writer in self.writers.values():
            writer.close()
        self.seconds["tables"] += time.perf_counter() - t
        counts.update(settlement_rows=0, rep002_messages=0, rep002b_messages=0, rep002_files=0, rep002b_files=0)
        t = time.perf_counter()
        if self.settlement is not None:
            # the table comes in the table formats asked for, CSV when none is
            parquet, csv = (self.parquet, self.csv) if self.writers else (False, True)
            counts.update(write_settlement(self.root, self.settlement, self.plan.frame, parquet=parquet, csv=csv))
        self.seconds["settlement"] += time.perf_counter() - t
        return counts


def run_local(plan: RunPlan, root: Path) -> Iterator[ChunkResult]:
    """Write the chunks one after another in this process."""
    for index in range(plan.n_chunks):
        yield write_chunk(plan, index, root)


def assemble(
    plan: RunPlan,
    root: Path,
    results: Iterable[ChunkResult],
    *,
    progress: bool = True,
    on_chunk: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, int], dict[str, float], Checksums]:
    """Feed ``results`` (in chunk order) to an :class:`Assembler`.

    Returns the data set's counts, the time per stage [s] and the checksums of the message files.
    """
    assembler = Assembler(plan, root)
    total = plan.frame.n_meters
    try:
        with tqdm(total=total, desc="meters", unit="meter", disable=not progress, leave=False) as bar:
            for result in results:
                assembler.add(result)
                bar.update(result.meters)
                if on_chunk:
                    on_chunk(assembler.meters, total)
        counts = assembler.close()
    finally:
        assembler.wait()  # no join may still write once a failed run's folder is removed
    return counts, assembler.seconds, assembler.checksums
