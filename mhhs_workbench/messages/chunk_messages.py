"""A chunk's IF-021 and IF-041 request-body items, addressed, in data set order."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..chunk import MQIDS, Chunk, DatasetFrame
from ..readings import day_index
from ..settlement_time import format_utc
from .addressing import ROLES, Addressing
from .common import ReferenceSequence, request_item
from .files import Item
from .if021_bytes import IF021ByteWriter
from .if041 import iter_if041_payloads


def references(addressing: Addressing, interface: str, first: np.ndarray) -> dict[str, ReferenceSequence]:
    """Each role's reference sequence for a chunk, after the ``first[role]`` messages sent before it."""
    return {role: addressing.references(role, interface, int(first[i]) + 1) for i, role in enumerate(ROLES)}


def if021_items(
    chunk: Chunk, frame: DatasetFrame, addressing: Addressing, writer: IF021ByteWriter,
    refs: dict[str, ReferenceSequence],
) -> Iterator[list[Item]]:
    """The chunk's IF-021 messages, meter by meter, quantity by quantity, day block by day block.

    Yields them in blocks of rows whose buffers are reused: write each block before the next.

    Parameters
    ----------
    chunk : Chunk
        The chunk.
    frame : DatasetFrame
        Its data set.
    addressing : Addressing
        Senders and recipients.
    writer : IF021ByteWriter
        Formats the messages.
    refs : dict of str to ReferenceSequence
        Each sending role's references (see :func:`references`); they advance as items are made.
    """
    meters = chunk.meter_records
    cos = [day_index(m.change_of_supplier_date, frame.days) for m in meters]
    recipients = [
        [(supplier, m.distributor_dip_id) for _, _, supplier in addressing.supplier_segments(c, frame.n_days)]
        for m, c in zip(meters, cos, strict=True)
    ]
    return writer.blocks(
        meters,
        chunk.row_meter,
        [MQIDS[i] for i in chunk.row_mqid],
        chunk.values,
        chunk.quality,
        chunk.reasons,
        [addressing.senders[(m.data_service_role, "IF-021")] for m in meters],
        [refs[m.data_service_role] for m in meters],
        recipients,
        cos,
    )


def if041_items(
    chunk: Chunk, frame: DatasetFrame, addressing: Addressing, refs: dict[str, ReferenceSequence]
) -> list[Item]:
    """The chunk's IF-041 messages: one per meter and read instant, in time order."""
    reads = chunk.reads
    n = len(reads["mpan"])
    if not n:
        return []
    by_mpan = {m.mpan: m for m in chunk.meter_records}
    text = format_utc(np.array(reads["read_datetime"], dtype="datetime64[s]")).tolist()
    mpans = reads["mpan"]
    bounds = [0, *(i for i in range(1, n) if mpans[i] != mpans[i - 1]), n]
    items: list[Item] = []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        meter = by_mpan[mpans[lo]]
        cos = day_index(meter.change_of_supplier_date, frame.days)
        columns = {name: values[lo:hi] for name, values in reads.items()}
        columns["read_datetime"] = text[lo:hi]
        columns["gsp_group"] = [meter.gsp_group] * (hi - lo)
        columns["distributor_dip_id"] = [meter.distributor_dip_id] * (hi - lo)
        columns["recipients"] = [
            (*addressing.read_recipients(event, int(key.split(":")[1]), cos, meter.supplier_dip_id),
             meter.distributor_dip_id)
            for event, key in zip(columns["event_code"], columns["message_key"], strict=True)
        ]
        sender = addressing.senders[(meter.data_service_role, "IF-041")]
        items.extend((request_item(p),) for p in iter_if041_payloads(columns, sender, refs[meter.data_service_role]))
    return items
