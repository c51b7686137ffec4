"""Addressing: which participant sends which message about which meter, to whom, under which reference.

Data services send: the smart one (SDS) for smart meters, the advanced one (ADS) for advanced
meters, the unmetered one (UMSDS) for unmetered supplies. IF-021 goes to the supplier and the
distributor and also to the central load shaping and market-wide data services; IF-041 only to the
supplier and the distributor. A change of supplier splits a meter's days between the old and the
new supplier, and the change-of-supplier read goes to both.

References are running numbers per sender and interface over the whole data set, in send order
(see :mod:`~mhhs_workbench.timeline`), and carry the send date. :func:`message_counts` counts every
meter's messages (re-sent days included) cheaply up front, so each chunk knows where its messages
and references go before it is generated, on any worker.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..population import drop_spells_before_install, meter_kinds, supplied_roles
from ..quality import QualityPlan, plan_spells
from ..readings import read_counts
from ..scenario import Scenario
from ..supplied import SuppliedConsumption
from ..timeline import recovered_faults
from .common import ReferenceSequence, Sender

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


def if021_message_counts(
    n_channels: np.ndarray, cos_day: np.ndarray, n_days: int, days_per_message: int,
    first_day: np.ndarray | None = None,
) -> np.ndarray:
    """IF-021 messages per meter: one per channel and block of days within each supplier's days.

    ``first_day`` is each meter's first reported day (its install day when installed inside the
    data set, else 0); a change of supplier always falls after it.
    """
    cos = np.asarray(cos_day)
    first = np.zeros_like(cos) if first_day is None else np.maximum(np.asarray(first_day), 0)
    split = cos >= 1

    def blocks(n: np.ndarray | int) -> np.ndarray:
        return -(-np.asarray(n) // days_per_message)

    at = np.maximum(cos, first)
    per_channel = np.where(split, blocks(at - first) + blocks(n_days - at), blocks(n_days - first))
    return np.asarray(n_channels) * per_channel


def message_counts(scenario: Scenario, start: int, stop: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Messages each of meters ``start .. stop - 1`` is the subject of, per interface.

    Returns
    -------
    role : numpy.ndarray of int64
        Each meter's sending role as an index into :data:`ROLES`.
    counts : dict of str to numpy.ndarray of int64
        ``{"IF-021": per meter, "IF-041": per meter}`` (zeros for an interface not in the
        scenario's outputs).
    """
    kinds = meter_kinds(scenario, start, stop)
    first = np.datetime64(scenario.start_date, "D")
    n_days = int((np.datetime64(scenario.end_date, "D") - first).astype(int)) + 1
    cos = np.where(np.isnat(kinds.change_of_supplier_date), -1,
                   (kinds.change_of_supplier_date - first).astype("timedelta64[D]").astype(np.int64))
    role = role_indices(kinds.role)
    zeros = np.zeros(kinds.meter_index.size, dtype=np.int64)
    counts = {"IF-021": zeros, "IF-041": zeros}
    if "if021" in scenario.outputs:
        n_channels = kinds.n_channels.astype(np.int64)
        counts["IF-021"] = if021_message_counts(n_channels, cos, n_days, scenario.messages.days_per_message,
                                                kinds.install_day)
    spells = plan_spells(scenario.data_quality, scenario.seed, kinds.meter_index, n_days, kinds.metered)
    spells = drop_spells_before_install(spells, kinds.install_day)
    if "if021" in scenario.outputs:
        # a recovered communications fault's days are sent again: one message per channel and day
        recovered = recovered_faults(scenario, kinds.meter_index, spells[2])
        counts["IF-021"] = counts["IF-021"] + np.where(recovered, n_channels * spells[3], 0)
    if "if041" in scenario.outputs:
        empty = np.zeros((kinds.meter_index.size, 0), dtype=bool)
        # a site with PV has an export MPAN, whose export register is read in messages of its own
        counts["IF-041"] = read_counts(n_days, QualityPlan(*spells, empty, empty), cos, kinds.metered,
                                       schedule=scenario.readings.schedule, install_day=kinds.install_day,
                                       exports=kinds.pv_kwp > 0)
    return role, counts


def supplied_message_counts(
    scenario: Scenario, supplied: SuppliedConsumption, start: int, stop: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """As :func:`message_counts`, for supplied meters ``start .. stop - 1``.

    Supplied meters have the channels the user gave, no change of supplier and no spells; reads
    integrate the import (AI) of metered supplies, or the export (AE) of an MPAN that only
    exports; values and reads start on an install day found in the data (see
    :attr:`~mhhs_workbench.supplied.SuppliedConsumption.install_days`).
    """
    connection = supplied.meters["connection_type"].to_numpy()[start:stop].astype(str)
    role = role_indices(supplied_roles(connection))
    rows = supplied.rows_of(start, stop)
    n_channels = np.bincount(supplied.row_meter[rows] - start, minlength=stop - start)
    # a register counts an MPAN's active import (AI), or its active export (AE) if that is all
    has_import = np.zeros(stop - start, dtype=bool)
    has_import[supplied.row_meter[rows][np.isin(supplied.row_mqid[rows], (0, 1))] - start] = True
    n_days = supplied.days.size
    zeros = np.zeros(stop - start, dtype=np.int64)
    counts = {"IF-021": zeros, "IF-041": zeros}
    none = np.full(stop - start, -1, dtype=np.int64)
    install = supplied.install_days[start:stop]  # values start on the install day, reads with it
    if "if021" in scenario.outputs:
        counts["IF-021"] = if021_message_counts(n_channels, none, n_days, scenario.messages.days_per_message,
                                                np.maximum(install, 0))
    if "if041" in scenario.outputs:
        empty = np.zeros((stop - start, 0), dtype=bool)
        no_spells = QualityPlan(none, zeros, none, zeros, empty, empty)
        counts["IF-041"] = read_counts(n_days, no_spells, none, has_import & (connection != "U"),
                                       schedule=scenario.readings.schedule, install_day=install)
    return role, counts
