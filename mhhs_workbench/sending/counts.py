"""How many messages each meter sends: the one count the plan, the chunk check and the size guard share."""

from __future__ import annotations

import numpy as np

from mhhs_workbench.model.chunk import DatasetFrame
from mhhs_workbench.model.quality import QualityPlan
from mhhs_workbench.model.readings import read_counts
from mhhs_workbench.scenario.document import Scenario
from mhhs_workbench.sending.facts import MeterSending, meter_sending


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


def counts_of(sending: MeterSending, frame: DatasetFrame) -> dict[str, np.ndarray]:
    """Messages each meter is the subject of, per interface, from its sending facts.

    Parameters
    ----------
    sending : MeterSending
        The meters' facts (:func:`~mhhs_workbench.sending.facts.meter_sending`).
    frame : DatasetFrame
        The data set they belong to.

    Returns
    -------
    dict of str to numpy.ndarray of int64
        ``{"IF-021": per meter, "IF-041": per meter}`` (zeros for an interface not in the
        scenario's outputs).
    """
    scenario, n_days = frame.scenario, frame.n_days
    zeros = np.zeros(sending.role.size, dtype=np.int64)
    counts = {"IF-021": zeros, "IF-041": zeros}
    if "if021" in scenario.outputs:
        first = if021_message_counts(sending.n_channels, sending.cos, n_days, scenario.messages.days_per_message,
                                     sending.first_day)
        # a recovered communications fault's days are sent again: one message per channel and day
        counts["IF-021"] = first + np.where(sending.recovered, sending.n_channels * sending.spells[3], 0)
    if "if041" in scenario.outputs:
        empty = np.zeros((sending.role.size, 0), dtype=bool)
        # a site with PV has an export MPAN, whose export register is read in messages of its own
        counts["IF-041"] = read_counts(n_days, QualityPlan(*sending.spells, empty, empty), sending.cos,
                                       sending.metered, schedule=scenario.readings.schedule,
                                       install_day=sending.install_day, exports=sending.exports)
    return counts


def chunk_message_counts(frame: DatasetFrame, start: int, stop: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Sending role (an index into :data:`~mhhs_workbench.sending.addressing.ROLES`) and messages
    per interface of meters ``start .. stop - 1`` of a data set, generated or supplied."""
    sending = meter_sending(frame, start, stop)
    return sending.role, counts_of(sending, frame)


def message_counts(scenario: Scenario, start: int, stop: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """As :func:`chunk_message_counts`, for meters ``start .. stop - 1`` of a generated scenario."""
    return chunk_message_counts(DatasetFrame(scenario), start, stop)
