"""Who sends a message, to whom, and under which sequence of unique references."""

from __future__ import annotations

from dataclasses import dataclass, field

from mhhs_workbench.codes.identifiers import SENDER_UNIQUE_REFERENCE_PATTERN


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
