"""IF-041 builder: smart / advanced register readings.

One message carries one MPAN's readings for one event: cumulative register reads (``B064List``)
and, for time-of-use meters, configurable register reads (``B065List``, at most 48). IF-041 has
no field naming a register's energy direction (B064 is meter ID, reading, date-time, method and
site visit check code only), so an export register is told apart by the MPAN its message is
sent under: the site's export MPAN (DI-035 ``E``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mhhs_workbench.codes.messages import (
    CUMULATIVE_REGISTER,
    IF041_EVENT_CODES,
    MAX_CONFIGURABLE_REGISTERS,
)
from mhhs_workbench.messages.common import common_block
from mhhs_workbench.messages.formatting import wh_to_kwh_strings
from mhhs_workbench.sending.senders import ReferenceSequence, Sender

INTERFACE_ID = "IF-041"
EVENT_CODES = IF041_EVENT_CODES

#: Columns ``reads`` must have for :func:`iter_if041_payloads`; one row per register read.
READ_COLUMNS = (
    "mpan",
    "gsp_group",
    "distributor_dip_id",
    "event_code",
    "message_key",
    "meter_id",
    "register_id",
    "read_datetime",
    "reading_wh",
    "reading_method",
    "site_visit_check_code",
)


def iter_if041_payloads(
    reads: pd.DataFrame | Mapping[str, Sequence[Any]],
    sender: Sender,
    references: ReferenceSequence,
    recipients: Sequence[str] = (),
) -> Iterator[dict[str, Any]]:
    """IF-041 payloads, one per ``message_key`` group of register reads, in input order.

    Parameters
    ----------
    reads : pandas.DataFrame or mapping of column name to sequence
        One row per register read with the columns in :data:`READ_COLUMNS`. Rows sharing a
        ``message_key`` (and so one MPAN and event) form one message. ``register_id`` is
        :data:`CUMULATIVE_REGISTER` for the meter's cumulative register (``B064List``) and a
        1-2 character ID such as ``'01'`` for configurable time-of-use registers (``B065List``).
        ``reading_wh`` is the register value [Wh]; ``read_datetime`` a 25-character date-time.
        An optional ``recipients`` column (tuples of DIP IDs) addresses each message separately,
        after ``recipients``; an optional ``message_mpan`` column names the MPAN each message is
        sent under instead of ``mpan`` (an export register's export MPAN); an optional
        ``reading_kwh`` column holds ``reading_wh`` already formatted (kWh, three decimals).
    sender : Sender
        Sender and addressing details.
    references : ReferenceSequence
        Source of ``senderUniqueReference`` values.
    recipients : sequence of str
        DIP IDs addressed besides the sender's fixed recipients.

    Yields
    ------
    dict
        One IF-041 payload.
    """
    columns = _check_reads_table(reads)
    if "reading_kwh" in columns:  # formatted once for many messages by the caller
        text = list(reads["reading_kwh"])
    else:
        text = wh_to_kwh_strings(np.asarray(reads["reading_wh"], dtype=np.int64)).tolist()
    cols = {c: list(reads[c]) for c in READ_COLUMNS}
    per_message = list(reads["recipients"]) if "recipients" in columns else None
    subject = list(reads["message_mpan"]) if "message_mpan" in columns else cols["mpan"]
    keys = cols["message_key"]
    start = 0
    n = len(keys)
    while start < n:
        end = start + 1
        while end < n and keys[end] == keys[start]:
            end += 1
        custom = _register_lists(cols, text, start, end)
        yield {
            "CommonBlock": common_block(
                INTERFACE_ID,
                cols["event_code"][start],
                sender,
                references.take(INTERFACE_ID),
                subject[start],
                cols["distributor_dip_id"][start],
                cols["gsp_group"][start],
                (*recipients, *per_message[start]) if per_message else recipients,
            ),
            "CustomBlock": custom,
        }
        start = end


def _check_reads_table(reads: pd.DataFrame | Mapping[str, Sequence[Any]]) -> set[str]:
    """The reads table's column names, once it has every column and only known event codes.

    Parameters
    ----------
    reads : pandas.DataFrame or mapping of column name to sequence
        The table :func:`iter_if041_payloads` takes.

    Returns
    -------
    set of str
        Its column names.

    Raises
    ------
    ValueError
        When a column in :data:`READ_COLUMNS` is missing or an event code is not an IF-041 one.
    """
    columns = set(reads.columns if isinstance(reads, pd.DataFrame) else reads)
    missing = [c for c in READ_COLUMNS if c not in columns]
    if missing:
        raise ValueError(f"reads table lacks column(s) {', '.join(missing)}")
    bad_events = set(reads["event_code"]) - set(EVENT_CODES)
    if bad_events:
        raise ValueError(f"unknown IF-041 event code(s): {', '.join(sorted(bad_events))}")
    return columns


def _register_lists(
    cols: Mapping[str, Sequence[Any]], text: Sequence[str], start: int, end: int
) -> dict[str, Any]:
    """The ``CustomBlock`` of one message: its cumulative and configurable register reads.

    Parameters
    ----------
    cols : mapping of column name to sequence
        The columns in :data:`READ_COLUMNS`, one entry per register read.
    text : sequence of str
        Each read's register value formatted [kWh].
    start, end : int
        The message's rows, ``start`` to ``end - 1``.

    Returns
    -------
    dict
        ``B064List`` (cumulative register reads) and ``B065List`` (configurable register reads),
        each only when it has reads.

    Raises
    ------
    ValueError
        When the message has more than :data:`MAX_CONFIGURABLE_REGISTERS` configurable reads.
    """
    b064: list[dict[str, Any]] = []
    b065: list[dict[str, Any]] = []
    for i in range(start, end):
        if cols["register_id"][i] == CUMULATIVE_REGISTER:
            b064.append(
                {
                    "meterID": cols["meter_id"][i],
                    "cumulativeRegisterReading": text[i],
                    "cumulativeRegisterReadingDateTime": cols["read_datetime"][i],
                    "readingMethod": cols["reading_method"][i],
                    "siteVisitCheckCode": cols["site_visit_check_code"][i],
                }
            )
        else:
            b065.append(
                {
                    "meterID": cols["meter_id"][i],
                    "configurableRegisterReadingDate": cols["read_datetime"][i],
                    "configurableRegisterID": cols["register_id"][i],
                    "configurableRegisterReading": text[i],
                }
            )
    if len(b065) > MAX_CONFIGURABLE_REGISTERS:
        raise ValueError(
            f"message {cols['message_key'][start]!r} has {len(b065)} configurable register reads; "
            f"IF-041 allows {MAX_CONFIGURABLE_REGISTERS}"
        )
    custom: dict[str, Any] = {}
    if b064:
        custom["B064List"] = b064
    if b065:
        custom["B065List"] = b065
    return custom
