"""A chunk's IF-021 and IF-041 request-body items, addressed, in data set order."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from mhhs_workbench.messages.common import request_item
from mhhs_workbench.messages.files import Item
from mhhs_workbench.messages.if021_bytes import IF021ByteWriter
from mhhs_workbench.messages.if041 import iter_if041_payloads
from mhhs_workbench.model.chunk import MQIDS, Chunk, DatasetFrame
from mhhs_workbench.model.population import first_reported_days
from mhhs_workbench.model.readings import day_index
from mhhs_workbench.sending.addressing import ROLES, Addressing
from mhhs_workbench.sending.senders import ReferenceSequence
from mhhs_workbench.time.periods import format_utc


def references(addressing: Addressing, interface: str, first: np.ndarray) -> dict[str, ReferenceSequence]:
    """Each role's reference sequence for a chunk, after the ``first[role]`` messages sent before it."""
    return {role: addressing.references(role, interface, int(first[i]) + 1) for i, role in enumerate(ROLES)}


#: Measurement quantities of the export direction (DI-035 ``E``): sent on a site's export MPAN.
EXPORT_MQIDS = ("AE", "RE")


def row_mpans(chunk: Chunk) -> np.ndarray:
    """The MPAN each value row of a chunk is sent under, fixed-width bytes ``S13``.

    Import quantities (AI, RI) go on the site's import MPAN, export ones (AE, RE) on its export
    MPAN; a site without one (supplied meters, whose MPANs are kept as the user gave them) sends
    every row on its own MPAN.
    """
    mpan = chunk.meters["mpan"].to_numpy().astype("S13")[chunk.row_meter]
    export = chunk.meters["export_mpan"].to_numpy().astype("S13")[chunk.row_meter]
    exporting = np.isin(chunk.row_mqid, [MQIDS.index(q) for q in EXPORT_MQIDS]) & (export != b"")
    return np.where(exporting, export, mpan)


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
        first_reported_days(chunk.meters, frame.days).tolist(),
        row_mpans(chunk).astype("U13").tolist(),
    )


def read_columns(
    reads: dict[str, list], text: list[str], lo: int, hi: int, meter: tuple, frame: DatasetFrame,
    addressing: Addressing,
) -> dict[str, list]:
    """The columns IF-041 payloads of one meter are built from: its read rows ``lo .. hi - 1``
    with their date-times as text, and its GSP group, distributor and recipients per read."""
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
    return columns


def if041_items(
    chunk: Chunk, frame: DatasetFrame, addressing: Addressing, refs: dict[str, ReferenceSequence]
) -> list[Item]:
    """The chunk's IF-041 messages: one per meter and read instant, in time order (and one more
    per instant under an exporting site's export MPAN, for its export register)."""
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
        columns = read_columns(reads, text, lo, hi, meter, frame, addressing)
        sender = addressing.senders[(meter.data_service_role, "IF-041")]
        items.extend((request_item(p),) for p in iter_if041_payloads(columns, sender, refs[meter.data_service_role]))
    return items
