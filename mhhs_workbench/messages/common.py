"""The MHHS common block (S0, S1, A0, M0) and DIP request-body files shared by all interfaces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from mhhs_workbench.codes.messages import SCHEMA_VERSION
from mhhs_workbench.sending.senders import Sender


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
