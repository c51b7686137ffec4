"""Population: the fleet of meters a scenario describes, with valid identifiers and attributes.

Every attribute of meter *i* is drawn from keyed random streams of ``(seed, i)``
(:mod:`~mhhs_workbench.model.randomness`), and its identifiers are keyed bijections of *i*, so
any slice of the fleet can be built alone and a meter is the same whatever the fleet's size.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mhhs_workbench.codes.identifiers import (
    DISTRIBUTOR_BY_GSP_GROUP,
    GSP_GROUPS,
    NATION_BY_GSP_GROUP,
)
from mhhs_workbench.codes.settlement import duos_tariffs
from mhhs_workbench.model.identities import (
    indexed_export_mpans,
    indexed_meter_serials,
    indexed_mpans,
)
from mhhs_workbench.model.profiles import ARCHETYPE_SPECS
from mhhs_workbench.model.profiles.economy7 import economy7_windows, window_labels
from mhhs_workbench.model.profiles.individuality import annual_kwh as draw_annual_kwh
from mhhs_workbench.model.quality import NO_SPELL
from mhhs_workbench.model.randomness import (
    Stream,
    meter_keys,
    meter_normal,
    meter_uniform,
    stratified_uniform,
)
from mhhs_workbench.model.supplied import SuppliedConsumption
from mhhs_workbench.scenario.document import Scenario
from mhhs_workbench.scenario.limits import MAX_METERS
from mhhs_workbench.scenario.sections import MeterMix
from mhhs_workbench.time.periods import format_utc

# Kinds of archetype, from the model's own facts about each (one source of truth)
DOMESTIC = tuple(a for a, s in ARCHETYPE_SPECS.items() if s.domestic)
TIME_OF_USE = tuple(a for a, s in ARCHETYPE_SPECS.items() if s.economy7)
ADVANCED = tuple(a for a, s in ARCHETYPE_SPECS.items() if s.reactive)
UNMETERED = tuple(a for a, s in ARCHETYPE_SPECS.items() if s.connection_types == ("U",))

#: ``archetype`` of meters whose consumption the user supplied.
SUPPLIED_ARCHETYPE = "supplied"
#: Share of sites whose archetype allows two connection types that take the second one.
SECOND_CONNECTION_SHARE = 0.3
#: Connection types were taken up this many days before the data set starts, at least / at most.
CONNECTION_AGE_DAYS = (30, 720)
#: A near-wrap register starts this many Wh below its capacity, at least / at most.
NEAR_WRAP_WH = (1_000, 200_000)
#: Spread (sigma of the log) of heat-pump annual electricity around the scenario's mean.
HEAT_PUMP_LOG_SD = 0.25

#: ``install_day`` of a meter installed before the data set starts (or of a site without a meter).
INSTALLED_BEFORE = -1

#: Columns of the meter register, in order: one row per site. ``mpan`` is the import metering
#: point; ``export_mpan`` the site's export metering point ("" for none), which carries its
#: export (AE, RE) values. ``install_date`` is the day the meter was installed.
#: ``initial_export_register_wh`` opens the export register read under the export MPAN (0
#: without one).
METER_COLUMNS = (
    "meter_index",
    "mpan",
    "export_mpan",
    "gsp_group",
    "nation",
    "distributor_dip_id",
    "archetype",
    "connection_type",
    "connection_effective_from",
    "install_date",
    "data_service_dip_id",
    "data_service_role",
    "meter_id",
    "time_of_use",
    "economy7_window",  # Economy 7 switching window, UTC (profiles.economy7); "" without one
    "annual_kwh",
    "pv_kwp",
    "ev_kw",
    "ev_smart",
    "heat_pump_kwh",
    "register_digits",
    "initial_register_wh",
    "initial_export_register_wh",
    "supplier_dip_id",
    "change_of_supplier_date",
    # settlement: Supplier MPIDs before / from the change of supplier date ("" for no change),
    # DUoS tariffs of the import and export MPANs (see settlement_codes) and the premise kind
    "supplier_mpid",
    "new_supplier_mpid",
    "duos_import_tariff_id",
    "duos_export_tariff_id",
    "domestic_premise",
)


def distributor_dip_id(prefix: str, gsp_group: str) -> str:
    """Test DIP ID of the distributor hosting a GSP group: prefix, zeros, distributor ID."""
    return f"{prefix}000000{DISTRIBUTOR_BY_GSP_GROUP[gsp_group]}"


@dataclass(frozen=True)
class MeterKinds:
    """The few attributes of a slice of meters that decide which messages they send.

    Cheap to draw for millions of meters (no identifiers), so a run can count every chunk's
    messages before generating any of them.

    Attributes
    ----------
    meter_index : numpy.ndarray of int64
        Global meter indices.
    archetype : numpy.ndarray of object
        Consumption archetype names.
    pv_kwp : numpy.ndarray of float
        Rooftop PV peak power [kWp]; 0 without PV.
    change_of_supplier_date : numpy.ndarray of datetime64[D]
        Date of a change of supplier, NaT for none.
    install_day : numpy.ndarray of int64
        Day index (from the start) on whose 00:00 UTC the meter is installed, or
        :data:`INSTALLED_BEFORE` for a meter installed before the data set starts.
    """

    meter_index: np.ndarray
    archetype: np.ndarray
    pv_kwp: np.ndarray
    change_of_supplier_date: np.ndarray
    install_day: np.ndarray

    @property
    def metered(self) -> np.ndarray:
        """Whether each meter has a meter (and so registers and reads)."""
        return ~np.isin(self.archetype, UNMETERED)

    @property
    def role(self) -> np.ndarray:
        """Role of each meter's data service: ``SDS``, ``ADS`` or ``UMSDS``."""
        advanced = np.isin(self.archetype, ADVANCED)
        return np.where(advanced, "ADS", np.where(self.metered, "SDS", "UMSDS")).astype(object)

    @property
    def n_channels(self) -> np.ndarray:
        """How many measurement quantities each meter reports: AI, AE with PV, RI and RE when advanced."""
        return 1 + (self.pv_kwp > 0) + 2 * np.isin(self.archetype, ADVANCED)


