"""Revisions: recovered communications faults, sent first as estimates and later as actuals.

A chunk's tables hold each day's *final* values (its latest revision); :class:`Revisions` keeps
what the re-sent rows looked like when first sent, so the IF-021 writer can send both versions.
Which faults are recovered and when they are re-sent is decided in :mod:`~mhhs_workbench.sending.timeline`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mhhs_workbench.model.chunk import Revisions
from mhhs_workbench.model.quality import ACTUAL, REASON_NONE
from mhhs_workbench.model.readings import day_index
from mhhs_workbench.scenario.document import Scenario
from mhhs_workbench.sending.timeline import message_blocks, recovered_faults, revision_day
from mhhs_workbench.time.periods import PERIODS_PER_UTC_DAY


def recover_faults(
    scenario: Scenario, days: np.ndarray, meters: pd.DataFrame, row_meter: np.ndarray, comms: tuple[np.ndarray, np.ndarray],
    first_day: np.ndarray, true_values: np.ndarray, values: np.ndarray, quality: np.ndarray, reasons: np.ndarray,
) -> Revisions:
    """Replace recovered faults' estimates by the measured values, in place; return what was first sent.

    Parameters
    ----------
    scenario : Scenario
        The data set's scenario.
    days : numpy.ndarray of datetime64[D]
        Its UTC days.
    meters : pandas.DataFrame
        The chunk's meters.
    row_meter : numpy.ndarray of int64
        Meter of each value row.
    comms : tuple of numpy.ndarray
        ``(comms_first, comms_days)`` per meter.
    first_day : numpy.ndarray of int64
        First reported day per meter.
    true_values : numpy.ndarray of int64
        Measured values per row [Wh], before any estimation.
    values, quality, reasons : numpy.ndarray
        Reported values, quality and reasons per row; updated to the final ones.
    """
    comms_first, comms_days = (np.asarray(a, dtype=np.int64) for a in comms)
    recovered = recovered_faults(scenario, meters["meter_index"].to_numpy(), comms_first)
    rows = np.flatnonzero(recovered[row_meter])
    if not rows.size:
        return Revisions.none(values.shape[1])
    n_days = len(days)
    k = scenario.messages.days_per_message
    batch_of_meter = {}
    for m in np.unique(row_meter[rows]).tolist():
        cos = day_index(meters["change_of_supplier_date"].iloc[m], days)
        blocks = message_blocks(n_days, k, cos, int(first_day[m]))
        batch_of_meter[m] = revision_day(blocks, int(comms_first[m]), int(comms_days[m]))
    meter = row_meter[rows]
    revisions = Revisions(rows, comms_first[meter], comms_days[meter],
                          np.array([batch_of_meter[m] for m in meter.tolist()], dtype=np.int64),
                          values[rows].copy(), quality[rows].copy(), reasons[rows].copy())
    period = np.arange(values.shape[1])
    inside = (period[None, :] >= (revisions.first_day * PERIODS_PER_UTC_DAY)[:, None]) & (
        period[None, :] < ((revisions.first_day + revisions.n_days) * PERIODS_PER_UTC_DAY)[:, None])
    r, t = np.nonzero(inside)
    values[rows[r], t] = true_values[rows[r], t]
    quality[rows[r], t] = ACTUAL
    reasons[rows[r], t] = REASON_NONE
    return revisions
