"""IF-041 request-body items from text templates, byte for byte as the builder gives.

:func:`~mhhs_workbench.messages.if041.iter_if041_payloads` builds a dict per message and lets
``orjson`` serialise it. A data set sends hundreds of thousands of register-read messages of a few
shapes (event, sender and batch, cumulative or configurable registers, which fields are null), so
here the builder itself makes, once per shape, the message with a marker in every text field;
``orjson`` turns that into a ``%s`` template, and each message only fills in its texts. Texts that
JSON writes unchanged (digits, DIP IDs, codes, date-times) take that path; anything else (or a
message the builder refuses) is left to the builder, so the bytes never differ.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import orjson

from mhhs_workbench.codes.messages import (
    CUMULATIVE_REGISTER,
    IF041_EVENT_CODES,
    MAX_CONFIGURABLE_REGISTERS,
)
from mhhs_workbench.messages.if021_bytes import plain_texts
from mhhs_workbench.messages.if041 import READ_COLUMNS, iter_if041_payloads
from mhhs_workbench.sending.senders import Sender

#: One register read of a message: ``(register_id, meter_id, reading_kwh, read_datetime,
#: reading_method, site_visit_check_code)``.
Read = tuple[str, Any, Any, Any, Any, Any]

_EVENTS = frozenset(IF041_EVENT_CODES)


class _Marker:
    """Hands out the marker texts put where a message's values go."""

    def __init__(self) -> None:
        self.marks: list[str] = []

    def __call__(self, value: Any) -> Any:
        """A new marker for a text value; ``None`` (JSON null) stays as it is."""
        if value is None:
            return None
        mark = f"\x00{len(self.marks)}\x00"
        self.marks.append(mark)
        return mark


class _OneReference:
    """A reference sequence that gives one fixed text (the template's marker)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def take(self, interface_id: str) -> str:
        """The fixed text, whatever the interface."""
        return self.text


class IF041ItemWriter:
    """Formats IF-041 request-body items ``{"payload": ...}`` of one message each."""

    def __init__(self) -> None:
        self._templates: dict[tuple, tuple[str, list[int]]] = {}

    def item(self, sender: Sender, timestamp: str, reference: str, event_code: str, mpan: str,
             distributor_dip_id: str, gsp_group: str, recipients: tuple[str, ...],
             reads: Sequence[Read]) -> bytes | None:
        """The item of one message, or ``None`` where the builder itself must make it.

        Parameters
        ----------
        sender : Sender
            The sender (its own ``timestamp`` is not used: templates serve every send batch).
        timestamp : str
            ``senderTimestamp``: the batch's send time [UTC].
        reference : str
            The message's ``senderUniqueReference``.
        event_code : str
            The IF-041 event of the message (its first read's).
        mpan : str
            The MPAN the message is sent under.
        distributor_dip_id, gsp_group : str
            The meter's distributor and GSP group.
        recipients : tuple of str
            Addressed after the sender's fixed recipients.
        reads : sequence of Read
            The message's register reads in order; ``reading_kwh`` as text [kWh].
        """
        values: list[Any] = [timestamp, reference, mpan, distributor_dip_id, gsp_group, *recipients]
        layout = []
        configurable = 0
        for register_id, meter_id, kwh, when, method, visit in reads:
            if register_id == CUMULATIVE_REGISTER:
                values += (meter_id, kwh, when, method, visit)
                layout.append(True)
            else:
                values += (meter_id, kwh, when, register_id)
                layout.append(False)
                configurable += 1
        if configurable > MAX_CONFIGURABLE_REGISTERS or event_code not in _EVENTS:
            return None  # the builder says what is wrong
        nulls = tuple(v is None for v in values)
        texts = [v for v in values if v is not None]
        if not plain_texts(texts):
            return None
        key = (sender, event_code, len(recipients), tuple(layout), nulls)
        made = self._templates.get(key)
        if made is None:
            made = self._templates[key] = self._template(sender, event_code, len(recipients), layout, values)
        template, order = made
        return (template % tuple(texts[i] for i in order)).encode()

    @staticmethod
    def _template(sender: Sender, event_code: str, n_recipients: int, layout: list[bool],
                  values: list[Any]) -> tuple[str, list[int]]:
        """The builder's item with a marker in every text of ``values`` (nulls kept), as a ``%s``
        template, and which text fills each ``%s`` in turn."""
        mark = _Marker()
        timestamp, reference, mpan, distributor, gsp = (mark(v) for v in values[:5])
        recipients = tuple(mark(v) for v in values[5 : 5 + n_recipients])
        rows: dict[str, list[Any]] = {c: [] for c in (*READ_COLUMNS, "reading_kwh")}
        at = 5 + n_recipients
        for cumulative in layout:
            if cumulative:
                meter_id, kwh, when, method, visit = (mark(v) for v in values[at : at + 5])
                register_id = CUMULATIVE_REGISTER
                at += 5
            else:
                meter_id, kwh, when, register_id = (mark(v) for v in values[at : at + 4])
                method = visit = None  # not in a configurable register's read
                at += 4
            for column, value in (("mpan", mpan), ("gsp_group", gsp), ("distributor_dip_id", distributor),
                                  ("event_code", event_code), ("message_key", "one message"),
                                  ("meter_id", meter_id), ("register_id", register_id), ("read_datetime", when),
                                  ("reading_wh", 0), ("reading_method", method),
                                  ("site_visit_check_code", visit), ("reading_kwh", kwh)):
                rows[column].append(value)
        rows["recipients"] = [recipients] * len(layout)
        stamped = dataclasses.replace(sender, timestamp=timestamp)
        (payload,) = iter_if041_payloads(rows, stamped, _OneReference(reference))
        text = ('{"payload":' + orjson.dumps(payload).decode() + "}").replace("%", "%%")
        quoted = [orjson.dumps(m).decode() for m in mark.marks]
        if any(text.count(q) != 1 for q in quoted):
            raise AssertionError("every text of an IF-041 message must appear exactly once in its template")
        order = sorted(range(len(quoted)), key=lambda i: text.index(quoted[i]))  # as they appear
        for q in quoted:
            text = text.replace(q, '"%s"')
        return text, order
