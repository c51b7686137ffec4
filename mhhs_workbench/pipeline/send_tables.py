"""The send schedule and the version history of re-sent days.

=============  ===================================================================
table          one row per
=============  ===================================================================
send_schedule  message sent (IF-021 and IF-041): its file, place, time and subject
history        version of a re-sent half hour (MPAN x MQID x UTC period x revision)
=============  ===================================================================

Rows come meter by meter (so they do not depend on the chunking): ``send_schedule`` within a meter
by interface and send order, ``history`` by measurement quantity, day, revision and period. Sort
``send_schedule`` by ``interface``, ``message_file`` and ``index_in_file`` for the send order. Days
sent once have one version, the one in the ``consumption`` table; ``history`` holds every version
of the days sent more than once.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa

from mhhs_workbench.messages.chunk_messages import row_mpans
from mhhs_workbench.messages.files import MessageFiles
from mhhs_workbench.messages.if021 import REASON_BY_NUMBER
from mhhs_workbench.messages.send_order import Placed
from mhhs_workbench.model.chunk import MQIDS, Chunk, DatasetFrame
from mhhs_workbench.pipeline.tables import TableRows
from mhhs_workbench.sending.timeline import SendTimeline
from mhhs_workbench.time.periods import PERIODS_PER_UTC_DAY, format_utc

SEND_SCHEDULE_SCHEMA = pa.schema(
    [
        ("interface", pa.string()),
        ("message_file", pa.string()),
        ("index_in_file", pa.int32()),
        ("sent_at", pa.timestamp("s", tz="UTC")),
        ("sender_unique_reference", pa.string()),
        ("mpan", pa.string()),
        ("mqid", pa.string()),
        ("first_utc_day", pa.date32()),
        ("last_utc_day", pa.date32()),
        ("revision", pa.int8()),
    ]
)
HISTORY_SCHEMA = pa.schema(
    [
        ("mpan", pa.string()),
        ("mqid", pa.string()),
        ("utc_day", pa.date32()),
        ("utc_period_end", pa.timestamp("s", tz="UTC")),
        ("value_wh", pa.int64()),
        ("quality", pa.string()),
        ("reason", pa.string()),
        ("revision", pa.int8()),
        ("sent_at", pa.timestamp("s", tz="UTC")),
        ("sender_unique_reference", pa.string()),
    ]
)


def schedule_rows(
    interface: str, placed: Placed, references: list[str], files: MessageFiles, timeline: SendTimeline,
    chunk: Chunk, frame: DatasetFrame,
) -> tuple[TableRows, np.ndarray]:
    """The chunk's rows of the send schedule for one interface, and each row's meter in the chunk.

    Rows come by meter, then send order. IF-021 rows name the measurement quantity and the first
    and last UTC day carried; IF-041 rows (register reads) leave them empty.
    """
    if interface == "IF-021":
        meter = chunk.row_meter[placed.row]
    else:
        position = {mpan: i for i, mpan in enumerate(chunk.meters["mpan"].tolist())}
        meter = np.array([position[chunk.reads["mpan"][r]] for r in placed.row.tolist()], dtype=np.int64)
    order = np.lexsort((placed.index, meter))
    placed = Placed(*(getattr(placed, f.name)[order] for f in dataclasses.fields(Placed)))
    references = [references[i] for i in order.tolist()]
    index = placed.index
    if files.file_starts is None:
        file_no, file_lo = index // files.per_file, (index // files.per_file) * files.per_file
    else:
        file_no = np.searchsorted(files.file_starts, index, side="right") - 1
        file_lo = files.file_starts[file_no]
    sent = timeline.sent_at(placed.batch)
    if interface == "IF-021":
        mpans = row_mpans(chunk).astype("U13")[placed.row].tolist()
        mqids = np.asarray(MQIDS, dtype=object)[chunk.row_mqid[placed.row]].tolist()
        first = pa.array(frame.days[placed.first_day], type=pa.date32())
        last = pa.array(frame.days[placed.stop_day - 1], type=pa.date32())
    else:
        # the MPAN the message went under (an export register's reads: the export MPAN)
        sent_under = chunk.reads.get("message_mpan", chunk.reads["mpan"])
        mpans = [sent_under[r] for r in placed.row.tolist()]
        mqids = [None] * index.size
        first = last = pa.nulls(index.size, type=pa.date32())
    columns = {
        "interface": [interface] * index.size,
        "message_file": [files.name(int(f)) for f in file_no.tolist()],
        "index_in_file": (index - file_lo).astype(np.int32),
        "sent_at": sent,
        "sender_unique_reference": references,
        "mpan": mpans,
        "mqid": mqids,
        "first_utc_day": first,
        "last_utc_day": last,
        "revision": placed.revision.astype(np.int8),
    }
    return (columns, {"sent_at": format_utc(sent).tolist()}), meter[order]


def history_rows(placed: Placed, references: list[str], timeline: SendTimeline, chunk: Chunk,
                 frame: DatasetFrame) -> TableRows:
    """Every version of the chunk's re-sent half hours: as first sent (revision 0), then as re-sent."""
    rev = chunk.revisions
    pieces: list[tuple[int, int, int, np.ndarray, np.ndarray, np.ndarray, int]] = []
    if rev is not None and rev.rows.size:
        position = {int(r): i for i, r in enumerate(rev.rows.tolist())}
        first_sent = {}
        for i in np.flatnonzero((placed.revision == 0) & np.isin(placed.row, rev.rows)).tolist():
            for d in range(int(placed.first_day[i]), int(placed.stop_day[i])):
                first_sent[(int(placed.row[i]), d)] = i
        for i in np.flatnonzero(placed.revision == 1).tolist():
            r, d = int(placed.row[i]), int(placed.first_day[i])
            sl = slice(d * PERIODS_PER_UTC_DAY, (d + 1) * PERIODS_PER_UTC_DAY)
            j = position[r]
            pieces.append((r, d, 0, rev.values[j, sl], rev.quality[j, sl], rev.reasons[j, sl], first_sent[(r, d)]))
            pieces.append((r, d, 1, chunk.values[r, sl], chunk.quality[r, sl], chunk.reasons[r, sl], i))
        pieces.sort(key=lambda p: p[:3])  # by row (meter-major), day and revision: whatever the chunking
    rows = np.array([p[0] for p in pieces], dtype=np.int64)
    days = np.array([p[1] for p in pieces], dtype=np.int64)
    message = np.array([p[6] for p in pieces], dtype=np.int64)
    period = (days[:, None] * PERIODS_PER_UTC_DAY + np.arange(PERIODS_PER_UTC_DAY)[None, :]).ravel()

    def stack(k: int, dtype: type) -> np.ndarray:
        return np.concatenate([p[k] for p in pieces]).astype(dtype) if pieces else np.zeros(0, dtype=dtype)

    sent = np.repeat(timeline.sent_at(placed.batch[message]) if pieces else np.zeros(0, "datetime64[s]"), PERIODS_PER_UTC_DAY)
    ends = frame.period_ends.astype("datetime64[s]")[period]
    quality = np.asarray(frame.quality_codes, dtype=object)[stack(4, np.int64)]
    reason = np.asarray(REASON_BY_NUMBER, dtype=object)[stack(5, np.int64)]
    columns = {
        "mpan": np.repeat(row_mpans(chunk).astype("U13")[rows], PERIODS_PER_UTC_DAY).astype(object),
        "mqid": np.repeat(np.asarray(MQIDS, dtype=object)[chunk.row_mqid[rows]], PERIODS_PER_UTC_DAY),
        "utc_day": pa.array(np.repeat(frame.days[days], PERIODS_PER_UTC_DAY), type=pa.date32()),
        "utc_period_end": ends,
        "value_wh": stack(3, np.int64),
        "quality": quality,
        "reason": reason,
        "revision": np.repeat(np.array([p[2] for p in pieces], dtype=np.int8), PERIODS_PER_UTC_DAY),
        "sent_at": sent,
        "sender_unique_reference": np.repeat(np.asarray(references, dtype=object)[message], PERIODS_PER_UTC_DAY)
        if pieces else np.zeros(0, dtype=object),
    }
    return columns, {"utc_period_end": format_utc(ends).tolist(), "sent_at": format_utc(sent).tolist()}
