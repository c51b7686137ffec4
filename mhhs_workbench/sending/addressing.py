"""Addressing: which participant sends which message about which meter, to whom, under which reference.

Data services send: the smart one (SDS) for smart meters, the advanced one (ADS) for advanced
meters, the unmetered one (UMSDS) for unmetered supplies. IF-021 goes to the supplier and the
distributor and also to the central load shaping and market-wide data services; IF-041 only to the
supplier and the distributor. A change of supplier splits a meter's days between the old and the
new supplier, and the change-of-supplier read goes to both.

References are running numbers per sender and interface over the whole data set, in send order
(see :mod:`~mhhs_workbench.sending.timeline`), and carry the send date. :func:`message_counts` counts every
meter's messages (re-sent days included) cheaply up front, so each chunk knows where its messages
and references go before it is generated, on any worker.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from mhhs_workbench.scenario.document import Scenario
from mhhs_workbench.sending.senders import ReferenceSequence, Sender

INTERFACES = ("IF-021", "IF-041")
#: Data service roles, in the order count arrays use.
ROLES = ("SDS", "ADS", "UMSDS")


def sender_timestamp(scenario: Scenario) -> str:
    """A fixed ``senderTimestamp``: the scenario's, or 06:00 UTC after the end.

    Stamps the base :class:`Addressing` senders, whose references are checked against Elexon's
    pattern; written messages carry their send batch's time instead (see
    :mod:`~mhhs_workbench.messages.send_order`).
    """
    if scenario.messages.sender_timestamp:
        return scenario.messages.sender_timestamp
    day = scenario.end_date + dt.timedelta(days=1)
    return f"{day.isoformat()}T06:00:00+00:00"


@dataclass(frozen=True)
class Addressing:
    """Senders and recipients of a scenario's messages.

    Attributes
    ----------
    senders : dict of (role, interface) to Sender
        The sending data service for each role and interface.
    reference_date : str
        ``YYYYMMDD`` in every ``senderUniqueReference`` (the sender timestamp's date).
    supplier, new_supplier : str
        DIP IDs of the supplier before and after a change of supplier.
    """

    senders: dict[tuple[str, str], Sender]
    reference_date: str
    supplier: str
    new_supplier: str

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Addressing:
        """Build the addressing of a scenario; raises ``ValueError`` for unusable participants."""
        stamp = sender_timestamp(scenario)
        p = scenario.participants
        central = {"IF-021": (p.load_shaping_service, p.market_wide_data_service), "IF-041": ()}
        services = dict(zip(ROLES, (p.smart_data_service, p.advanced_data_service, p.unmetered_data_service),
                            strict=True))
        senders = {
            (role, interface): Sender(dip, role, scenario.environment_tag, central[interface], stamp,
                                      scenario.messages.sub_text)
            for role, dip in services.items()
            for interface in INTERFACES
        }
        addressing = cls(senders, stamp[:10].replace("-", ""), p.supplier, p.new_supplier)
        for (role, interface), _ in senders.items():
            addressing.references(role, interface, 1).check(interface)
        return addressing

    def references(self, role: str, interface: str, start: int) -> ReferenceSequence:
        """Reference sequence of one sender and interface, starting at running number ``start``."""
        return ReferenceSequence(self.senders[(role, interface)], self.reference_date, start)

    def supplier_segments(self, cos: int | None, n_days: int) -> list[tuple[int, int, str]]:
        """Day ranges ``[first, last)`` and the supplier addressed in each.

        A change of supplier always falls after the first day and within the data set (the
        scenario checks it), so it splits the days in two.
        """
        if cos is None:
            return [(0, n_days, self.supplier)]
        return [(0, cos, self.supplier), (cos, n_days, self.new_supplier)]

    def read_recipients(self, event: str, boundary: int, cos: int | None, old: str) -> tuple[str, ...]:
        """Suppliers addressed by a read taken at day ``boundary`` for ``event``."""
        if cos is None or boundary < cos:
            return (old,)
        if event == "[ReadingCOS]":
            return (old, self.new_supplier)  # the closing read for the old supplier opens the new one's
        return (self.new_supplier,)


def role_indices(roles: np.ndarray) -> np.ndarray:
    """Sending roles as indices into :data:`ROLES`."""
    roles = np.asarray(roles)
    return np.select([roles == r for r in ROLES], np.arange(len(ROLES))).astype(np.int64)


