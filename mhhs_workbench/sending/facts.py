"""The keyed facts that decide what each meter sends and when, computed once per meter.

The plan counts every meter's messages from these facts (:func:`~mhhs_workbench.sending.counts.counts_of`)
and places them in send batches (:func:`~mhhs_workbench.sending.batches.add_batch_counts`);
the facts are the ones the chunk itself draws (same keyed streams), so counts and chunks agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mhhs_workbench.model.chunk import DatasetFrame
from mhhs_workbench.model.population import drop_spells_before_install, meter_kinds, supplied_roles
from mhhs_workbench.model.quality import plan_spells
from mhhs_workbench.sending.addressing import role_indices
from mhhs_workbench.sending.timeline import (
    recovered_faults,
)

#: Distinct ``(chunk, role, pattern)`` rows added at once (bounds the planning memory).
ADD_ROWS = 16_384


@dataclass(frozen=True)
class MeterSending:
    """What decides when a slice of meters sends, one entry per meter.

    Attributes
    ----------
    role : numpy.ndarray of int64
        Sending role as an index into :data:`~mhhs_workbench.sending.timeline.ROLES`.
    n_channels : numpy.ndarray of int64
        Value rows (measurement quantities) reported.
    cos : numpy.ndarray of int64
        Day index of a change of supplier, -1 for none.
    first_day : numpy.ndarray of int64
        First reported day (an install day inside the data set, else 0).
    install_day : numpy.ndarray of int64
        Install day inside the data set, -1 for a meter installed before.
    metered : numpy.ndarray of bool
        Whether the meter sends register reads.
    spells : tuple of numpy.ndarray
        ``(deenergised_first, deenergised_days, comms_first, comms_days)``.
    recovered : numpy.ndarray of bool
        Whether the meter's communications fault is re-sent as actuals.
    exports : numpy.ndarray of bool, optional
        Whether the site has an export MPAN: its export register sends a message of its own at
        each read instant. ``None``: no site has one.
    """

    role: np.ndarray
    n_channels: np.ndarray
    cos: np.ndarray
    first_day: np.ndarray
    install_day: np.ndarray
    metered: np.ndarray
    spells: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    recovered: np.ndarray
    exports: np.ndarray | None = None


def meter_sending(frame: DatasetFrame, start: int, stop: int) -> MeterSending:
    """What decides when meters ``start .. stop - 1`` send."""
    scenario = frame.scenario
    n_days = frame.n_days
    if frame.supplied is not None:
        supplied = frame.supplied
        connection = supplied.meters["connection_type"].to_numpy()[start:stop].astype(str)
        rows = supplied.rows_of(start, stop)
        n_channels = np.bincount(supplied.row_meter[rows] - start, minlength=stop - start).astype(np.int64)
        has_import = np.zeros(stop - start, dtype=bool)
        has_import[supplied.row_meter[rows][np.isin(supplied.row_mqid[rows], (0, 1))] - start] = True  # AI or AE
        none = np.full(stop - start, -1, dtype=np.int64)
        zeros = np.zeros(stop - start, dtype=np.int64)
        spells = (none, zeros, none, zeros)
        install = supplied.install_days[start:stop]
        return MeterSending(role_indices(supplied_roles(connection)), n_channels, none, np.maximum(install, 0), install,
                            has_import & (connection != "U"), spells, np.zeros(stop - start, dtype=bool))
    kinds = meter_kinds(scenario, start, stop)
    first = np.datetime64(scenario.start_date, "D")
    cos = np.where(np.isnat(kinds.change_of_supplier_date), -1,
                   (kinds.change_of_supplier_date - first).astype("timedelta64[D]").astype(np.int64))
    install = np.asarray(kinds.install_day, dtype=np.int64)
    spells = plan_spells(scenario.data_quality, scenario.seed, kinds.meter_index, n_days, kinds.metered)
    spells = drop_spells_before_install(spells, install)
    return MeterSending(role_indices(kinds.role), kinds.n_channels.astype(np.int64), cos.astype(np.int64),
                        np.maximum(install, 0), install, np.asarray(kinds.metered, dtype=bool), spells,
                        recovered_faults(scenario, kinds.meter_index, spells[2]), kinds.pv_kwp > 0)
