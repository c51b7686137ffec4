"""IF-021 request-body items formatted a whole chunk at a time, byte for byte as the builder gives.

:func:`~mhhs_workbench.messages.if021.iter_if021_payloads` builds a dict per half hour and lets
``orjson`` serialise it: clear, and the reference for what a message is, but Python work per value.
Here each (value row, day) becomes one fixed-width *record* copied from a per-day template that
already holds the day's period-end strings and the JSON around them; every half hour is an *item*
of the same width inside it, with slots for the value's digits and for ``q``/``e``. Digits are
filled from a lookup table by one strided numpy assignment, ``q``/``e`` only where a period is not
an actual reading. Where a slot is wider than its text (fewer digits than the block's largest
value) the unused bytes are zero and one boolean mask drops them; blocks without any, the common
case for homes, need no compaction at all. Message headers and trailers come from ``orjson``
itself (the builder's payload dict with a placeholder for the days), so every byte matches the
builder's output; a test compares the two on every measurement quantity, quality code and
clock-change day.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

import numpy as np
import orjson

from mhhs_workbench.messages.if021 import REASON_BY_NUMBER, if021_payload
from mhhs_workbench.sending.senders import ReferenceSequence
from mhhs_workbench.sending.timeline import message_blocks
from mhhs_workbench.time.periods import PERIOD, PERIODS_PER_UTC_DAY, format_utc

#: Record memory per block of rows [bytes]: bounds the writer's working set whatever the days.
BLOCK_BYTES = 48 << 20
_PLACEHOLDER = "\x00days\x00"
#: Meter attributes in an IF-021 header (see :func:`~mhhs_workbench.messages.if021.if021_payload`).
_HEAD_FIELDS = ("mpan", "distributor_dip_id", "gsp_group", "data_service_dip_id", "connection_type",
                "connection_effective_from")
#: Text JSON writes unchanged (no quote, backslash or control character).
_PLAIN = re.compile(r'[^"\\\x00-\x1f]*')


@lru_cache(maxsize=8)
def _value_table(digits: int) -> np.ndarray:
    """``'d.ddd'`` bytes of every Wh value below ``10**(digits + 3)``, whole part left-padded with 0 bytes."""
    wh = np.arange(10 ** (digits + 3), dtype=np.int64)
    whole, frac = wh // 1000, wh % 1000
    out = np.zeros((wh.size, digits + 4), dtype=np.uint8)
    for k in range(digits):
        place = 10 ** (digits - 1 - k)
        out[:, k] = np.where((whole >= place) | (k == digits - 1), 48 + (whole // place) % 10, 0)
    out[:, digits] = ord(".")
    for k in range(3):
        out[:, digits + 1 + k] = 48 + (frac // 10 ** (2 - k)) % 10
    return out


def _value_bytes(values: np.ndarray, digits: int) -> np.ndarray:
    """``values`` [Wh] as ``(n, digits + 4)`` bytes of kWh text with left zero-byte padding."""
    if digits <= 2:
        return _value_table(digits)[values]
    whole, frac = values // 1000, values % 1000
    out = np.empty(values.shape + (digits + 4,), dtype=np.uint8)
    for k in range(digits):
        place = 10 ** (digits - 1 - k)
        out[..., k] = np.where((whole >= place) | (k == digits - 1), 48 + (whole // place) % 10, 0)
    out[..., digits:] = _frac_bytes(frac)
    return out


def _frac_bytes(frac: np.ndarray) -> np.ndarray:
    """``'.ddd'`` bytes of Wh below 1000."""
    return _value_table(1)[:1000, 1:][frac]


class IF021ByteWriter:
    """Formats IF-021 request-body items for chunks of one data set.

    Parameters
    ----------
    days : array of datetime64[D]
        The data set's consecutive UTC settlement days.
    days_per_message : int
        Settlement days per message.
    quality_codes : sequence of str
        ``q`` text of each quality index.
    """

    def __init__(self, days: np.ndarray, days_per_message: int, quality_codes: Sequence[str]) -> None:
        self.days = np.asarray(days, dtype="datetime64[D]")
        self.n_days = self.days.size
        self.days_per_message = days_per_message
        # text between '"q":"' and ',"arc"' for every (quality, reason) pair, by q * n_reasons + e
        self._qe = [f'{q}","e":' + ("null" if e is None else f'"{e}"') for q in quality_codes for e in REASON_BY_NUMBER]
        self._n_reasons = len(REASON_BY_NUMBER)
        self._sp = format_utc((self.days.astype("datetime64[m]")[:, None]
                               + PERIOD * np.arange(1, PERIODS_PER_UTC_DAY + 1)).ravel()).tolist()
        self._day_text = format_utc(self.days.astype("datetime64[m]")).tolist()
        self._templates: dict[tuple[int, int], _Template] = {}
        self._heads: dict[tuple, tuple[str, bytes, list[int]]] = {}

    def _template(self, digits: int, qe_width: int) -> _Template:
        """Day records for values of up to ``digits`` whole kWh digits and q/e text of ``qe_width``."""
        key = (digits, qe_width)
        if key not in self._templates:
            actual = self._qe[0].encode()
            records = []
            for d in range(self.n_days):
                head = orjson.dumps({"settlementDay": {"settlementDayDate": self._day_text[d], "periodDuration": 30},
                                     "consumptionPeriods": [_PLACEHOLDER]})
                before, after = head.split(orjson.dumps(_PLACEHOLDER))
                out = bytearray(before)
                for p in range(PERIODS_PER_UTC_DAY):
                    out += b'{"sp":"' + self._sp[d * PERIODS_PER_UTC_DAY + p].encode() + b'","v":"'
                    out += b"\0" * (digits + 4) + b'","q":"'
                    out += actual + b"\0" * (qe_width - len(actual)) + b',"arc":null}'
                    out += b"," if p < PERIODS_PER_UTC_DAY - 1 else after[:1]
                out += after[1:] + b","  # the separator of the next day (dropped after a message's last)
                records.append(np.frombuffer(bytes(out), np.uint8))
            item = (len(records[0]) - len(before) - len(after)) // PERIODS_PER_UTC_DAY
            value_at = len(b'{"sp":"') + 25 + len(b'","v":"')
            self._templates[key] = _Template(np.stack(records), len(before), item, value_at,
                                             value_at + digits + 4 + len(b'","q":"'))
        return self._templates[key]

    def message_days(self, cos_day: int | None, first_day: int = 0) -> list[tuple[int, int, int]]:
        """``(first_day, last_day, segment)`` of each message of one row, in order.

        ``first_day`` is the row's first reported day (a meter installed inside the data set
        reports from its install day); a change of supplier falls after it. The send timeline
        plans with the same blocks (:func:`~mhhs_workbench.sending.timeline.message_blocks`).
        """
        return message_blocks(self.n_days, self.days_per_message, cos_day, first_day)

    def blocks(
        self,
        meters: Sequence[Any],
        row_meter: np.ndarray,
        row_mqid: Sequence[str],
        values: np.ndarray,
        quality: np.ndarray,
        reasons: np.ndarray,
        senders: Sequence[Any],
        references: Sequence[ReferenceSequence],
        recipients: Sequence[Sequence[tuple[str, ...]]],
        cos_days: Sequence[int | None],
        first_days: Sequence[int] | None = None,
        row_mpans: Sequence[str] | None = None,
    ) -> Iterator[list[tuple[bytes, memoryview, bytes]]]:
        """Request-body items ``{"payload": ...}`` of every message of a chunk, in order, by block.

        Parameters
        ----------
        meters : sequence of records
            The chunk's meters (attributes of :data:`~mhhs_workbench.messages.if021.METER_COLUMNS`).
        row_meter : array of int
            Position in ``meters`` of each value row; rows are meter-major.
        row_mqid : sequence of str
            Measurement quantity of each row.
        values : array of int, shape ``(n_rows, n_days * 48)``
            Energy per UTC half hour [Wh] (or [varh]), >= 0.
        quality, reasons : arrays of int, same shape
            Index into the quality codes, and DI-076 reason number (0 = none).
        senders, references : sequences, one per meter
            The sending data service and its reference sequence (shared objects per sender).
        recipients : sequence, one per meter
            Recipients of each supplier segment (see :meth:`message_days`).
        cos_days : sequence, one per meter
            Day index of a change of supplier, ``None`` for none.
        first_days : sequence of int, one per meter, optional
            First reported day index of each meter (0 for all by default); no message holds an
            earlier day.
        row_mpans : sequence of str, one per row, optional
            The MPAN each row is sent under (the meter's ``mpan`` by default): an export
            quantity travels on the site's export MPAN.

        Yields
        ------
        list of tuple
            The items of a block of rows, each as ``(head, days, tail)``; their concatenation is
            exactly ``request_item(payload)`` of the builder's payload. The buffers are valid until
            the next block is asked for: write them before.
        """
        values = np.asarray(values, dtype=np.int64)
        if values.size and values.min() < 0:
            raise ValueError(f"negative energy {values.min()} Wh cannot be written")
        n_rows = values.shape[0]
        width = self._template(1, len(self._qe[0])).records.shape[1] + 8 * PERIODS_PER_UTC_DAY
        per_block = max(1, BLOCK_BYTES // max(1, self.n_days * width))
        for lo in range(0, n_rows, per_block):
            hi = min(lo + per_block, n_rows)
            yield self._block(meters, row_meter[lo:hi], row_mqid[lo:hi], values[lo:hi], quality[lo:hi],
                              reasons[lo:hi], senders, references, recipients, cos_days, first_days,
                              None if row_mpans is None else row_mpans[lo:hi])

    def _block(self, meters, row_meter, row_mqid, values, quality, reasons, senders, references, recipients,
               cos_days, first_days=None, row_mpans=None) -> list[tuple[bytes, memoryview, bytes]]:
        body, ends = self.format_rows(values, quality, reasons)
        out = []
        for r in range(values.shape[0]):
            m = int(row_meter[r])
            meter = meters[m]
            mpan = meter.mpan if row_mpans is None else row_mpans[r]
            first_day = 0 if first_days is None else int(first_days[m])
            for first, last, segment in self.message_days(cos_days[m], first_day):
                if last <= first:
                    continue  # no reported day in this supplier's segment
                a = int(ends[r * self.n_days + first - 1]) if r * self.n_days + first else 0
                b = int(ends[r * self.n_days + last - 1]) - 1  # without the day separator
                ref = references[m].take("IF-021")
                head, tail = self._head(meter, row_mqid[r], senders[m], ref, recipients[m][segment], mpan)
                out.append((head, body[a:b], tail))
        return out

    def format_rows(self, values: np.ndarray, quality: np.ndarray, reasons: np.ndarray) -> tuple[memoryview, np.ndarray]:
        """Every day of a block of value rows as JSON text, back to back.

        Parameters
        ----------
        values : numpy.ndarray of int, shape ``(n_rows, n_days * 48)``
            Energy per UTC half hour [Wh] (or [varh]), >= 0.
        quality, reasons : numpy.ndarray of int, same shape
            Index into the quality codes, and DI-076 reason number (0 = none).

        Returns
        -------
        body : memoryview
            The days' text, each followed by a comma.
        ends : numpy.ndarray of int64
            End offset in ``body`` of row ``r``'s day ``d`` (with its comma) at ``r * n_days + d``.
        """
        n_rows = values.shape[0]
        top = int(values.max()) if values.size else 0
        digits = max(1, len(str(top // 1000)))
        odd = (quality != 0) | (reasons != 0)
        combos = np.unique(quality[odd].astype(np.int64) * self._n_reasons + reasons[odd]) if odd.any() else []
        lengths = {len(self._qe[c]) for c in (0, *combos)}
        qe_width = max(lengths)
        tpl = self._template(digits, qe_width)
        buf = np.empty((n_rows, self.n_days, tpl.records.shape[1]), dtype=np.uint8)
        buf[:] = tpl.records[None]
        items = buf[:, :, tpl.head : tpl.head + PERIODS_PER_UTC_DAY * tpl.item].reshape(n_rows, self.n_days, PERIODS_PER_UTC_DAY, tpl.item)
        items[..., tpl.value_at : tpl.value_at + digits + 4] = _value_bytes(values, digits).reshape(
            n_rows, self.n_days, PERIODS_PER_UTC_DAY, digits + 4)
        if len(combos):
            r, t = np.nonzero(odd)
            table = np.zeros((len(self._qe), qe_width), dtype=np.uint8)
            for c in combos:
                text = self._qe[c].encode()
                table[c, : len(text)] = np.frombuffer(text, np.uint8)
            code = quality[r, t].astype(np.int64) * self._n_reasons + reasons[r, t]
            items[r, t // PERIODS_PER_UTC_DAY, t % PERIODS_PER_UTC_DAY, tpl.qe_at : tpl.qe_at + qe_width] = table[code]

        # zero bytes remain where a value has fewer digits than the block's largest, or q/e text is short
        padded = len(lengths) > 1 or (digits > 1 and bool((values < 10 ** (digits + 2)).any()))
        if padded:
            gaps = (items[..., tpl.value_at : tpl.value_at + digits] == 0).sum(axis=(2, 3))
            gaps += (items[..., tpl.qe_at : tpl.qe_at + qe_width] == 0).sum(axis=(2, 3))
            ends = np.cumsum(buf.shape[2] - gaps.ravel())
            body = memoryview(buf[buf != 0])
        else:
            ends = np.arange(1, n_rows * self.n_days + 1) * buf.shape[2]
            body = memoryview(buf.reshape(-1))
        return body, ends

    def message_item(
        self, body: memoryview, ends: np.ndarray, row: int, first: int, last: int, meter: Any, mqid: str,
        sender: Any, reference: str, recipients: Sequence[str], mpan: str | None = None,
    ) -> tuple[bytes, memoryview, bytes]:
        """One message of days ``[first, last)`` of row ``row`` of rows formatted by :meth:`format_rows`."""
        a = int(ends[row * self.n_days + first - 1]) if row * self.n_days + first else 0
        b = int(ends[row * self.n_days + last - 1]) - 1  # without the day separator
        head, tail = self._head(meter, mqid, sender, reference, recipients, mpan)
        return head, body[a:b], tail

    def _head(self, meter: Any, mqid: str, sender: Any, reference: str, recipients: Sequence[str],
              mpan: str | None = None) -> tuple[bytes, bytes]:
        """The bytes before and after a message's days, as ``orjson`` writes the builder's payload.

        One ``orjson`` call per sender, quantity and number of recipients makes a ``%s`` template
        of the header; each message fills in its identifiers. They are digits, DIP IDs and codes
        (text that JSON writes as it is); anything else takes ``orjson`` itself. ``mpan`` is
        the MPAN the message goes under, the meter's own by default.
        """
        if mpan is not None and mpan != meter.mpan:
            meter = SimpleNamespace(**{c: getattr(meter, c) for c in _HEAD_FIELDS[1:]}, mpan=mpan)
        values = (reference, *(getattr(meter, c) for c in _HEAD_FIELDS), *recipients)
        key = (sender, mqid, len(recipients))
        if key not in self._heads:
            marks = [f"\x00{i}\x00" for i in range(len(values))]
            fake = SimpleNamespace(**dict(zip(_HEAD_FIELDS, marks[1 : 1 + len(_HEAD_FIELDS)], strict=True)))
            payload = if021_payload(fake, mqid, sender, marks[0], marks[1 + len(_HEAD_FIELDS) :], _PLACEHOLDER)
            head, tail = orjson.dumps(payload).decode().split(orjson.dumps(_PLACEHOLDER).decode())
            head = '{"payload":' + head.replace("%", "%%") + "["
            quoted = [orjson.dumps(mark).decode() for mark in marks]
            if any(head.count(q) != 1 for q in quoted):
                raise AssertionError("every header field must appear exactly once in the template")
            order = sorted(range(len(marks)), key=lambda i: head.index(quoted[i]))  # as they appear
            for q in quoted:
                head = head.replace(q, '"%s"')
            self._heads[key] = (head, ("]" + tail + "}").encode(), order)
        template, tail, order = self._heads[key]
        if plain_texts(values):
            return (template % tuple(values[i] for i in order)).encode(), tail
        payload = if021_payload(meter, mqid, sender, reference, recipients, _PLACEHOLDER)
        head, after = orjson.dumps(payload).split(orjson.dumps(_PLACEHOLDER))
        return b'{"payload":' + head + b"[", b"]" + after + b"}"


def plain_texts(values: Sequence[Any]) -> bool:
    """Whether every value is text that JSON writes as it is (one match over them all)."""
    try:
        joined = "".join(values)
    except TypeError:  # a value that is not text
        return False
    return _PLAIN.fullmatch(joined) is not None


@dataclass(frozen=True)
class _Template:
    """Day records of one slot layout and where the slots are."""

    records: np.ndarray  # (n_days, width) bytes
    head: int  # bytes before the first item
    item: int  # bytes per half-hour item
    value_at: int  # offset of the value slot in an item
    qe_at: int  # offset of the q/e slot in an item
