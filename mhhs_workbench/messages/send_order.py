"""A chunk's messages in send order, each stamped with its batch's send time and reference.

The run plan fixes, for every chunk and send batch, the global index of the chunk's first message
in that batch (see :class:`~mhhs_workbench.pipeline.run.RunPlan`). Here a chunk lists its messages
(value row and days, or register read), puts each in its batch, sorts them by batch send order and
then meter order, and formats them with the batch's ``senderTimestamp`` and the sender's running
reference number. Every field is a function of the scenario and the message's global position,
so the bytes do not depend on the chunking.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from mhhs_workbench.messages.chunk_messages import read_columns, row_mpans
from mhhs_workbench.messages.common import request_item
from mhhs_workbench.messages.files import Item
from mhhs_workbench.messages.formatting import wh_to_kwh_strings
from mhhs_workbench.messages.if021_bytes import IF021ByteWriter
from mhhs_workbench.messages.if041 import iter_if041_payloads
from mhhs_workbench.messages.if041_bytes import IF041ItemWriter
from mhhs_workbench.model.chunk import MQIDS, Chunk, DatasetFrame
from mhhs_workbench.model.population import first_reported_days
from mhhs_workbench.model.readings import day_index
from mhhs_workbench.sending.addressing import Addressing, role_indices
from mhhs_workbench.sending.senders import ReferenceSequence, Sender
from mhhs_workbench.sending.timeline import SendTimeline, message_blocks, read_batch_day
from mhhs_workbench.time.periods import format_utc

#: Value rows formatted at once (bounds the formatting's working memory).
FORMAT_ROWS = 256


@dataclass(frozen=True)
class Placed:
    """A chunk's messages of one interface, in send order.

    Attributes
    ----------
    batch : numpy.ndarray of int64
        Batch id of each message.
    index : numpy.ndarray of int64
        Global 0-based message index of each.
    reference : numpy.ndarray of int64
        The sender's running reference number of each.
    row : numpy.ndarray of int64
        IF-021: value row; IF-041: first read row of the message.
    first_day, stop_day : numpy.ndarray of int64
        IF-021: days ``[first_day, stop_day)`` carried; IF-041: the day the read closes, and +1.
    revision : numpy.ndarray of int64
        0 when first sent, 1 when re-sent as actual.
    segment : numpy.ndarray of int64
        Supplier segment (IF-021; 0 for IF-041).
    """

    batch: np.ndarray
    index: np.ndarray
    reference: np.ndarray
    row: np.ndarray
    first_day: np.ndarray
    stop_day: np.ndarray
    revision: np.ndarray
    segment: np.ndarray

    def runs(self) -> Iterator[tuple[int, int]]:
        """``(lo, hi)`` positions of consecutive global indices (one per batch the chunk sends in)."""
        if not self.index.size:
            return
        cut = np.flatnonzero(np.diff(self.index) != 1) + 1
        bounds = [0, *cut.tolist(), int(self.index.size)]
        yield from zip(bounds[:-1], bounds[1:], strict=True)


@dataclass(frozen=True)
class BatchPlacement:
    """Where one interface's messages go, from the run plan.

    Attributes
    ----------
    chunk_first : numpy.ndarray of int64, shape ``(n_ids,)``
        Global index of the chunk's first message in each batch.
    chunk_count : numpy.ndarray of int64, shape ``(n_ids,)``
        Messages the plan expects from the chunk in each batch.
    batch_start : numpy.ndarray of int64, shape ``(n_ids,)``
        Global index of each batch's first message.
    batch_reference : numpy.ndarray of int64, shape ``(n_ids,)``
        Messages the batch's sender sent before the batch.
    """

    chunk_first: np.ndarray
    chunk_count: np.ndarray
    batch_start: np.ndarray
    batch_reference: np.ndarray


def place(batch: np.ndarray, order_key: list[np.ndarray], timeline: SendTimeline, where: BatchPlacement,
          interface: str, chunk_index: int, **columns: np.ndarray) -> Placed:
    """Sort messages by send batch, then ``order_key``; give each its global index and reference.

    Raises
    ------
    RuntimeError
        If the chunk's messages per batch differ from the plan's (the plan and writer disagree).
    """
    batch = np.asarray(batch, dtype=np.int64)
    order = np.lexsort((*reversed(order_key), timeline.rank[batch]))
    batch = batch[order]
    counts = np.bincount(batch, minlength=timeline.n_ids)
    if not np.array_equal(counts, where.chunk_count):
        bad = int(np.flatnonzero(counts != where.chunk_count)[0])
        raise RuntimeError(f"chunk {chunk_index}: {int(counts[bad])} {interface} messages in send batch {bad}, "
                           f"planned {int(where.chunk_count[bad])}")
    starts = np.flatnonzero(np.r_[True, batch[1:] != batch[:-1]]) if batch.size else np.zeros(0, dtype=np.int64)
    rank_in = np.arange(batch.size) - np.repeat(starts, np.diff(np.r_[starts, batch.size]))
    index = where.chunk_first[batch] + rank_in
    reference = where.batch_reference[batch] + (index - where.batch_start[batch]) + 1
    return Placed(batch, index, reference, **{k: np.asarray(v, dtype=np.int64)[order] for k, v in columns.items()})


class BatchSenders:
    """The sender of each role and batch: the scenario's, stamped with the batch's send time."""

    def __init__(self, addressing: Addressing, timeline: SendTimeline, interface: str) -> None:
        self.addressing = addressing
        self.timeline = timeline
        self.interface = interface
        self._senders: dict[int, Sender] = {}
        self._prefixes: dict[tuple[str, int], str] = {}

    def sender(self, role: str, batch: int) -> Sender:
        """Sender of ``role`` in batch id ``batch``."""
        if batch not in self._senders:
            base = self.addressing.senders[(role, self.interface)]
            self._senders[batch] = dataclasses.replace(base, timestamp=self.timeline.stamps[batch])
        return self._senders[batch]

    def reference(self, role: str, batch: int, number: int) -> str:
        """``senderUniqueReference`` number ``number`` of ``role``, created on the batch's send date."""
        prefix = self._prefixes.get((role, batch))
        if prefix is None:
            # the sequence's own text with its 8-digit number cut off, made once per role and batch
            sender = self.sender(role, batch)
            first = ReferenceSequence(sender, self.timeline.reference_date(batch), 0).take(self.interface)
            prefix = self._prefixes[(role, batch)] = first[:-8]
        return f"{prefix}{number:08d}"


