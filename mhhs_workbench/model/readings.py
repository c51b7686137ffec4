"""Register readings: cumulative and time-of-use registers integrated exactly from consumption.

A register reading equals the previous reading plus the consumption between the two read times, to
the Wh, and wraps at the meter's digit capacity (``10**digits`` kWh). A site with an export MPAN
has an export register too: it integrates the active export (AE) sent on that MPAN and is read at
the same instants as the import registers, in messages of its own sent under the export MPAN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mhhs_workbench.codes.messages import CUMULATIVE_REGISTER
from mhhs_workbench.model.population import meter_records
from mhhs_workbench.model.quality import NO_SPELL, MeterQualityPlan, QualityPlan
from mhhs_workbench.time.periods import PERIODS_PER_UTC_DAY


class RegisterCapacityError(ValueError):
    """A register would roll over more than once between two reads, so its reads are ambiguous."""

DAY_REGISTER, NIGHT_REGISTER = "01", "02"
#: Connection type of an unmetered supply: no meter, so no register and no reads.
UNMETERED_CONNECTION = "U"
#: Share of an Economy 7 meter's install reading on its day register.
E7_DAY_SHARE = 0.58
#: IF-041 event of a meter's routine read by connection type: smart (``W``) and advanced (CT)
#: meters alike are read remotely, so the opening read of a meter installed before the data set
#: is a remote read; an installation read is only for a meter installed inside it.
ROUTINE_READ_EVENT = {"W": "[ReadingRemote]", "L": "[ReadingRemote]", "H": "[ReadingRemote]",
                      "E": "[ReadingRemote]"}
#: Event and site visit check code (DI-096 ``01``) of the read taken when a meter is installed.
INSTALL_READ = ("[ReadingInstl]", "01")

#: Columns of a chunk's reads, in order. ``mpan`` is the site's (import) MPAN, which keys its
#: meter; ``message_mpan`` the MPAN the read is sent under (the export MPAN for an export
#: register), which the readings table and the IF-041 message carry.
READ_COLUMNS = (
    "mpan",
    "message_mpan",
    "meter_id",
    "event_code",
    "register_id",
    "read_datetime",
    "reading_wh",
    "reading_method",
    "site_visit_check_code",
    "message_key",
)


@dataclass(frozen=True)
class ReadInstant:
    """One read of a meter: at the end of ``boundary`` whole days from the start, for an event.

    ``reading_method`` is ``A`` (actual, from the meter) unless the meter could not be read then,
    as in a communications fault, when the Data Service estimates it (``E``).
    """

    boundary: int
    event_code: str
    site_visit_check_code: str | None = None
    reading_method: str = "A"


def read_instants(
    n_days: int,
    plan: MeterQualityPlan,
    *,
    change_of_supplier_day: int | None = None,
    schedule: str = "daily",
    install_day: int | None = 0,
    opening_event: str = "[ReadingRemote]",
) -> list[ReadInstant]:
    """Which reads a meter sends, in time order.

    Parameters
    ----------
    n_days : int
        UTC days in the data set; boundary ``b`` is 00:00 UTC at the start of day ``b``.
    plan : MeterQualityPlan
        The meter's imperfections: no remote reads inside a comms fault or a de-energised spell,
        energisation-change reads at either end of the spell.
    change_of_supplier_day : int, optional
        Day index on whose 00:00 a change-of-supplier read is taken.
    schedule : {'daily', 'none'}
        ``daily``: a remote read at every UTC midnight after the opening read.
    install_day : int or None
        Day index on whose 00:00 the meter is installed: its first read is the installation read
        then. ``None`` for a meter installed before the data set, whose first read is a routine
        ``opening_event`` read at boundary 0.
    opening_event : str
        Event of the opening read at boundary 0 of a meter installed before the data set (its
        routine read, see :data:`ROUTINE_READ_EVENT`).
    """
    if install_day is None:
        opening, reads = 0, [ReadInstant(0, opening_event)]
    else:
        opening, reads = install_day, [ReadInstant(install_day, *INSTALL_READ)]
    blocked: set[int] = set()
    energisation: dict[int, str] = {}
    if plan.comms_fault:
        first, length = plan.comms_fault
        blocked.update(range(first + 1, first + length))
    if plan.deenergised:
        first, length = plan.deenergised
        blocked.update(range(first, first + length + 1))
        energisation = {first: "04", first + length: "03"}  # de-energised / energised codes
    for b in range(opening + 1, n_days + 1):
        if b in energisation:
            reads.append(ReadInstant(b, "[ReadingEnergisationChg]", energisation[b]))
        elif schedule == "daily" and b not in blocked:
            reads.append(ReadInstant(b, "[ReadingRemote]"))
        if change_of_supplier_day is not None and b == change_of_supplier_day:
            # during a comms fault the change-of-supplier read is the Data Service's estimate
            method = "E" if plan.comms_fault and b in blocked and b not in energisation else "A"
            reads.append(ReadInstant(b, "[ReadingCOS]", reading_method=method))
    return reads


def day_index(value: object, days: np.ndarray) -> int | None:
    """Index of a date among the data set's ``days`` (``None`` for a missing date)."""
    if pd.isna(value):
        return None
    return int((np.datetime64(value, "D") - days[0]).astype(np.int64))