def connection_dates(scenario: Scenario, meter_index: np.ndarray) -> np.ndarray:
    """When each meter's connection type took effect: midnight UTC, 30-720 days before the start.

    Returns the DIP's text form (``2024-06-27T00:00:00+00:00``), object array.
    """
    first, last = CONNECTION_AGE_DAYS
    u = meter_uniform(scenario.seed, meter_index, Stream.POP_CONNECTION, 1)
    age = first + (u * (last - first)).astype(np.int64)
    since = np.datetime64(scenario.start_date, "D") - age.astype("timedelta64[D]")
    return format_utc(since).astype(object)


def install_days(scenario: Scenario, meter_index: np.ndarray, metered: np.ndarray) -> np.ndarray:
    """Day index on which each meter is installed inside the date range, or :data:`INSTALLED_BEFORE`.

    A share ``meters.install_share`` of metered sites get their meter on a day after the first
    (so that the data set shows the site before and after), at 00:00 UTC.
    """
    n_days = scenario.n_days
    seed = scenario.seed
    hit = np.asarray(metered, dtype=bool) & (n_days >= 2)
    hit &= meter_uniform(seed, meter_index, Stream.POP_CONNECTION, 2) < scenario.meters.install_share
    day = 1 + (meter_uniform(seed, meter_index, Stream.POP_CONNECTION, 3) * (n_days - 1)).astype(np.int64)
    return np.where(hit, np.minimum(day, n_days - 1), INSTALLED_BEFORE).astype(np.int64)


