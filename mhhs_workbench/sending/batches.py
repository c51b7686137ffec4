"""How many messages each meter sends in each send batch, counted cheaply before generation.

The run plan needs, for every chunk and batch, how many messages the chunk's meters put in that
batch (see :mod:`~mhhs_workbench.sending.timeline`). A meter's IF-021 messages depend only on its channels,
change of supplier and first reported day; its IF-041 reads only on those and its spells. So the
batch pattern of each distinct combination is worked out once, by the same functions the writers
use, and added up per ``(chunk, batch)`` with arrays, never meter by meter.
"""

from __future__ import annotations

import numpy as np

from mhhs_workbench.model.chunk import DatasetFrame
from mhhs_workbench.model.quality import NO_SPELL, MeterQualityPlan
from mhhs_workbench.model.readings import read_instants
from mhhs_workbench.sending.facts import MeterSending
from mhhs_workbench.sending.timeline import (
    SendTimeline,
    message_blocks,
    read_batch_day,
    revision_day,
)

#: Distinct ``(chunk, role, pattern)`` rows added at once (bounds the planning memory).
ADD_ROWS = 16_384


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