def register_values(initial_wh: int, half_hours_wh: np.ndarray, boundaries: np.ndarray, capacity_wh: int) -> np.ndarray:
    """Register value at day boundaries, wrapping at ``capacity_wh``.

    Parameters
    ----------
    initial_wh : int
        Register at boundary 0 [Wh].
    half_hours_wh : numpy.ndarray
        Consumption per UTC half hour from boundary 0 [Wh].
    boundaries : numpy.ndarray of int
        Day boundaries to read at.
    capacity_wh : int
        Value at which the register rolls over to zero [Wh].

    Raises
    ------
    RegisterCapacityError
        If the register would roll over more than once between two reads.
    """
    cumulative = np.concatenate([[0], np.cumsum(half_hours_wh.reshape(-1, PERIODS_PER_UTC_DAY).sum(axis=1))])
    advances = np.diff(cumulative[boundaries])
    if advances.size and advances.max() >= capacity_wh:
        i = int(np.argmax(advances))
        raise RegisterCapacityError(
            f"{advances[i] / 1000:,.0f} kWh flow between reads on days {boundaries[i]} and "
            f"{boundaries[i + 1]}, more than the register holds ({capacity_wh / 1000:,.0f} kWh), so "
            "it would roll over more than once; use more readings.register_digits or daily reads"
        )
    return (initial_wh + cumulative[boundaries]) % capacity_wh


def meter_reads(
    meter: Any,
    reported_import_wh: np.ndarray,
    plan: MeterQualityPlan,
    days: np.ndarray,
    night_mask: np.ndarray,
    *,
    schedule: str = "daily",
    reported_export_wh: np.ndarray | None = None,
) -> list[tuple]:
    """All register reads of one meter, as rows of :data:`READ_COLUMNS`.

    At each read instant, the import message's reads (cumulative, then the Economy 7 registers),
    then, for a site with an export MPAN, the export message's cumulative export register read.

    Parameters
    ----------
    meter : pandas.Series or named tuple
        The meter's row of the population.
    reported_import_wh : numpy.ndarray
        Import (AI) per UTC half hour as reported in IF-021 [Wh].
    plan : MeterQualityPlan
        The meter's imperfections.
    days : numpy.ndarray of datetime64[D]
        UTC days of the data set.
    night_mask : numpy.ndarray of bool
        Economy 7 night half hours, same shape as ``reported_import_wh``.
    reported_export_wh : numpy.ndarray, optional
        Export (AE) per UTC half hour as reported in IF-021 on the site's export MPAN [Wh];
        ``None`` for a site without one (no export register).
    """
    n_days = days.size
    cos_day = day_index(meter.change_of_supplier_date, days)
    install_day = day_index(meter.install_date, days)
    instants = read_instants(n_days, plan, change_of_supplier_day=cos_day, schedule=schedule,
                             install_day=install_day if install_day is not None and install_day >= 0 else None,
                             opening_event=ROUTINE_READ_EVENT.get(meter.connection_type, "[ReadingRemote]"))
    boundaries = np.array([r.boundary for r in instants])
    capacity = 10 ** (int(meter.register_digits) + 3)
    total = register_values(int(meter.initial_register_wh), reported_import_wh, boundaries, capacity)
    registers = [(CUMULATIVE_REGISTER, total)]
    if meter.time_of_use:
        day_initial = int(meter.initial_register_wh * E7_DAY_SHARE)
        night_initial = int(meter.initial_register_wh) - day_initial
        day_use = np.where(night_mask, 0, reported_import_wh)
        registers.append((DAY_REGISTER, register_values(day_initial, day_use, boundaries, capacity)))
        registers.append(
            (NIGHT_REGISTER, register_values(night_initial, reported_import_wh - day_use, boundaries, capacity))
        )
    messages = [(meter.mpan, "", registers)]
    if reported_export_wh is not None and meter.export_mpan:
        try:
            export = register_values(int(meter.initial_export_register_wh), reported_export_wh, boundaries, capacity)
        except RegisterCapacityError as exc:
            raise RegisterCapacityError(f"export register (export MPAN {meter.export_mpan}): {exc}") from None
        messages.append((meter.export_mpan, ":E", [(CUMULATIVE_REGISTER, export)]))
    stamps = (days[0] + boundaries.astype("timedelta64[D]")).astype("datetime64[m]")
    rows = []
    for i, r in enumerate(instants):
        for message_mpan, suffix, message_registers in messages:
            key = f"{meter.meter_index}:{r.boundary}:{r.event_code}{suffix}"
            for register_id, values in message_registers:
                rows.append(
                    (
                        meter.mpan,
                        message_mpan,
                        meter.meter_id,
                        r.event_code,
                        register_id,
                        stamps[i],
                        int(values[i]),
                        r.reading_method,
                        r.site_visit_check_code,
                        key,
                    )
                )
    return rows