def drop_spells_before_install(
    spells: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], install_day: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Spells as :func:`~mhhs_workbench.model.quality.plan_spells` gives them, without any that begin
    on or before a meter's install day: a meter has no fault or de-energisation before it exists.

    Parameters
    ----------
    spells : tuple of numpy.ndarray
        ``(deenergised_first, deenergised_days, comms_first, comms_days)`` [day index, days].
    install_day : numpy.ndarray of int64
        Per meter, as :attr:`MeterKinds.install_day`.
    """
    de_first, de_days, co_first, co_days = spells
    de_gone = (install_day >= 0) & (de_first != NO_SPELL) & (de_first <= install_day)
    co_gone = (install_day >= 0) & (co_first != NO_SPELL) & (co_first <= install_day)
    return (np.where(de_gone, NO_SPELL, de_first), np.where(de_gone, 0, de_days),
            np.where(co_gone, NO_SPELL, co_first), np.where(co_gone, 0, co_days))


def first_reported_days(meters: pd.DataFrame, days: np.ndarray) -> np.ndarray:
    """Each meter's first reported day index: its install day when installed inside the data set,
    else 0 (a site without a meter, or with one installed before, reports from the start).

    Parameters
    ----------
    meters : pandas.DataFrame
        Rows of the population (``install_date`` column, NaT for none).
    days : numpy.ndarray of datetime64[D]
        The data set's UTC days.
    """
    installed = meters["install_date"].to_numpy().astype("datetime64[D]")
    offset = (installed - np.asarray(days, dtype="datetime64[D]")[0]).astype(np.int64)
    return np.where(np.isnat(installed) | (offset < 0), 0, offset).astype(np.int64)


#: First ``POP_REGISTER`` counter of the export register's draws (the import register uses 0-2).
EXPORT_REGISTER_DRAWS = 3


def initial_registers(scenario: Scenario, meter_index: np.ndarray, *, first_draw: int = 0) -> np.ndarray:
    """Each meter's cumulative register at the start [Wh]: anywhere in its lower half, or, for a
    share of meters, a few days of heavy use below rolling over.

    ``first_draw`` picks the register's keyed draws: 0 for the import register,
    :data:`EXPORT_REGISTER_DRAWS` for the export register, so each opens at its own value.
    """
    seed = scenario.seed
    capacity_wh = 10 ** (scenario.readings.register_digits + 3)
    draw = first_draw
    initial = (meter_uniform(seed, meter_index, Stream.POP_REGISTER, draw) * (capacity_wh // 2)).astype(np.int64)
    near_wrap = meter_uniform(seed, meter_index, Stream.POP_REGISTER, draw + 1) < scenario.readings.near_wrap_share
    low, high = NEAR_WRAP_WH
    below = low + (meter_uniform(seed, meter_index, Stream.POP_REGISTER, draw + 2) * (high - low)).astype(np.int64)
    return np.where(near_wrap, capacity_wh - below, initial).astype(np.int64)


def meter_kinds(scenario: Scenario, start: int, stop: int) -> MeterKinds:
    """Draw the message-deciding attributes of meters ``start .. stop - 1``."""
    mix = scenario.meters
    seed = scenario.seed
    idx = np.arange(start, stop, dtype=np.int64)
    names = [k for k, v in mix.archetypes.items() if v > 0]
    weights = np.array([mix.archetypes[k] for k in names], dtype=float)
    # stratified draws: a run of consecutive meters matches the shares closely
    u = stratified_uniform(seed, idx, Stream.POP_ARCHETYPE)
    which = np.minimum(np.searchsorted(np.cumsum(weights) / weights.sum(), u, side="right"), len(names) - 1)
    archetype = np.array(names, dtype=object)[which]
    domestic = np.isin(archetype, DOMESTIC)
    business = ~domestic & ~np.isin(archetype, UNMETERED)
    u_pv = meter_uniform(seed, idx, Stream.POP_OVERLAY, 0)
    pv = (domestic & (u_pv < mix.pv_share)) | (business & (u_pv < mix.non_domestic_pv_share))
    u_size = meter_uniform(seed, idx, Stream.POP_OVERLAY, 1)
    low, high = mix.pv_kwp
    size = np.round(low + u_size * (high - low), 1)
    # a business's PV scales with its archetype's typical consumption [MWh a year]
    typical_mwh = np.array([ARCHETYPE_SPECS[k].typical_annual_kwh / 1000.0 for k in names])[which]
    low, high = mix.non_domestic_pv_kwp_per_mwh
    business_size = np.round(typical_mwh * (low + u_size * (high - low)), 1)
    pv_kwp = np.where(pv, np.where(domestic, size, business_size), 0.0)

    cos = np.full(idx.size, np.datetime64("NaT"), dtype="datetime64[D]")
    metered = ~np.isin(archetype, UNMETERED)
    installed = install_days(scenario, idx, metered)
    first = np.datetime64(scenario.start_date, "D")
    for k, event in enumerate(scenario.events):
        if event.type == "change_of_supplier":
            # a supplier changes only on a meter that is already there
            exists = installed < (np.datetime64(event.date, "D") - first).astype(np.int64)
            hit = metered & exists & np.isnat(cos) & (meter_uniform(seed, idx, Stream.POP_EVENT, k) < event.share)
            cos[hit] = np.datetime64(event.date, "D")
    return MeterKinds(idx, archetype, pv_kwp, cos, installed)


def build_population(scenario: Scenario, start: int = 0, stop: int | None = None) -> pd.DataFrame:
    """Draw meters ``start .. stop - 1`` of a scenario's fleet (all of it by default).

    Parameters
    ----------
    scenario : Scenario
        The data set description; ``scenario.meters`` says how many meters of which kinds.
    start, stop : int
        Slice of global meter indices; a slice gives exactly those rows of the whole fleet.

    Returns
    -------
    pandas.DataFrame
        One row per site with the columns in :data:`METER_COLUMNS`: identifiers (import MPAN,
        and an export MPAN for sites with PV, each with a valid check digit in the GSP group's
        distributor area; meter serial), archetype and overlays, data service, install date,
        register size and opening reading [Wh], and supplier events.
    """
    mix = scenario.meters
    seed = scenario.seed
    stop = mix.count if stop is None else stop
    if stop > MAX_METERS:
        raise ValueError(f"at most {MAX_METERS:,} meters per data set (distinct meter serials), got {stop:,}")
    kinds = meter_kinds(scenario, start, stop)
    idx = kinds.meter_index
    n = idx.size
    archetype = kinds.archetype

    gsp, mpan, export_mpan = _site_mpans(mix, seed, idx, kinds.pv_kwp <= 0)

    domestic = np.isin(archetype, DOMESTIC)
    unmetered = ~kinds.metered
    ev_kw, ev_smart, hp_kwh = _draw_overlays(mix, seed, idx, domestic, ~domestic & ~unmetered)
    connection = _connection_types(seed, idx, archetype)

    p = scenario.participants
    data_service = np.where(np.isin(archetype, ADVANCED), p.advanced_data_service,
                            np.where(unmetered, p.unmetered_data_service, p.smart_data_service))
    serial = _drawn_meter_serials(seed, idx)
    serial[unmetered] = ""
    since, install_date, initial, initial_export = _install_and_registers(
        scenario, idx, kinds.install_day, unmetered, export_mpan == ""
    )
    annual = _annual_kwh(seed, idx, archetype)

    return pd.DataFrame(
        {
            "meter_index": idx,
            "mpan": mpan.astype(object),
            "export_mpan": export_mpan.astype(object),
            "gsp_group": gsp,
            "nation": [NATION_BY_GSP_GROUP[g] for g in gsp],
            "distributor_dip_id": [distributor_dip_id(p.distributor_prefix, g) for g in gsp],
            "archetype": archetype,
            "connection_type": connection,
            "connection_effective_from": since,
            "install_date": install_date,
            "data_service_dip_id": data_service.astype(object),
            "data_service_role": kinds.role,
            "meter_id": serial,
            "time_of_use": np.isin(archetype, TIME_OF_USE),
            "economy7_window": np.where(
                np.isin(archetype, TIME_OF_USE), window_labels(economy7_windows(seed, idx, gsp)), ""
            ).astype(object),
            "annual_kwh": np.round(annual, 3),
            "pv_kwp": kinds.pv_kwp,
            "ev_kw": ev_kw,
            "ev_smart": ev_smart,
            "heat_pump_kwh": hp_kwh,
            "register_digits": np.full(n, scenario.readings.register_digits, dtype=np.int64),
            "initial_register_wh": initial.astype(np.int64),
            "initial_export_register_wh": initial_export.astype(np.int64),
            "supplier_dip_id": np.full(n, p.supplier, dtype=object),
            "change_of_supplier_date": kinds.change_of_supplier_date,
            **settlement_columns(scenario, archetype, domestic, kinds.change_of_supplier_date, kinds.pv_kwp > 0),
        },
        columns=list(METER_COLUMNS),
    )


def _site_mpans(
    mix: MeterMix, seed: int, idx: np.ndarray, no_export: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GSP groups, import MPANs and export MPANs of meters dealt round-robin over GSP groups.

    Parameters
    ----------
    mix : MeterMix
        The scenario's meter mix: its GSP groups (all of them when it names none).
    seed : int
        The scenario's seed.
    idx : numpy.ndarray of int
        Global meter indices.
    no_export : numpy.ndarray of bool
        Sites without an export MPAN (those without PV).

    Returns
    -------
    gsp : numpy.ndarray of str (object)
        Each meter's GSP group.
    mpan, export_mpan : numpy.ndarray of str
        Each meter's import MPAN, and its export MPAN (``""`` where ``no_export``), each
        with a valid check digit in the group's distributor area.
    """
    groups = list(mix.gsp_groups) or list(GSP_GROUPS)
    gsp = np.array(groups, dtype=object)[idx % len(groups)]
    mpan = np.empty(idx.size, dtype="U13")
    export_mpan = np.empty(idx.size, dtype="U13")
    for g in groups:
        sel = gsp == g
        if sel.any():
            # meters are dealt round-robin, so idx // len(groups) numbers them within the group
            key = int(meter_keys(seed, np.array([GSP_GROUPS.index(g)]), Stream.POP_MPAN)[0])
            pick = meter_uniform(seed, idx[sel], Stream.POP_MPAN)
            mpan[sel] = indexed_mpans(g, idx[sel] // len(groups), key, pick)
            # the same bijection from the other end: never one of the group's import cores
            pick = meter_uniform(seed, idx[sel], Stream.POP_MPAN, 1)
            export_mpan[sel] = indexed_export_mpans(g, idx[sel] // len(groups), key, pick)
    export_mpan[no_export] = ""
    return gsp, mpan, export_mpan


def _drawn_meter_serials(seed: int, idx: np.ndarray) -> np.ndarray:
    """Meter serials (meter IDs) drawn for meters: a keyed bijection of the meter index.

    Parameters
    ----------
    seed : int
        The scenario's seed.
    idx : numpy.ndarray of int
        Global meter indices.

    Returns
    -------
    numpy.ndarray of str (object)
        One distinct serial per meter.
    """
    return indexed_meter_serials(idx, int(meter_keys(seed, np.array([0]), Stream.POP_SERIAL)[0])).astype(object)


def _draw_overlays(
    mix: MeterMix, seed: int, idx: np.ndarray, domestic: np.ndarray, business: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """EV chargers and heat pumps: EV charging on every metered site, heat pumps on homes only.

    Parameters
    ----------
    mix : MeterMix
        The scenario's meter mix: overlay shares, charger powers and mean heat-pump energy.
    seed : int
        The scenario's seed.
    idx : numpy.ndarray of int
        Global meter indices.
    domestic, business : numpy.ndarray of bool
        Metered homes, and metered non-domestic sites.

    Returns
    -------
    ev_kw : numpy.ndarray of float
        Charger power [kW]; 0 without a charger.
    ev_smart : numpy.ndarray of bool
        Whether the charger is smart (charges off peak).
    heat_pump_kwh : numpy.ndarray of float
        Heat pump's annual electricity [kWh]; 0 without one.
    """
    u_ev = meter_uniform(seed, idx, Stream.POP_OVERLAY, 2)
    ev = (domestic & (u_ev < mix.ev_share)) | (business & (u_ev < mix.non_domestic_ev_share))
    power = np.array(mix.ev_kw)[(meter_uniform(seed, idx, Stream.POP_OVERLAY, 3) * len(mix.ev_kw)).astype(int)]
    ev_kw = np.where(ev, power, 0.0)
    ev_smart = ev & (meter_uniform(seed, idx, Stream.POP_OVERLAY, 4) < mix.ev_smart_share)
    hp = domestic & (meter_uniform(seed, idx, Stream.POP_OVERLAY, 5) < mix.heat_pump_share)
    hp_size = np.round(mix.heat_pump_kwh * np.exp(HEAT_PUMP_LOG_SD * meter_normal(seed, idx, Stream.POP_OVERLAY, 6)))
    return ev_kw, ev_smart, np.where(hp, hp_size, 0.0)


def _connection_types(seed: int, idx: np.ndarray, archetype: np.ndarray) -> np.ndarray:
    """Each site's connection type (DI-047): its archetype's usual one, or for some sites
    (:data:`SECOND_CONNECTION_SHARE`) whose archetype has two, the second.

    Parameters
    ----------
    seed : int
        The scenario's seed.
    idx : numpy.ndarray of int
        Global meter indices.
    archetype : numpy.ndarray of str
        Each meter's archetype.

    Returns
    -------
    numpy.ndarray of str (object)
        One connection type per meter.
    """
    second = meter_uniform(seed, idx, Stream.POP_CONNECTION, 0) < SECOND_CONNECTION_SHARE
    return np.array(
        [ARCHETYPE_SPECS[a].connection_types[int(s) % len(ARCHETYPE_SPECS[a].connection_types)]
         for a, s in zip(archetype, second, strict=True)],
        dtype=object,
    )


def _install_and_registers(
    scenario: Scenario, idx: np.ndarray, install_day: np.ndarray, unmetered: np.ndarray, no_export: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Connection dates, install dates and opening registers of generated meters.

    A meter installed inside the range starts its connection and its registers (at 0) that day.

    Parameters
    ----------
    scenario : Scenario
        Start date, register size and seed.
    idx : numpy.ndarray of int
        Global meter indices.
    install_day : numpy.ndarray of int
        Day of the range each meter is installed on, or :data:`INSTALLED_BEFORE`.
    unmetered : numpy.ndarray of bool
        Sites without a meter.
    no_export : numpy.ndarray of bool
        Sites without an export MPAN.

    Returns
    -------
    since : numpy.ndarray of str (object)
        Date the connection type took effect (``connection_effective_from``).
    install_date : numpy.ndarray of datetime64[D]
        Day the meter was installed; NaT for unmetered sites.
    initial, initial_export : numpy.ndarray of int
        Opening import and export registers [Wh].
    """
    installed = install_day >= 0
    start_day = np.datetime64(scenario.start_date, "D")
    install_date = start_day + install_day.astype("timedelta64[D]")
    since = connection_dates(scenario, idx)
    since[installed] = format_utc(install_date[installed]).astype(object)
    install_date = np.where(installed, install_date, np.array(since, dtype="U10").astype("datetime64[D]"))
    install_date[unmetered] = np.datetime64("NaT")
    initial = np.where(unmetered | installed, 0, initial_registers(scenario, idx))
    initial_export = np.where(unmetered | installed | no_export, 0,
                              initial_registers(scenario, idx, first_draw=EXPORT_REGISTER_DRAWS))
    return since, install_date, initial, initial_export


def _annual_kwh(seed: int, idx: np.ndarray, archetype: np.ndarray) -> np.ndarray:
    """Each meter's annual consumption, drawn as the model would draw it, so the register says it.

    Parameters
    ----------
    seed : int
        The scenario's seed.
    idx : numpy.ndarray of int
        Global meter indices.
    archetype : numpy.ndarray of str
        Each meter's archetype.

    Returns
    -------
    numpy.ndarray of float
        Annual consumption [kWh].
    """
    annual = np.empty(idx.size)
    for name in np.unique(archetype):
        sel = archetype == name
        annual[sel] = draw_annual_kwh(ARCHETYPE_SPECS[name], seed, idx[sel], np.full(sel.sum(), np.nan))
    return annual


def supplied_roles(connection_type: np.ndarray) -> np.ndarray:
    """The data service sending for supplied meters, by connection type: ``ADS`` for advanced
    (``L``, ``H``), ``UMSDS`` for unmetered (``U``), ``SDS`` for smart (``W``)."""
    connection = np.asarray(connection_type).astype(str)
    return np.select([np.isin(connection, ("L", "H")), connection == "U"], ["ADS", "UMSDS"], "SDS").astype(object)


def supplied_population(scenario: Scenario, supplied: SuppliedConsumption, start: int, stop: int) -> pd.DataFrame:
    """The meter register of supplied meters ``start .. stop - 1``, in the population's columns.

    What the user gave (MPAN, meter ID, connection type, GSP group, opening register) is kept;
    the sending data service follows the connection type; what a CSV cannot say (the date the
    connection type took effect, a missing meter ID or opening register) is drawn from the
    meter's keyed streams as for a generated fleet.

    Parameters
    ----------
    scenario : Scenario
        Participants, register size and seed.
    supplied : SuppliedConsumption
        The user's meters and values.
    start, stop : int
        Slice of meter positions.
    """
    seed = scenario.seed
    p = scenario.participants
    m = supplied.meters.iloc[start:stop].reset_index(drop=True)
    idx = np.arange(start, stop, dtype=np.int64)
    n = idx.size
    connection = m["connection_type"].to_numpy().astype(object)
    unmetered = connection == "U"
    role = supplied_roles(connection)
    service = np.select([role == "ADS", role == "UMSDS"],
                        [p.advanced_data_service, p.unmetered_data_service], p.smart_data_service).astype(object)
    serial = m["meter_id"].to_numpy().astype(object)
    serial = np.where((serial == "") & ~unmetered, _drawn_meter_serials(seed, idx), serial)
    serial[unmetered] = ""
    since, install_date, installed = _supplied_install_dates(scenario, supplied, start, stop, unmetered)
    given = m["register_start_wh"].to_numpy(dtype=np.int64)
    initial = np.where(given >= 0, given, np.where(installed, 0, initial_registers(scenario, idx)))
    initial = np.where(unmetered, 0, initial)
    gsp = m["gsp_group"].to_numpy().astype(object)
    return pd.DataFrame(
        {
            "meter_index": idx,
            "mpan": m["mpan"].to_numpy().astype(object),
            # the user's MPANs are kept as given: each of their channels stays on its own MPAN
            "export_mpan": np.full(n, "", dtype=object),
            "gsp_group": gsp,
            "nation": [NATION_BY_GSP_GROUP[g] for g in gsp],
            # the MPAN's own distributor: the host's, or an IDNO's
            "distributor_dip_id": [f"{p.distributor_prefix}000000{mpan[:2]}" for mpan in m["mpan"]],
            "archetype": np.full(n, SUPPLIED_ARCHETYPE, dtype=object),
            "connection_type": connection,
            "connection_effective_from": since,
            "install_date": install_date,
            "data_service_dip_id": service,
            "data_service_role": role,
            "meter_id": serial,
            "time_of_use": np.zeros(n, dtype=bool),
            "economy7_window": np.full(n, "", dtype=object),
            # annualised from the data the user gave
            "annual_kwh": np.round(_supplied_annual_kwh(supplied, start, stop), 3),
            "pv_kwp": np.zeros(n),
            "ev_kw": np.zeros(n),
            "ev_smart": np.zeros(n, dtype=bool),
            "heat_pump_kwh": np.zeros(n),
            "register_digits": np.full(n, scenario.readings.register_digits, dtype=np.int64),
            "initial_register_wh": initial.astype(np.int64),
            "initial_export_register_wh": np.zeros(n, dtype=np.int64),  # no export MPAN of its own
            "supplier_dip_id": np.full(n, p.supplier, dtype=object),
            "change_of_supplier_date": np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
            # whether a supplied site is domestic is unknown: it gets the non-domestic tariffs
            **settlement_columns(scenario, np.full(n, SUPPLIED_ARCHETYPE, dtype=object), np.zeros(n, dtype=bool),
                                 np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"), np.ones(n, dtype=bool)),
        },
        columns=list(METER_COLUMNS),
    )


def _supplied_install_dates(
    scenario: Scenario, supplied: SuppliedConsumption, start: int, stop: int, unmetered: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Connection and install dates of supplied meters.

    A meter whose values start on a later day was installed then (see csv_input): its
    connection starts that day and, without a given opening, its register at zero. Other
    meters get a connection date drawn as for a generated fleet.

    Parameters
    ----------
    scenario : Scenario
        Start date and seed.
    supplied : SuppliedConsumption
        The user's meters and values (their first day and each meter's install day).
    start, stop : int
        Slice of meter positions.
    unmetered : numpy.ndarray of bool
        Unmetered supplies (connection type ``U``).

    Returns
    -------
    since : numpy.ndarray of str (object)
        Date the connection type took effect (``connection_effective_from``).
    install_date : numpy.ndarray of datetime64[D]
        Day the meter was installed; NaT for unmetered supplies.
    installed : numpy.ndarray of bool
        Meters installed inside the data set's days.
    """
    since = connection_dates(scenario, np.arange(start, stop, dtype=np.int64))
    install_date = np.array(since, dtype="U10").astype("datetime64[D]")
    installed = (supplied.install_days[start:stop] >= 0) & ~unmetered
    on = supplied.days[0] + np.maximum(supplied.install_days[start:stop], 0).astype("timedelta64[D]")
    since[installed] = format_utc(on[installed]).astype(object)
    install_date = np.where(installed, on, install_date)
    install_date[unmetered] = np.datetime64("NaT")
    return since, install_date, installed


def _supplied_annual_kwh(supplied: SuppliedConsumption, start: int, stop: int) -> np.ndarray:
    """Annual import of supplied meters, annualised from the active import (AI) values given.

    Parameters
    ----------
    supplied : SuppliedConsumption
        The user's meters and values [Wh].
    start, stop : int
        Slice of meter positions.

    Returns
    -------
    numpy.ndarray of float
        Each meter's AI total scaled to 365 days [kWh]; 0 for a meter without AI values.
    """
    rows = supplied.rows_of(start, stop)
    ai = supplied.row_mqid[rows] == 0
    ai_total = np.zeros(stop - start)
    ai_total[supplied.row_meter[rows][ai] - start] = supplied.values[rows][ai].sum(axis=1) / 1000
    return ai_total * 365 / supplied.days.size


def settlement_columns(scenario: Scenario, archetype: np.ndarray, domestic: np.ndarray,
                       change_of_supplier_date: np.ndarray, exports: np.ndarray) -> dict[str, np.ndarray]:
    """The meter register's settlement columns: Supplier MPIDs and DUoS tariffs.

    Parameters
    ----------
    scenario : Scenario
        Participants (their MPIDs).
    archetype : numpy.ndarray
        Each meter's archetype (``'supplied'`` for supplied meters).
    domestic : numpy.ndarray of bool
        Whether each meter is at a domestic premise.
    change_of_supplier_date : numpy.ndarray of datetime64[D]
        NaT for meters that keep their Supplier.
    exports : numpy.ndarray of bool
        Whether each site may export (has an export tariff; ``""`` otherwise).
    """
    p = scenario.participants
    n = len(archetype)
    imports, export_tariffs = duos_tariffs(archetype, domestic)
    changes = ~np.isnat(np.asarray(change_of_supplier_date, dtype="datetime64[D]"))
    return {
        "supplier_mpid": np.full(n, p.supplier_mpid, dtype=object),
        "new_supplier_mpid": np.where(changes, p.new_supplier_mpid, "").astype(object),
        "duos_import_tariff_id": imports,
        "duos_export_tariff_id": np.where(exports, export_tariffs, "").astype(object),
        "domestic_premise": np.asarray(domestic, dtype=bool),
    }


def meter_records(meters: pd.DataFrame) -> list[tuple]:
    """Rows of a meter table as named tuples; column lists first, as iterating Arrow-backed
    pandas columns value by value is slow."""
    record = namedtuple("Meter", meters.columns)  # noqa: PYI024 - fields come from the table
    return [record(*values) for values in zip(*(meters[c].tolist() for c in meters.columns), strict=True)]
