"""The chunk pipeline: plan the chunks, write each one (anywhere), assemble the results in order.

1. :meth:`RunPlan.build` counts every meter's messages cheaply and fixes, for each chunk, the global
   index of its first IF-021 and IF-041 message and each sender's first reference number.
2. :func:`write_chunk` builds one chunk and writes its message files (and pieces of shared files)
   straight into the staging folder; it returns the chunk's table rows and aggregate sums. It
   needs nothing from any other chunk, so it runs in this process or on a Dask worker alike.
3. :class:`Assembler` takes the results in chunk order: appends table rows, adds aggregates, and
   at the end joins shared message files and writes the aggregates.

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

from .allocator import keep_buffers_in_heap
from .chunk import DatasetFrame, attach_reads, chunk_bounds, effective_chunk_size, generate_chunk
from .export import TableWriter
from .messages.addressing import INTERFACES, ROLES, Addressing
from .messages.chunk_messages import if021_items, if041_items, references
from .messages.files import Checksums, MessageFiles
from .messages.if021_bytes import IF021ByteWriter
from .tables import (
    CONSUMPTION_SCHEMA,
    METERS_SCHEMA,
    READINGS_SCHEMA,
    Aggregates,
    consumption_rows,
    meters_rows,
    readings_rows,
    to_table,
)

#: Meters counted at once when planning (bounds the planning memory for any fleet size).
PLAN_BATCH = 1_000_000
#: Table name -> schema, in the order tables are written.
TABLES = {"consumption": CONSUMPTION_SCHEMA, "readings": READINGS_SCHEMA, "meters": METERS_SCHEMA}
#: Rows per Parquet row group: tables of few rows per meter in smaller groups, so the rows
#: buffered for a group stop growing while the fleet is still small (memory stays flat).
ROW_GROUP_ROWS = {"consumption": 262_144, "readings": 65_536, "meters": 16_384}
#: Stages whose time a run reports.
STAGES = ("consumption", "readings", "IF-021", "IF-041", "tables", "aggregates", "publication")


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
        Per interface, the global index of each chunk's first message, shape ``(n_chunks,)``.
    first_reference : dict of str to numpy.ndarray
        Per interface, messages each role sent before each chunk, shape ``(n_chunks, n_roles)``.
    totals : dict of str to int
        Messages per interface in the whole data set.
    role_totals : dict of str to numpy.ndarray
        Per interface, messages each role sends in the whole data set.
    """

    frame: DatasetFrame
    bounds: list[tuple[int, int]]
    first_message: dict[str, np.ndarray]
    first_reference: dict[str, np.ndarray]
    totals: dict[str, int]
    role_totals: dict[str, np.ndarray]

    @classmethod
    def build(cls, frame: DatasetFrame, chunk_size: int) -> RunPlan:
        """Count every meter's messages and place each chunk's."""
        n_meters = frame.n_meters
        bounds = chunk_bounds(n_meters, effective_chunk_size(chunk_size, frame.n_days))
        starts = np.array([b[0] for b in bounds], dtype=np.int64)
        per_chunk = {i: np.zeros((len(bounds), len(ROLES)), dtype=np.int64) for i in INTERFACES}
        for lo in range(0, n_meters, PLAN_BATCH):
            hi = min(lo + PLAN_BATCH, n_meters)
            role, counts = frame.message_counts(lo, hi)
            chunk_of = np.searchsorted(starts, np.arange(lo, hi), side="right") - 1
            for interface, per_meter in counts.items():
                np.add.at(per_chunk[interface], (chunk_of, role), per_meter)
        first_reference = {i: np.cumsum(c, axis=0) - c for i, c in per_chunk.items()}
        first_message = {i: first_reference[i].sum(axis=1) for i in INTERFACES}
        totals = {i: int(c.sum()) for i, c in per_chunk.items()}
        role_totals = {i: c.sum(axis=0) for i, c in per_chunk.items()}
        return cls(frame, bounds, first_message, first_reference, totals, role_totals)

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
    aggregates : Aggregates or None
        Partial sums, when aggregates are asked for.
    seconds : dict of str to float
        Time spent per stage [s].
    checksums : dict of str to (int, str)
        Size [bytes] and sha256 of the whole message files the chunk wrote, by path in the data set.
    """

    index: int
    meters: int
    messages: dict[str, int]
    tables: dict[str, tuple[pa.Table, dict[str, list[str]]]] = field(default_factory=dict)
    aggregates: Aggregates | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    checksums: Checksums = field(default_factory=dict)


def message_folders(root: Path, scenario_messages_per_file: int) -> dict[str, MessageFiles]:
    """The message file sets of a data set rooted at ``root``."""
    return {i: MessageFiles(root / "messages" / i, i, scenario_messages_per_file) for i in INTERFACES}


def write_chunk(plan: RunPlan, index: int, root: str | Path) -> ChunkResult:
    """Generate chunk ``index`` and write its messages under ``root``; return its other outputs.

    Safe to run more than once (a retried task): it writes the same files under the same names.
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
    files = message_folders(Path(root), scenario.messages.messages_per_file)
    messages = dict.fromkeys(INTERFACES, 0)
    checksums: Checksums = {}
    for interface, wanted in (("IF-021", "if021"), ("IF-041", "if041")):
        if wanted not in outputs:
            continue
        t = time.perf_counter()
        refs = references(addressing, interface, plan.first_reference[interface][index])
        if interface == "IF-021":
            blocks = if021_items(chunk, frame, addressing, _if021_writer(frame), refs)
        else:
            blocks = iter([if041_items(chunk, frame, addressing, refs)])
        first = int(plan.first_message[interface][index])
        written, digests = _write_blocks(files[interface], first, blocks)
        checksums.update({f"messages/{interface}/{name}": d for name, d in digests.items()})
        # each sender's references must end where the next chunk's begin, or they would repeat
        following = (plan.first_reference[interface][index + 1] if index + 1 < plan.n_chunks
                     else plan.role_totals[interface])
        used = np.array([refs[role].next - 1 for role in ROLES])
        if not np.array_equal(used, following):
            raise RuntimeError(f"chunk {index}: {interface} references per sender end at {used.tolist()}, "
                               f"planned {following.tolist()}")
        messages[interface] = written
        seconds[interface] = time.perf_counter() - t

    result = ChunkResult(index, stop - start, messages, seconds=seconds, checksums=checksums)
    t = time.perf_counter()
    if want_tables:
        result.tables = {
            "consumption": to_table(consumption_rows(chunk, frame), CONSUMPTION_SCHEMA),
            "readings": to_table(readings_rows(chunk), READINGS_SCHEMA),
            "meters": to_table(meters_rows(chunk), METERS_SCHEMA),
        }
    seconds["tables"] = time.perf_counter() - t
    t = time.perf_counter()
    if "aggregates" in outputs:
        result.aggregates = Aggregates.of_chunk(chunk, frame)
    seconds["aggregates"] = time.perf_counter() - t
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


