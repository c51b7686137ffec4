"""IF-041 items from templates: the same bytes as the builder's payload, or left to the builder."""

from __future__ import annotations

import dataclasses

import pytest

from mhhs_workbench.codes.messages import (
    CUMULATIVE_REGISTER,
    IF041_EVENT_CODES,
    MAX_CONFIGURABLE_REGISTERS,
)
from mhhs_workbench.messages.common import request_item
from mhhs_workbench.messages.if041 import iter_if041_payloads
from mhhs_workbench.messages.if041_bytes import IF041ItemWriter
from mhhs_workbench.sending.senders import ReferenceSequence, Sender

SENDER = Sender("1000000001", "SDS", "SIT", ("3000000001",), "2025-01-01T06:00:00+00:00")
STAMPS = ("2025-10-26T05:44:39+00:00", "2025-10-27T07:01:02+00:00")


def builder_item(sender: Sender, timestamp: str, number: int, event: str, mpan: str, distributor: str,
                 gsp: str, recipients: tuple, reads: list[tuple]) -> bytes:
    """What the builder makes of one message, as a request-body item."""
    columns = {c: [] for c in ("mpan", "gsp_group", "distributor_dip_id", "event_code", "message_key", "meter_id",
                               "register_id", "read_datetime", "reading_wh", "reading_kwh", "reading_method",
                               "site_visit_check_code", "recipients")}
    for register_id, meter_id, kwh, when, method, visit in reads:
        for column, value in (("mpan", mpan), ("gsp_group", gsp), ("distributor_dip_id", distributor),
                              ("event_code", event), ("message_key", "k"), ("meter_id", meter_id),
                              ("register_id", register_id), ("read_datetime", when), ("reading_wh", 0),
                              ("reading_kwh", kwh), ("reading_method", method), ("site_visit_check_code", visit),
                              ("recipients", recipients)):
            columns[column].append(value)
    stamped = dataclasses.replace(sender, timestamp=timestamp)
    (payload,) = iter_if041_payloads(columns, stamped, ReferenceSequence(stamped, "20251026", number))
    return request_item(payload)


def reads_of(kind: int, i: int) -> list[tuple]:
    """Register reads of a few message shapes: cumulative only, with time-of-use registers, nulls."""
    when = f"2025-10-{20 + i % 7:02d}T00:00:00+00:00"
    cumulative = (CUMULATIVE_REGISTER, f"24S{i:07d}", f"{1000 + i}.{i % 1000:03d}", when, "AE"[i % 2],
                  None if kind % 2 else "0" + str(i % 9 + 1))
    if kind < 2:
        return [cumulative]
    return [cumulative, ("01", f"24S{i:07d}", f"{i}.250", when, None, None),
            ("02", f"24S{i:07d}", "0.000", when, None, None)]


@pytest.mark.parametrize("sub_text", [None, 'a "quoted" note'])
def test_template_items_are_the_builders_bytes(sub_text):
    sender = dataclasses.replace(SENDER, sub_text=sub_text)
    writer = IF041ItemWriter()
    for i in range(60):
        event = IF041_EVENT_CODES[i % len(IF041_EVENT_CODES)]
        recipients = ("4000000001", "6000000012") if i % 3 else ("4000000001", "4000000002", "6000000012")
        reads = reads_of(i % 4, i)
        stamp = STAMPS[i % 2]
        args = (event, f"20000565{i:05d}", "6000000012", "_C", recipients, reads)
        reference = ReferenceSequence(dataclasses.replace(sender, timestamp=stamp), "20251026", i).take("IF-041")
        item = writer.item(sender, stamp, reference, *args)
        assert item == builder_item(sender, stamp, i, *args)


def test_non_ascii_text_takes_the_template_and_stays_the_builders():
    writer = IF041ItemWriter()
    reads = [(CUMULATIVE_REGISTER, "Zähler-1", "1.000", "2025-10-26T00:00:00+00:00", "A", None)]
    args = ("[ReadingRemote]", "2000056535971", "6000000012", "_C", ("4000000001",), reads)
    reference = ReferenceSequence(dataclasses.replace(SENDER, timestamp=STAMPS[0]), "20251026", 7).take("IF-041")
    assert writer.item(SENDER, STAMPS[0], reference, *args) == builder_item(SENDER, STAMPS[0], 7, *args)


@pytest.mark.parametrize("change", ["quote", "backslash", "newline", "event", "registers", "number"])
def test_messages_the_template_cannot_write_are_left_to_the_builder(change):
    reads = [(CUMULATIVE_REGISTER, "24S0000001", "1.000", "2025-10-26T00:00:00+00:00", "A", None)]
    event, meter_id = "[ReadingRemote]", "24S0000001"
    if change == "quote":
        meter_id = 'M"1'
    elif change == "backslash":
        meter_id = "M\\1"
    elif change == "newline":
        meter_id = "M\n1"
    elif change == "event":
        event = "[ReadingUnknown]"
    elif change == "registers":
        reads += [(f"{r:02d}", meter_id, "0.001", reads[0][3], None, None)
                  for r in range(1, MAX_CONFIGURABLE_REGISTERS + 2)]
    reads = [(r[0], meter_id, *r[2:]) for r in reads]
    if change == "number":  # a reading that is not text
        reads = [(reads[0][0], reads[0][1], 1.0, *reads[0][3:])]
    writer = IF041ItemWriter()
    item = writer.item(SENDER, STAMPS[0], "S-IF-041-1000000001-SDS-20251026-00000001", event, "2000056535971",
                       "6000000012", "_C", ("4000000001",), reads)
    assert item is None
