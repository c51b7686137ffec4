"""The MHHS common block (S0, S1, A0, M0) and DIP request-body files shared by all interfaces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..identifiers import SENDER_UNIQUE_REFERENCE_PATTERN
from .codes import SCHEMA_VERSION


@dataclass(frozen=True)
class Sender:
    """Who sends a message and to whom: everything in S1 and A0 that is not per message.

    Parameters
    ----------
    dip_id : str
        Sender's 10-character DIP participant ID (``senderDIPID``).
    role : str
        Sender's role ID, 3-5 capital letters such as ``'SDS'``.
    environment_tag : str
        ``PRD``, ``SITB``, ``SIT``, ``UIT`` or ``DEV``.
    primary_recipients : tuple of str
        DIP IDs the sender addresses (A0 ``primaryRecipients``).
    timestamp : str
        ``senderTimestamp``: 25-character ISO 8601 date-time with offset. Fixed per data set so that
        the same scenario always gives the same bytes.
    sub_text : str or None
        Free text carried in ``subText``.
    """

    dip_id: str
    role: str
    environment_tag: str = "SIT"
    primary_recipients: tuple[str, ...] = ()
    timestamp: str = "2025-01-01T06:00:00+00:00"
    sub_text: str | None = None
    correlation_id: str | None = None
    connection_provider_dip_id: str | None = None
    secondary_recipients: tuple[str, ...] = field(default=())


class ReferenceSequence:
    """Issues ``senderUniqueReference`` values for one sender and interface.

    References look like ``S-IF-021-1000000001-SDS-20250330-00000001``: interface, sender DIP ID,
    role, creation date and a running number. Keep one sequence per sender and interface: the
    interface and sender in the reference then make every reference in a data set unique.
    """

    def __init__(self, sender: Sender, date_yyyymmdd: str, start: int = 1) -> None:
        self.sender = sender
        self.date = date_yyyymmdd
        self.next = start

    def take(self, interface_id: str) -> str:
        """Next reference for a message of ``interface_id``."""
        ref = f"S-{interface_id}-{self.sender.dip_id}-{self.sender.role}-{self.date}-{self.next:08d}"
        self.next += 1
        return ref

    def check(self, interface_id: str) -> None:
        """Raise ``ValueError`` if this sender's references would break Elexon's pattern."""
        sample = f"S-{interface_id}-{self.sender.dip_id}-{self.sender.role}-{self.date}-00000001"
        if not SENDER_UNIQUE_REFERENCE_PATTERN.match(sample):
            raise ValueError(
                f"sender {self.sender.dip_id}/{self.sender.role} cannot form a valid "
                f"senderUniqueReference (e.g. {sample!r}); the DIP ID must be 10 hexadecimal "
                "characters and the role 3-5 capital letters"
            )


def common_block(
    interface_id: str,
    event_code: str,
    sender: Sender,
    reference: str,
    mpan: str,
    distributor_dip_id: str,
    gsp_group: str,
    recipients: Sequence[str] = (),
) -> dict[str, Any]:
    """The ``CommonBlock`` of one message (S0, S1, A0 and M0; D0 is the DIP's own).

    ``recipients`` are addressed in ``primaryRecipients`` after the sender's fixed ones.
    """
    return {
        "S0": {"interfaceID": interface_id, "schemaVersion": SCHEMA_VERSION, "eventCode": event_code},
        "S1": {
            "environmentTag": sender.environment_tag,
            "subText": sender.sub_text,
            "senderUniqueReference": reference,
            "senderTimestamp": sender.timestamp,
            "senderDIPID": sender.dip_id,
            "senderRoleID": sender.role,
            "senderCorrelationID": sender.correlation_id,
            "DIPConnectionProviderID": sender.connection_provider_dip_id,
        },
        "A0": {
            "primaryRecipients": [*sender.primary_recipients, *recipients],
            "secondaryRecipients": list(sender.secondary_recipients),
            "always": [],
        },
        "M0": {"MPANCore": mpan, "distributorDIPID": distributor_dip_id, "GSPGroupID": gsp_group},
    }


def request_body(payloads: Sequence[dict[str, Any]]) -> bytes:
    """Serialise payloads as a DIP request body: a JSON array of ``{"payload": ...}``."""
    if not payloads:
        raise ValueError("a DIP request body needs at least one message")
    return join_items([request_item(p) for p in payloads])


def request_item(payload: dict[str, Any]) -> bytes:
    """One element of a DIP request body, ``{"payload": ...}``, as compact JSON bytes."""
    return b'{"payload":' + orjson.dumps(payload) + b"}"


def join_items(items: Sequence[bytes]) -> bytes:
    """A request body from serialised elements (see :func:`request_item`)."""
    return b"[" + b",".join(items) + b"]"