def _write_blocks(files: MessageFiles, first: int, blocks: Iterable[list]) -> tuple[int, Checksums]:
    """Write blocks of items as messages ``first ..``; return how many and the files' checksums.

    The file writes (kernel copies, disk waits and sha256 all release the GIL) run on a writer
    thread while the next block is formatted; a block's buffers stay alive until it is written.
    Every write has finished when this returns or raises, so nothing is written afterwards.
    """
    written = 0
    checksums: Checksums = {}
    pending: list[Future] = []
    try:
        for items in blocks:
            pending.append(_WRITER.submit(files.write, first + written, items))
            written += len(items)
            while len(pending) > 1:
                checksums.update(pending.pop(0).result())
        while pending:
            checksums.update(pending.pop(0).result())
    finally:
        _wait_through_interrupts(pending)
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
        self.want_aggregates = "aggregates" in outputs
        self.writers: dict[str, TableWriter] = {}
        if self.parquet or self.csv:
            self.writers = {name: TableWriter(root / "tables", name, schema, parquet=self.parquet, csv=self.csv,
                                              row_group_rows=ROW_GROUP_ROWS[name])
                            for name, schema in TABLES.items()}
        self.aggregates = Aggregates.empty(plan.frame) if self.want_aggregates else None
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.meters = 0
        self.next_index = 0
        self.checksums: Checksums = {}

    def add(self, result: ChunkResult) -> None:
        """Add the next chunk's result (results must come in chunk order)."""
        if result.index != self.next_index:
            raise RuntimeError(f"chunk {result.index} arrived before chunk {self.next_index}")
        self.next_index += 1
        self.meters += result.meters
        self.checksums.update(result.checksums)
        for stage, s in result.seconds.items():
            self.seconds[stage] += s
        t = time.perf_counter()
        for name, (table, csv_text) in result.tables.items():
            self.writers[name].write(table, csv_text)
        self.seconds["tables"] += time.perf_counter() - t
        if self.aggregates is not None and result.aggregates is not None:
            self.aggregates.add(result.aggregates)

    def close(self) -> dict[str, int]:
        """Finish every file; return the data set's counts."""
        if self.next_index != self.plan.n_chunks:
            raise RuntimeError(f"only {self.next_index} of {self.plan.n_chunks} chunks were assembled")
        scenario = self.plan.frame.scenario
        counts = {"meters": self.meters, "days": self.plan.frame.n_days}
        t = time.perf_counter()
        files = message_folders(self.root, scenario.messages.messages_per_file)
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
        counts["aggregate_rows"] = 0
        t = time.perf_counter()
        if self.aggregates is not None:
            # aggregates come in the table formats asked for, CSV when none is
            parquet, csv = (self.parquet, self.csv) if self.writers else (False, True)
            counts["aggregate_rows"] = self.aggregates.write(self.root / "tables", parquet=parquet, csv=csv)
        self.seconds["aggregates"] += time.perf_counter() - t
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
    with tqdm(total=total, desc="meters", unit="meter", disable=not progress, leave=False) as bar:
        for result in results:
            assembler.add(result)
            bar.update(result.meters)
            if on_chunk:
                on_chunk(assembler.meters, total)
    counts = assembler.close()
    return counts, assembler.seconds, assembler.checksums