def read_counts(
    n_days: int,
    plan: QualityPlan,
    change_of_supplier_day: np.ndarray,
    metered: np.ndarray,
    *,
    schedule: str = "daily",
    install_day: np.ndarray | None = None,
    exports: np.ndarray | None = None,
) -> np.ndarray:
    """How many IF-041 messages each meter's :func:`read_instants` give, vectorised: one per
    instant, two for a site with an export register (its import and its export MPAN's).

    Cheap enough to count every meter of a data set before generating any consumption, so that
    each chunk knows where its messages go.

    Parameters
    ----------
    n_days : int
        UTC days in the data set.
    plan : QualityPlan
        Spells of the meters (``missing`` / ``invalid`` are not used and may be empty).
    change_of_supplier_day : array of int
        Day index of each meter's change of supplier, -1 for none.
    metered : array of bool
        Unmetered supplies have no reads.
    install_day : array of int, optional
        Day index of a meter installed inside the data set, -1 for one installed before (its
        spells must begin after the install day, see
        :func:`~mhhs_workbench.model.population.drop_spells_before_install`).
    exports : array of bool, optional
        Whether each site has an export MPAN (and so an export register read at each instant).
    """
    de = plan.deenergised_first != NO_SPELL
    co = plan.comms_first != NO_SPELL
    cos = (np.asarray(change_of_supplier_day) >= 1) & (np.asarray(change_of_supplier_day) <= n_days)
    # install read, then per boundary 1..n_days: an energisation-change read at either end of a
    # de-energised spell, else a remote read unless blocked by a spell, plus a change-of-supplier read
    count = 1 + 2 * de + cos
    if schedule == "daily":
        # the opening (or installation) read's day, after which a remote read every midnight
        first = 0 if install_day is None else np.maximum(np.asarray(install_day), 0)
        blocked = np.where(co, plan.comms_days - 1, 0) + np.where(de, plan.deenergised_days + 1, 0)
        count = count + n_days - first - blocked
    if exports is not None:
        count = count * (1 + np.asarray(exports, dtype=np.int64))
    return np.where(metered, count, 0).astype(np.int64)


def chunk_reads(
    meters: pd.DataFrame,
    reported_import_wh: np.ndarray,
    plan: QualityPlan,
    days: np.ndarray,
    night_mask: np.ndarray,
    *,
    schedule: str = "daily",
    reported_export_wh: np.ndarray | None = None,
) -> dict[str, list[Any]]:
    """Register reads of a chunk of meters as columns of :data:`READ_COLUMNS`, meter by meter.

    Parameters
    ----------
    meters : pandas.DataFrame
        The chunk's rows of the population.
    reported_import_wh : numpy.ndarray, shape ``(n_meters, n_days * 48)``
        Import (AI) as reported in IF-021 [Wh]; a row of -1 for a meter without import (no reads).
    plan : QualityPlan
        The meters' imperfections.
    days : numpy.ndarray of datetime64[D]
        UTC days of the data set.
    night_mask : numpy.ndarray of bool
        Economy 7 night half hours: ``(n_days * 48,)`` for one window shared by every meter, or
        ``(n_meters, n_days * 48)``, each meter's own window.
    reported_export_wh : numpy.ndarray, shape ``(n_meters, n_days * 48)``, optional
        Export (AE) as reported in IF-021 on each site's export MPAN [Wh]; a row of -1 for a
        site without an export MPAN (no export register).

    Raises
    ------
    RegisterCapacityError
        Naming the MPAN whose register would roll over more than once between two reads.
    """
    rows: list[tuple] = []
    for j, meter in enumerate(meter_records(meters)):
        if meter.connection_type == UNMETERED_CONNECTION or reported_import_wh[j, 0] < 0:
            continue  # no meter (or no import), no register
        try:
            night = night_mask[j] if night_mask.ndim == 2 else night_mask
            export = None
            if reported_export_wh is not None and reported_export_wh[j, 0] >= 0:
                export = reported_export_wh[j]
            rows.extend(meter_reads(meter, reported_import_wh[j], plan.meter(j), days, night, schedule=schedule,
                                    reported_export_wh=export))
        except RegisterCapacityError as exc:
            raise RegisterCapacityError(f"MPAN {meter.mpan}: {exc}") from None
    if not rows:
        return {name: [] for name in READ_COLUMNS}
    return dict(zip(READ_COLUMNS, map(list, zip(*rows, strict=True)), strict=True))
