"""How many messages each meter sends: the one count the plan, the chunk check and the size guard share."""

from __future__ import annotations

import numpy as np

from mhhs_workbench.model.chunk import DatasetFrame
from mhhs_workbench.model.population import drop_spells_before_install, meter_kinds, supplied_roles
from mhhs_workbench.model.quality import QualityPlan, plan_spells
from mhhs_workbench.model.readings import read_counts
from mhhs_workbench.model.supplied import SuppliedConsumption
from mhhs_workbench.scenario.description import Scenario
from mhhs_workbench.sending.addressing import role_indices
from mhhs_workbench.sending.timeline import recovered_faults


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
    :attr:`~mhhs_workbench.model.supplied.SuppliedConsumption.install_days`).
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


def chunk_message_counts(frame: DatasetFrame, start: int, stop: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Sending role and messages per interface of meters ``start .. stop - 1`` of a data set,
    generated (:func:`message_counts`) or supplied (:func:`supplied_message_counts`)."""
    if frame.supplied is not None:
        return supplied_message_counts(frame.scenario, frame.supplied, start, stop)
    return message_counts(frame.scenario, start, stop)
