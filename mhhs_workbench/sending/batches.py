"""How many messages each meter sends in each send batch, counted cheaply before generation.

The run plan needs, for every chunk and batch, how many messages the chunk's meters put in that
batch (see :mod:`~mhhs_workbench.sending.timeline`). A meter's IF-021 messages depend only on its channels,
change of supplier and first reported day; its IF-041 reads only on those and its spells. So the
batch pattern of each distinct combination is worked out once, by the same functions the writers
use, and added up per ``(chunk, batch)`` with arrays, never meter by meter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mhhs_workbench.model.chunk import DatasetFrame
from mhhs_workbench.model.population import drop_spells_before_install, meter_kinds, supplied_roles
from mhhs_workbench.model.quality import NO_SPELL, MeterQualityPlan, plan_spells
from mhhs_workbench.model.readings import read_instants
from mhhs_workbench.sending.addressing import role_indices
from mhhs_workbench.sending.timeline import (
    SendTimeline,
    message_blocks,
    read_batch_day,
    recovered_faults,
    revision_day,
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


def add_batch_counts(
    out: dict[str, np.ndarray], chunk_of: np.ndarray, sending: MeterSending, frame: DatasetFrame,
    timeline: SendTimeline,
) -> None:
    """Add the meters' messages per ``(chunk, batch id)`` to ``out[interface]`` (in place).

    Parameters
    ----------
    out : dict of str to numpy.ndarray of int64, each ``(n_chunks, timeline.n_ids)``
        Counts so far.
    chunk_of : numpy.ndarray of int64
        The chunk of each meter.
    sending : MeterSending
        The meters.
    frame : DatasetFrame
        The data set.
    timeline : SendTimeline
        Its batches.
    """
    scenario = frame.scenario
    n_days, n_batches = frame.n_days, timeline.n_batches
    key = chunk_of * 3 + sending.role
    if "if021" in scenario.outputs:
        k = scenario.messages.days_per_message
        combos, combo = np.unique(np.stack([sending.cos, sending.first_day], axis=1), axis=0, return_inverse=True)
        patterns = np.zeros((len(combos), n_batches), dtype=np.int64)
        for c, (cos, first) in enumerate(combos.tolist()):
            for _, stop, _ in message_blocks(n_days, k, cos, first):
                patterns[c, stop - 1] += 1
        _add_rows(out["IF-021"], key, combo.ravel(), patterns, sending.n_channels)
        # revisions: one message per channel and day of a recovered fault
        fault_first, fault_days = sending.spells[2], sending.spells[3]
        for m in np.flatnonzero(sending.recovered):
            blocks = message_blocks(n_days, k, int(sending.cos[m]), int(sending.first_day[m]))
            day = revision_day(blocks, int(fault_first[m]), int(fault_days[m]))
            batch = int(timeline.batch_id(sending.role[m], day))
            out["IF-021"][chunk_of[m], batch] += int(sending.n_channels[m] * fault_days[m])
    if "if041" in scenario.outputs:
        columns = np.stack([sending.metered.astype(np.int64), *sending.spells, sending.cos, sending.install_day],
                           axis=1)
        combos, combo = np.unique(columns, axis=0, return_inverse=True)
        patterns = np.zeros((len(combos), n_batches), dtype=np.int64)
        for c, (metered, de_first, de_days, co_first, co_days, cos, install) in enumerate(combos.tolist()):
            if not metered:
                continue
            plan = MeterQualityPlan(None if de_first == NO_SPELL else (de_first, de_days),
                                    None if co_first == NO_SPELL else (co_first, co_days), np.zeros(0), np.zeros(0))
            instants = read_instants(n_days, plan, change_of_supplier_day=cos if cos >= 0 else None,
                                     schedule=scenario.readings.schedule,
                                     install_day=install if install >= 0 else None)
            np.add.at(patterns[c], read_batch_day([r.boundary for r in instants]), 1)
        # an export register's reads go in messages of their own, at the same instants
        per_instant = np.ones(len(combo), dtype=np.int64) if sending.exports is None else 1 + sending.exports
        _add_rows(out["IF-041"], key, combo.ravel(), patterns, per_instant.astype(np.int64))


def _add_rows(out: np.ndarray, key: np.ndarray, combo: np.ndarray, patterns: np.ndarray, weight: np.ndarray) -> None:
    """``out[key // 3, role's batch ids] += weight * patterns[combo]`` for every meter, grouped first."""
    n_roles_batches = patterns.shape[1]
    pair = key * len(patterns) + combo
    pairs, inverse = np.unique(pair, return_inverse=True)
    totals = np.zeros(len(pairs), dtype=np.int64)
    np.add.at(totals, inverse.ravel(), weight)
    for lo in range(0, len(pairs), ADD_ROWS):
        p = pairs[lo : lo + ADD_ROWS]
        k, c = p // len(patterns), p % len(patterns)
        chunk, role = k // 3, k % 3
        columns = role[:, None] * n_roles_batches + np.arange(n_roles_batches)[None, :]
        np.add.at(out, (chunk[:, None], columns), patterns[c] * totals[lo : lo + ADD_ROWS, None])
