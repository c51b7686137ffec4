"""The sections of a scenario: one dataclass per mapping in its YAML, with the defaults.

Plain data and nothing else: :class:`~mhhs_workbench.scenario.document.Scenario` holds them, the
loader (:mod:`~mhhs_workbench.scenario.loading`) builds them from a mapping, and the checks
(:mod:`~mhhs_workbench.scenario.checks`) refuse impossible values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from mhhs_workbench.codes.identifiers import dip_id


@dataclass
class MeterMix:
    """How many meters, where, and of which kinds.

    Attributes
    ----------
    count : int
        Number of meters (MPANs) in the data set.
    gsp_groups : list of str
        GSP groups to spread the meters over, evenly; ``[]`` means all 14.
    archetypes : dict of str to float
        Relative share of each consumption archetype (normalised to 1).
    pv_share, ev_share, heat_pump_share : float
        Share of domestic meters with rooftop PV, an electric vehicle, an air-source heat pump.
    pv_kwp : list of float
        Range ``[low, high]`` of PV peak power [kWp].
    ev_kw : list of float
        Charger powers to choose from [kW].
    ev_smart_share : float
        Share of EV owners on a smart tariff (charging overnight).
    heat_pump_kwh : float
        Mean annual heat-pump electricity [kWh].
    non_domestic_pv_share, non_domestic_ev_share : float
        Share of metered non-domestic sites (profile classes 3-8) with rooftop PV, with EV
        charging (charger powers from ``ev_kw``, smart share ``ev_smart_share``). Heat pumps
        stay domestic: their shapes are fitted to homes.
    non_domestic_pv_kwp_per_mwh : list of float
        Range ``[low, high]`` of a non-domestic site's PV peak power per MWh of its archetype's
        typical annual consumption [kWp/MWh], so PV scales with the site (default: a 65 MWh
        site gets 6.5-26 kWp, about 10-40 % of its use).
    install_share : float
        Share of metered sites whose meter is installed on a day inside the date range (an
        installation read that day, no data before it); the others were installed before it.
    """

    count: int = 200
    gsp_groups: list[str] = field(default_factory=list)
    archetypes: dict[str, float] = field(
        default_factory=lambda: {
            "domestic_unrestricted": 0.55,
            "domestic_economy7": 0.15,
            "non_domestic_unrestricted": 0.12,
            "non_domestic_economy7": 0.04,
            "maximum_demand_pc5": 0.03,
            "maximum_demand_pc6": 0.03,
            "maximum_demand_pc7": 0.02,
            "maximum_demand_pc8": 0.02,
            "unmetered_street_lighting": 0.04,
        }
    )
    pv_share: float = 0.15
    pv_kwp: list[float] = field(default_factory=lambda: [2.0, 5.0])
    ev_share: float = 0.10
    ev_kw: list[float] = field(default_factory=lambda: [3.5, 7.0])
    ev_smart_share: float = 0.5
    heat_pump_share: float = 0.05
    heat_pump_kwh: float = 3500.0
    install_share: float = 0.02
    non_domestic_pv_share: float = 0.0
    non_domestic_pv_kwp_per_mwh: list[float] = field(default_factory=lambda: [0.1, 0.4])
    non_domestic_ev_share: float = 0.0


@dataclass
class Participants:
    """DIP IDs of the market participants in the data set (10 characters each)."""

    smart_data_service: str = dip_id("SDS", 1)
    advanced_data_service: str = dip_id("ADS", 1)
    unmetered_data_service: str = dip_id("UMSDS", 1)
    supplier: str = dip_id("SUP", 1)
    new_supplier: str = dip_id("SUP", 2)
    load_shaping_service: str = dip_id("LSS", 1)
    market_wide_data_service: str = dip_id("MDS", 1)
    distributor_prefix: str = "60"
    #: Market participant IDs (4 capital letters, DI-495) of the two suppliers, as settlement
    #: reports name them; synthetic, like the DIP IDs.
    supplier_mpid: str = "SUPA"
    new_supplier_mpid: str = "SUPB"
    #: DIP ID of the central settlement service that sends REP-002 and REP-002B.
    settlement_service: str = "E000000001"


@dataclass
class Messages:
    """How messages are cut into files.

    Attributes
    ----------
    days_per_message : int
        UTC settlement days per IF-021 message (1-200).
    messages_per_file : int
        Messages per DIP request-body file.
    sender_timestamp : str
        No longer used and must stay empty: each message carries the time it is sent, drawn
        reproducibly from the scenario's seed (see :class:`Sending`).
    sub_text : str or None
        Text carried in ``subText``.
    """

    days_per_message: int = 7
    messages_per_file: int = 100
    sender_timestamp: str = ""
    sub_text: str | None = None


@dataclass
class ServiceTiming:
    """When one data service sends each day's messages.

    Attributes
    ----------
    delay_hours : float
        Hours after the end of a UTC day (its 24:00) at which the day's batch is sent at the
        earliest [h].
    spread_hours : float
        The batch goes out at a random time up to this many hours after ``delay_hours`` [h];
        below 24 so that each service's daily batches stay in day order.
    """

    delay_hours: float = 6.0
    spread_hours: float = 3.0


@dataclass
class Sending:
    """The send timeline: daily batches per data service, and revisions of recovered days.

    Attributes
    ----------
    smart_data_service, advanced_data_service, unmetered_data_service : ServiceTiming
        Send delay and spread of each data service (SDS, ADS, UMSDS).
    revision_share : float
        Share of communications faults whose half hours the data service later collects from the
        meter: the fault's estimated days are sent again, as actuals, after it clears. 0 (none)
        unless asked for, so a scenario's final values stay as they were; the demo asks for 0.7.
    """

    smart_data_service: ServiceTiming = field(default_factory=lambda: ServiceTiming(5.0, 3.0))
    advanced_data_service: ServiceTiming = field(default_factory=lambda: ServiceTiming(8.0, 4.0))
    unmetered_data_service: ServiceTiming = field(default_factory=lambda: ServiceTiming(20.0, 6.0))
    revision_share: float = 0.0


@dataclass
class DataQuality:
    """Imperfections turned into valid estimates, all consistent with the business rules.

    Attributes
    ----------
    missing_share : float
        Share of half hours missing or invalid: a lone one is estimated from its neighbours
        (``E0``), a longer gap from the actual daily advance (``E1``).
    invalid_share : float
        Share of those that are invalid rather than missing (reason 3 instead of 2).
    comms_fault_share : float
        Share of remotely read (smart and advanced) meters with one communications fault
        spanning whole days.
    comms_fault_days : list of int
        Range ``[shortest, longest]`` of a fault [days].
    deenergised_share : float
        Share of meters de-energised for a spell (``ZE``, zero values).
    deenergised_days : list of int
        Range ``[shortest, longest]`` of a de-energised spell [days].
    """

    missing_share: float = 0.005
    invalid_share: float = 0.2
    comms_fault_share: float = 0.03
    comms_fault_days: list[int] = field(default_factory=lambda: [1, 3])
    deenergised_share: float = 0.02
    deenergised_days: list[int] = field(default_factory=lambda: [2, 4])


@dataclass
class Readings:
    """Register readings sent as IF-041.

    Attributes
    ----------
    schedule : str
        ``daily`` (remote reads at each UTC midnight) or ``none``.
    register_digits : int
        Whole-kWh digits of the meter's register; it wraps at ``10**register_digits`` kWh.
    near_wrap_share : float
        Share of meters installed with a register close to wrapping, so wrap-around is exercised.
    """

    schedule: str = "daily"
    register_digits: int = 6
    near_wrap_share: float = 0.05


@dataclass
class Event:
    """A dated market event.

    Attributes
    ----------
    type : str
        ``change_of_supplier``.
    date : datetime.date
        UTC day the event takes effect (reads at 00:00 UTC).
    share : float
        Share of eligible meters affected.
    """

    type: str = "change_of_supplier"
    date: dt.date = dt.date(2025, 10, 28)
    share: float = 0.05


@dataclass
class Negative:
    """Labelled invalid messages added in ``negative/`` beside the valid data set.

    Attributes
    ----------
    per_rule : int
        Cases per rule (per schema class for ``SCHEMA``); see :mod:`~mhhs_workbench.negative.cases`.
    rules : list of str
        Rule codes to break; empty means every rule the catalogue breaks.
    """

    per_rule: int = 1
    rules: list[str] = field(default_factory=list)