def if021_placed(chunk: Chunk, frame: DatasetFrame, timeline: SendTimeline, where: BatchPlacement) -> Placed:
    """The chunk's IF-021 messages, first-sent and revisions, in send order."""
    n_days, k = frame.n_days, frame.scenario.messages.days_per_message
    meters = chunk.meters
    role = role_indices(meters["data_service_role"].to_numpy())
    cos = [day_index(c, frame.days) for c in meters["change_of_supplier_date"].tolist()]
    first = first_reported_days(meters, frame.days).tolist()
    cached: dict[tuple, list[tuple[int, int, int]]] = {}
    rows, lo, hi, seg, bday = [], [], [], [], []
    for r, m in enumerate(chunk.row_meter.tolist()):
        blocks = cached.setdefault((cos[m], first[m]), message_blocks(n_days, k, cos[m], first[m]))
        for a, b, s in blocks:
            rows.append(r)
            lo.append(a)
            hi.append(b)
            seg.append(s)
            bday.append(b - 1)
    revision = [0] * len(rows)
    rev = chunk.revisions
    if rev is not None:
        for r, d0, nd, day in zip(rev.rows.tolist(), rev.first_day.tolist(), rev.n_days.tolist(),
                                  rev.batch_day.tolist(), strict=True):
            m = int(chunk.row_meter[r])
            for d in range(d0, d0 + nd):
                # the supplier segment of day d, as in the blocks first sent
                segment = next(s for a, b, s in cached[(cos[m], first[m])] if a <= d < b)
                rows.append(r)
                lo.append(d)
                hi.append(d + 1)
                seg.append(segment)
                bday.append(day)
                revision.append(1)
    rows_a = np.asarray(rows, dtype=np.int64)
    batch = timeline.batch_id(role[chunk.row_meter[rows_a]] if rows_a.size else np.zeros(0, np.int64),
                              np.asarray(bday, dtype=np.int64))
    return place(batch, [rows_a, np.asarray(lo)], timeline, where, "IF-021", chunk.index, row=rows_a,
                 first_day=lo, stop_day=hi, revision=revision, segment=seg)


