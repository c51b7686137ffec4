"""Read the date-times of DIP messages: the one parser of their timestamps.

A DIP date-time is an ISO 8601 date-time to the second with its UTC offset, 25 characters
long: ``2025-03-30T00:30:00+00:00``, ``2025-06-01T01:00:00+01:00``. Messages write period ends
(``sp``), settlement day dates, read instants and sender timestamps this way; the shape is
:data:`~mhhs_workbench.codes.messages.DIP_DATETIME_PATTERN`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from mhhs_workbench.codes.messages import DIP_DATETIME_PATTERN

__all__ = ["DIP_DATETIME_LENGTH", "parse_dip_datetime"]

#: Characters in a DIP date-time (``YYYY-MM-DDThh:mm:ss+hh:mm``).
DIP_DATETIME_LENGTH = 25

_DATETIME = re.compile(DIP_DATETIME_PATTERN.strip("^$"))


def parse_dip_datetime(text: Any, *, strict: bool = True) -> datetime | None:
    """The instant a DIP date-time names; ``None`` when ``text`` is not one.

    Parameters
    ----------
    text : Any
        Candidate date-time, e.g. ``'2025-03-30T00:30:00+00:00'``: seconds resolution, the
        offset from UTC as ``+hh:mm`` or ``-hh:mm`` [hours:minutes]. Anything that is not a
        ``str`` (``None``, a number) gives ``None``, so a value can be passed as found in a
        payload.
    strict : bool
        Also require the exact DIP shape (:data:`~mhhs_workbench.codes.messages.DIP_DATETIME_PATTERN`:
        ASCII digits, ``T`` between date and time, a ``±hh:mm`` offset). ``False`` accepts any
        25-character text that :meth:`datetime.datetime.fromisoformat` reads (a space for
        ``T``, an ISO week date): what the cross-message rules have always taken, leaving the
        shape to the schema.

    Returns
    -------
    datetime or None
        Timezone-aware, with the offset as written (not converted: ``...T01:00:00+01:00``
        keeps ``+01:00``); comparisons and differences between such values are between
        instants [UTC], and ``.astimezone(datetime.UTC)`` gives the UTC wall time. ``None``
        for the wrong length or shape, and for the right shape naming an impossible date or
        time (``2025-02-30``).
    """
    if not isinstance(text, str) or len(text) != DIP_DATETIME_LENGTH:
        return None
    if strict and not _DATETIME.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # right shape, impossible date or time (e.g. 2025-02-30)
        return None
