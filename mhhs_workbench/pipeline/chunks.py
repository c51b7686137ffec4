"""Build a chunk: one slice of meters x all the data set's days, generated or supplied.

:func:`generate_chunk` is the chunk stage (see :mod:`mhhs_workbench.model.chunk` for the contract it
fills). Because every random draw is keyed by ``(seed, meter)``, a chunk is the same whichever
process builds it and whatever the chunk size.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mhhs_workbench.model.chunk import MQIDS, Chunk, DatasetFrame, value_rows
from mhhs_workbench.model.population import (
    ADVANCED,
    build_population,
    drop_spells_before_install,
    first_reported_days,
    supplied_population,
)
from mhhs_workbench.model.profiles import consumption
from mhhs_workbench.model.quality import (
    NO_SPELL,
    QualityPlan,
    apply_quality,
    plan_meters,
)
from mhhs_workbench.model.readings import UNMETERED_CONNECTION, chunk_reads
from mhhs_workbench.sending.revisions import recover_faults
from mhhs_workbench.time.periods import (
    PERIODS_PER_UTC_DAY,
)


def generate_chunk(frame: DatasetFrame, index: int, start: int, stop: int, *, with_reads: bool = True) -> Chunk:
    """Build chunk ``index`` holding meters ``start .. stop - 1``.

    Parameters
    ----------
    frame : DatasetFrame
        The data set's scenario (or supplied consumption) and time axis.
    index : int
        Chunk number.
    start, stop : int
        Global meter indices of the slice.
    with_reads : bool
        Integrate register reads (needed for IF-041 and the readings table).

    Raises
    ------
    RegisterCapacityError
        A register would roll over more than once between two reads (message names the MPAN).
    """
    if frame.supplied is not None:
        meters, row_meter, row_mqid, values, quality, reasons, plan = _supplied_parts(frame, start, stop)
        revisions = None
    else:
        meters, row_meter, row_mqid, values, quality, reasons, plan, revisions = _generated_parts(frame, start, stop)
    chunk = Chunk(index, meters, row_meter, row_mqid, values, quality, reasons, plan, revisions=revisions)
    return attach_reads(frame, chunk) if with_reads else chunk


def attach_reads(frame: DatasetFrame, chunk: Chunk) -> Chunk:
    """The chunk with its register reads, integrated from its reported import (AI) rows and, on
    export MPANs, its active export (AE) rows."""
    # one AI row per meter that has one, in meter order; -1 marks a meter without import
    import_wh = np.full((chunk.n_meters, frame.n_days * PERIODS_PER_UTC_DAY), -1, dtype=np.int64)
    ai = np.flatnonzero(chunk.row_mqid == MQIDS.index("AI"))
    import_wh[chunk.row_meter[ai]] = chunk.values[ai]
    # AE rows sent on a site's export MPAN feed its export register; -1 for a site without one
    export_wh = np.full_like(import_wh, -1)
    has_export = (chunk.meters["export_mpan"].to_numpy() != "")[chunk.row_meter]
    ae = np.flatnonzero((chunk.row_mqid == MQIDS.index("AE")) & has_export)
    export_wh[chunk.row_meter[ae]] = chunk.values[ae]
    # an MPAN that only exports (a supplied export MPAN, kept as given) registers its own export
    only_export = np.flatnonzero((chunk.row_mqid == MQIDS.index("AE")) & ~has_export)
    only_export = only_export[import_wh[chunk.row_meter[only_export], 0] < 0]
    import_wh[chunk.row_meter[only_export]] = chunk.values[only_export]
    reads = chunk_reads(chunk.meters, import_wh, chunk.plan, frame.days, frame.night_masks(chunk.meters),
                        schedule=frame.scenario.readings.schedule, reported_export_wh=export_wh)
    return dataclasses.replace(chunk, reads=reads)


def _generated_parts(frame: DatasetFrame, start: int, stop: int) -> tuple:
    """A generated fleet's meters, consumption and imperfections."""
    scenario = frame.scenario
    meters = build_population(scenario, start, stop)
    result = consumption(meters, frame.days, scenario.seed, temperature=frame.temperature)
    metered = (meters["connection_type"] != UNMETERED_CONNECTION).to_numpy()
    plan = plan_meters(scenario.data_quality, scenario.seed, meters["meter_index"].to_numpy(), frame.days, metered)
    first_day = first_reported_days(meters, frame.days)
    install_day = np.where(first_day > 0, first_day, -1)
    spells = drop_spells_before_install(
        (plan.deenergised_first, plan.deenergised_days, plan.comms_first, plan.comms_days), install_day)
    plan = QualityPlan(*spells, plan.missing, plan.invalid)

    row_meter, row_mqid = value_rows(meters)
    by_mqid = (result.import_wh, result.export_wh, result.reactive_import_varh, result.reactive_export_varh)
    true_values = np.empty((row_meter.size, frame.n_days * PERIODS_PER_UTC_DAY), dtype=np.int64)
    for m, array in enumerate(by_mqid):
        sel = row_mqid == m
        true_values[sel] = array[row_meter[sel]]
    row_plan = QualityPlan(*(getattr(plan, f)[row_meter] for f in QualityPlan.__dataclass_fields__))
    advanced = np.isin(meters["archetype"].to_numpy(), ADVANCED)
    (values,), quality, reasons = apply_quality(row_plan, [true_values], metered[row_meter],
                                                advanced=advanced[row_meter],
                                                first_period=first_day[row_meter] * PERIODS_PER_UTC_DAY)
    if first_day.any():  # a meter installed inside the range measures nothing before its install day
        before = np.arange(values.shape[1])[None, :] < (first_day[row_meter] * PERIODS_PER_UTC_DAY)[:, None]
        values[before], quality[before], reasons[before] = 0, 0, 0
    # recovered faults end with the measured values; what was first sent is kept for the messages
    revisions = recover_faults(scenario, frame.days, meters, row_meter, (plan.comms_first, plan.comms_days),
                               first_day, true_values, values, quality, reasons)
    return meters, row_meter, row_mqid, values, quality, reasons, plan, revisions


def _supplied_parts(frame: DatasetFrame, start: int, stop: int) -> tuple:
    """Supplied meters and their values as given: no spells, no imperfections added."""
    supplied = frame.supplied
    meters = supplied_population(frame.scenario, supplied, start, stop)
    rows = supplied.rows_of(start, stop)
    n, t = stop - start, frame.n_days * PERIODS_PER_UTC_DAY
    none = np.full(n, NO_SPELL, dtype=np.int64)
    zeros = np.zeros(n, dtype=np.int64)
    plan = QualityPlan(none, zeros, none, zeros, np.zeros((n, t), dtype=bool), np.zeros((n, t), dtype=bool))
    return (meters, supplied.row_meter[rows] - start, supplied.row_mqid[rows], supplied.values[rows],
            supplied.quality[rows], supplied.reasons[rows], plan)