def if021_send_items(
    chunk: Chunk, frame: DatasetFrame, addressing: Addressing, writer: IF021ByteWriter, placed: Placed,
    timeline: SendTimeline,
) -> tuple[list[Item], list[str]]:
    """The request-body items of :func:`if021_placed`'s messages, in the same order, and their
    ``senderUniqueReference``."""
    records = chunk.meter_records
    mqids = [MQIDS[i] for i in chunk.row_mqid]
    mpans = row_mpans(chunk).astype("U13").tolist()
    cos = [day_index(m.change_of_supplier_date, frame.days) for m in records]
    recipients = [[(supplier, m.distributor_dip_id) for _, _, supplier in addressing.supplier_segments(c, frame.n_days)]
                  for m, c in zip(records, cos, strict=True)]
    senders = BatchSenders(addressing, timeline, "IF-021")
    # final values (every day's latest version) and, for re-sent rows, the rows as first sent
    final = _formatted(writer, chunk.values, chunk.quality, chunk.reasons)
    rev = chunk.revisions
    first_sent: dict[int, tuple[list, int]] = {}
    if rev is not None and rev.rows.size:
        blocks = _formatted(writer, rev.values, rev.quality, rev.reasons)
        first_sent = {int(r): blocks[i] for i, r in enumerate(rev.rows.tolist())}
    items: list[Item] = []
    references: list[str] = []
    row_meter = chunk.row_meter.tolist()
    # plain lists: indexing numpy arrays message by message costs more than the message
    for r, batch, number, revision, first, stop, segment in zip(
            placed.row.tolist(), placed.batch.tolist(), placed.reference.tolist(), placed.revision.tolist(),
            placed.first_day.tolist(), placed.stop_day.tolist(), placed.segment.tolist(), strict=True):
        m = row_meter[r]
        meter = records[m]
        role = meter.data_service_role
        body, ends, at = first_sent[r] if (revision == 0 and r in first_sent) else final[r]
        reference = senders.reference(role, batch, number)
        items.append(writer.message_item(body, ends, at, first, stop, meter, mqids[r], senders.sender(role, batch),
                                         reference, recipients[m][segment], mpans[r]))
        references.append(reference)
    return items, references


def _formatted(writer: IF021ByteWriter, values: np.ndarray, quality: np.ndarray,
               reasons: np.ndarray) -> list[tuple[memoryview, np.ndarray, int]]:
    """Each row's ``(body, ends, row in its block)`` of rows formatted :data:`FORMAT_ROWS` at a time."""
    out = []
    for lo in range(0, values.shape[0], FORMAT_ROWS):
        hi = min(lo + FORMAT_ROWS, values.shape[0])
        body, ends = writer.format_rows(values[lo:hi], quality[lo:hi], reasons[lo:hi])
        out.extend((body, ends, r) for r in range(hi - lo))
    return out


def if041_placed(chunk: Chunk, timeline: SendTimeline, where: BatchPlacement) -> Placed:
    """The chunk's IF-041 messages (one per meter and read instant) in send order."""
    keys = chunk.reads.get("message_key", [])
    n = len(keys)
    starts = [i for i in range(n) if i == 0 or keys[i] != keys[i - 1]]
    boundary = np.array([int(keys[i].split(":")[1]) for i in starts], dtype=np.int64)
    role_of_mpan = dict(zip(chunk.meters["mpan"].tolist(),
                            role_indices(chunk.meters["data_service_role"].to_numpy()).tolist(), strict=True))
    role = np.array([role_of_mpan[chunk.reads["mpan"][i]] for i in starts], dtype=np.int64)
    day = read_batch_day(boundary)
    start_rows = np.asarray(starts, dtype=np.int64)
    zeros = np.zeros(len(starts), dtype=np.int64)
    return place(timeline.batch_id(role, day), [start_rows], timeline, where, "IF-041", chunk.index,
                 row=start_rows, first_day=np.maximum(boundary - 1, 0), stop_day=np.maximum(boundary, 1),
                 revision=zeros, segment=zeros)


def if041_send_items(chunk: Chunk, frame: DatasetFrame, addressing: Addressing, placed: Placed,
                     timeline: SendTimeline) -> tuple[list[Item], list[str]]:
    """The request-body items of :func:`if041_placed`'s messages, in the same order, and their
    ``senderUniqueReference``."""
    reads = chunk.reads
    n = len(reads.get("mpan", []))
    if not n:
        return [], []
    keys = reads["message_key"]
    stop_of = {}
    begin = 0
    for i in range(1, n + 1):
        if i == n or keys[i] != keys[begin]:
            stop_of[begin] = i
            begin = i
    by_mpan = {m.mpan: m for m in chunk.meter_records}
    text = format_utc(np.array(reads["read_datetime"], dtype="datetime64[s]")).tolist()
    # the readings as kWh text for the whole chunk at once, not per message
    reads = {**reads, "reading_kwh": wh_to_kwh_strings(np.asarray(reads["reading_wh"], dtype=np.int64)).tolist()}
    senders = BatchSenders(addressing, timeline, "IF-041")
    writer = IF041ItemWriter()
    # a message's reads as IF041ItemWriter takes them: one tuple per read
    columns = (reads["register_id"], reads["meter_id"], reads["reading_kwh"], text, reads["reading_method"],
               reads["site_visit_check_code"])
    mpans, events, subjects = reads["mpan"], reads["event_code"], reads["message_mpan"]
    cos_of: dict[str, int | None] = {}
    items: list[Item] = []
    references: list[str] = []
    for lo, batch, number in zip(placed.row.tolist(), placed.batch.tolist(), placed.reference.tolist(), strict=True):
        hi = stop_of[lo]
        meter = by_mpan[mpans[lo]]
        role = meter.data_service_role
        sender = senders.sender(role, batch)
        reference = senders.reference(role, batch, number)
        if meter.mpan not in cos_of:
            cos_of[meter.mpan] = day_index(meter.change_of_supplier_date, frame.days)
        # addressed as read_columns addresses the message's first read
        recipients = (*addressing.read_recipients(events[lo], int(keys[lo].split(":")[1]), cos_of[meter.mpan],
                                                  meter.supplier_dip_id), meter.distributor_dip_id)
        item = None
        if events[lo:hi].count(events[lo]) == hi - lo:  # one event per message, else the builder says why
            item = writer.item(addressing.senders[(role, "IF-041")], sender.timestamp, reference, events[lo],
                               subjects[lo], meter.distributor_dip_id, meter.gsp_group, recipients,
                               list(zip(*(c[lo:hi] for c in columns), strict=True)))
        if item is None:  # text JSON must escape, or a message the builder refuses: the builder's own
            refs = ReferenceSequence(sender, timeline.reference_date(batch), number)
            (payload,) = iter_if041_payloads(read_columns(reads, text, lo, hi, meter, frame, addressing), sender, refs)
            item = request_item(payload)
        items.append((item,))
        references.append(reference)
    return items, references
