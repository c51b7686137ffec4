"""Scenario: the whole, declarative description of one data set.

A scenario is plain dataclasses. It loads from YAML (``Scenario.from_yaml``) and from a mapping with
the same keys (``Scenario.from_dict``), which is what papermill parameters give a notebook, so the
two map onto each other 1:1. Loading is strict: an unknown key, a value of the wrong type or an
impossible setting is a :class:`ScenarioError` naming the file, line and key.

Everything that could make a run fail later is refused here, before a byte is written: numbers
that are not finite or do not fit the manifest's JSON, a seed outside ``0 <= seed < 2**64``,
files larger than :data:`MAX_SCENARIO_BYTES`, text that is not UTF-8, duplicate keys, and YAML
anchors and aliases (which could expand a few hundred bytes into gigabytes). Errors echo at most
:data:`SHOW_CHARS` characters of any value the user gave.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import math
import os
import re
import reprlib
import types
import typing
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mhhs_workbench.codes.archetypes import ARCHETYPES, archetype_spec
from mhhs_workbench.codes.identifiers import GSP_GROUPS, METER_SERIALS, ROLE_IDS, dip_id
from mhhs_workbench.codes.messages import (
    DIP_DATETIME_PATTERN,
    ENVIRONMENT_TAGS,
    SUB_TEXT_MAX_LENGTH,
)
from mhhs_workbench.codes.releases import KNOWN_VERSIONS, LATEST_VERSION
from mhhs_workbench.codes.rules import BREAKABLE, NOT_ALONE
from mhhs_workbench.time.calendar import (
    DEFAULT_RUNS,
    RUN_CODES,
    RUN_TIME_UTC,
    RUN_WORKING_DAYS,
    execution_date,
)

OUTPUTS = ("if021", "if041", "parquet", "csv", "settlement")
#: Older output names still accepted, and what they now give: ``aggregates`` (a GSP group x period
#: sum that matched no central report) is the ``settlement`` table and reports now.
OUTPUT_ALIASES = {"aggregates": "settlement"}
EVENT_TYPES = ("change_of_supplier",)

#: Largest scenario file read [bytes] (1 MB); a scenario is a short description, never data.
MAX_SCENARIO_BYTES = 1_000_000
#: Most characters of a user's value that an error message echoes (longer ones end in "...").
SHOW_CHARS = 80
#: Seeds are ``0 <= seed < SEED_LIMIT``: numpy's generators take them and JSON keeps them exactly.
SEED_LIMIT = 2**64
#: Integers the manifest (orjson) can hold: ``INT_MIN <= value < SEED_LIMIT``.
INT_MIN = -(2**63)
#: Most meters in one data set: each needs its own meter serial.
MAX_METERS = METER_SERIALS
#: Latest a data service may send a day's batch after the day ends [h] (ten days).
MAX_SEND_DELAY_HOURS = 240
#: Widest random spread of a batch's send time [h]: under a day keeps batches in day order.
MAX_SEND_SPREAD_HOURS = 23
#: Longest integer literal read from YAML [digits]; longer ones cannot be a usable setting.
_MAX_INT_DIGITS = 40


class ScenarioError(ValueError):
    """A scenario that cannot be used, with the place that is wrong."""


class _Refused(Exception):
    """YAML the scenario loader will not compose, with where it stands."""

    def __init__(self, mark: yaml.Mark, message: str) -> None:
        super().__init__(message)
        self.mark = mark


class _Loader(yaml.SafeLoader):
    """Safe YAML loader that leaves dates as text, so a bad date gets a located error here.

    It refuses anchors and aliases while composing, before any alias is expanded: a few hundred
    bytes of nested aliases ("billion laughs") would otherwise expand to gigabytes.
    """

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """Compose the next node, refusing an alias or an anchored node."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(event.start_mark, f"YAML alias *{_clip(event.anchor)} is not allowed in a scenario "
                           "(write the value out)")
        if getattr(event, "anchor", None) is not None:
            raise _Refused(event.start_mark, f"YAML anchor &{_clip(event.anchor)} is not allowed in a scenario "
                           "(write the value out)")
        return super().compose_node(parent, index)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


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


@dataclass
class Scenario:
    """One data set: what, when, who, how many and how it is written.

    Attributes
    ----------
    name : str
        Short name; used in file names.
    seed : int
        Seed of every random draw; same scenario and seed give byte-identical output.
    start_date, end_date : datetime.date
        First and last UTC settlement day (inclusive).
    environment_tag : str
        ``PRD``, ``SITB``, ``SIT``, ``UIT`` or ``DEV``.
    spec_version : str
        Release of Elexon's DIP API the data set is made for (``2.1.0``, ``2.2.1``; the newest
        known by default): it selects version-specific choices where releases offer one (none
        in IF-021/IF-041 yet: the builders' messages are valid under every known release) and
        is the release the data set's validation checks by default.
    outputs : list of str
        Any of ``if021``, ``if041``, ``parquet``, ``csv``, ``settlement`` (``aggregates`` is
        accepted as an older name of ``settlement``).
    runs : list of str
        Settlement runs the ``settlement`` output reports, by settlement code (``SF``, ``R1``,
        ``R2``, ``R3``, ``RF``; see :mod:`~mhhs_workbench.time.calendar`).
    temperature_csv : str
        Optional daily temperature CSV (``date,temperature_c``); empty means the built-in series.
    """

    name: str = "scenario"
    seed: int = 1
    start_date: dt.date = dt.date(2025, 10, 20)
    end_date: dt.date = dt.date(2025, 11, 2)
    environment_tag: str = "SIT"
    spec_version: str = LATEST_VERSION
    meters: MeterMix = field(default_factory=MeterMix)
    participants: Participants = field(default_factory=Participants)
    messages: Messages = field(default_factory=Messages)
    sending: Sending = field(default_factory=Sending)
    data_quality: DataQuality = field(default_factory=DataQuality)
    readings: Readings = field(default_factory=Readings)
    events: list[Event] = field(default_factory=list)
    outputs: list[str] = field(default_factory=lambda: list(OUTPUTS))
    temperature_csv: str = ""
    runs: list[str] = field(default_factory=lambda: list(DEFAULT_RUNS))
    #: Labelled invalid messages in ``negative/`` (see :class:`Negative`); ``None``: none.
    negative: Negative | None = None

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "scenario") -> Scenario:
        """Build and check a scenario from a mapping (YAML content or papermill parameters).

        Raises
        ------
        ScenarioError
            If ``data`` is not a mapping, or a key or value is unknown, mistyped or impossible.
        """
        if not isinstance(data, dict):
            raise ScenarioError(f"{source}: a scenario must be a mapping of keys to values, got {_show(data)}")
        scenario = _build(cls, data, (), source, None)
        scenario.check(source)
        return scenario

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> Scenario:
        """Load and check a scenario file.

        Raises
        ------
        ScenarioError
            If the file is unreadable, larger than :data:`MAX_SCENARIO_BYTES`, not UTF-8, not
            YAML, uses anchors, aliases or duplicate keys, or describes an impossible scenario.
        """
        path = Path(path)
        data, node = _read_yaml(path)
        scenario = _build(cls, data, (), str(path), node)
        scenario.check(str(path), node)
        return scenario

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping with the same keys the loaders take (dates as ISO strings)."""
        data = _plain(dataclasses.asdict(self))
        if data.get("negative") is None:
            data.pop("negative", None)  # off: data sets without it keep their bytes
        return data

    def to_yaml(self) -> str:
        """YAML text that :meth:`from_yaml` reads back to an equal scenario."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    # ------------------------------------------------------------------ checks

    @property
    def n_days(self) -> int:
        """Number of UTC settlement days covered."""
        return (self.end_date - self.start_date).days + 1

    def check(self, source: str = "scenario", node: yaml.Node | None = None) -> None:
        """Raise :class:`ScenarioError` on the first impossible setting."""

        def fail(path: tuple[str, ...], message: str) -> typing.NoReturn:
            raise ScenarioError(f"{_where(source, node, path)}: {_dotted(path)}: {message}")

        if isinstance(self.seed, int) and not 0 <= self.seed < SEED_LIMIT:
            fail(("seed",), f"must be zero or positive, got {_show(self.seed)}" if self.seed < 0
                 else f"must be less than 2**64, got {_show(self.seed)}")
        # dataclasses built directly (UI, notebooks) skip _convert, so look at every number here too
        for path, value in _numbers(self, ()):
            problem = _number_problem(value)
            if problem:
                fail(path, f"{_show(value)}: {problem}")
        if self.end_date < self.start_date:
            fail(("end_date",), f"{self.end_date} is before start_date {self.start_date}")
        if self.n_days > 3660:
            fail(("end_date",), f"{self.n_days} days is more than ten years")
        if self.environment_tag not in ENVIRONMENT_TAGS:
            fail(("environment_tag",), f"{_show(self.environment_tag)} is not one of {', '.join(ENVIRONMENT_TAGS)}")
        if self.spec_version not in KNOWN_VERSIONS:
            fail(("spec_version",), f"{_show(self.spec_version)} is not a known DIP API version; "
                 f"expected one of {', '.join(KNOWN_VERSIONS)}")
        m = self.meters
        if m.count < 1:
            fail(("meters", "count"), f"must be at least 1, got {m.count}")
        if m.count > MAX_METERS:
            fail(("meters", "count"), f"must be at most {MAX_METERS:,}, got {_show(m.count)}")
        for g in m.gsp_groups:
            if g not in GSP_GROUPS:
                fail(("meters", "gsp_groups"), f"unknown GSP group {_show(g)}; expected {', '.join(GSP_GROUPS)}")
        if not m.archetypes:
            fail(("meters", "archetypes"), "needs at least one archetype")
        for name, share in m.archetypes.items():
            if name not in ARCHETYPES:
                fail(("meters", "archetypes", name), f"unknown archetype; expected one of {', '.join(ARCHETYPES)}")
            if share < 0:
                fail(("meters", "archetypes", name), f"share must not be negative, got {share}")
        if sum(m.archetypes.values()) <= 0:
            fail(("meters", "archetypes"), "shares must add up to more than 0")
        total = sum(m.archetypes.values())
        if node is not None and not math.isclose(total, 1.0, rel_tol=0.0, abs_tol=1e-9):  # once, at load
            path = ("meters", "archetypes")
            warnings.warn(f"{_where(source, node, path)}: {_dotted(path)}: the shares add up to {total:g}, "
                          f"not 1; each is divided by {total:g}", ScenarioNote, stacklevel=2)
        for key in ("pv_share", "ev_share", "ev_smart_share", "heat_pump_share", "install_share",
                    "non_domestic_pv_share", "non_domestic_ev_share"):
            if not 0 <= getattr(m, key) <= 1:
                fail(("meters", key), f"must be between 0 and 1, got {getattr(m, key)}")
        _check_range(fail, ("meters", "pv_kwp"), m.pv_kwp, 0, 1000)
        _check_range(fail, ("meters", "non_domestic_pv_kwp_per_mwh"), m.non_domestic_pv_kwp_per_mwh, 0, 10)
        if not m.ev_kw or any(not 0 < k <= 50 for k in m.ev_kw):
            fail(("meters", "ev_kw"), f"needs charger powers above 0 and at most 50 kW, got {_show(m.ev_kw)}")
        if not 0 <= m.heat_pump_kwh <= 100_000:
            fail(("meters", "heat_pump_kwh"), f"must be 0-100000 kWh, got {m.heat_pump_kwh}")
        for key in ("smart_data_service", "advanced_data_service", "unmetered_data_service",
                    "supplier", "new_supplier", "load_shaping_service", "market_wide_data_service",
                    "settlement_service"):
            value = getattr(self.participants, key)
            if len(value) != 10 or not all(c in "0123456789abcdefABCDEF" for c in value):
                fail(("participants", key), f"DIP ID {_show(value)} must be 10 hexadecimal characters")
        # not str.isdigit(): that also takes digits of other scripts, which MPANs cannot hold
        if not re.fullmatch(r"[0-9]{2}", self.participants.distributor_prefix):
            fail(("participants", "distributor_prefix"), "must be two digits")
        for key in ("supplier_mpid", "new_supplier_mpid"):
            if not re.fullmatch(r"[A-Z]{4}", getattr(self.participants, key)):
                fail(("participants", key), f"MPID {_show(getattr(self.participants, key))} must be 4 capital "
                     "letters (A-Z)")
        if self.participants.supplier_mpid == self.participants.new_supplier_mpid:
            fail(("participants", "new_supplier_mpid"), "must differ from supplier_mpid")
        msg = self.messages
        if not 1 <= msg.days_per_message <= 200:
            fail(("messages", "days_per_message"), f"must be 1-200, got {msg.days_per_message}")
        if msg.messages_per_file < 1:
            fail(("messages", "messages_per_file"), f"must be at least 1, got {msg.messages_per_file}")
        if msg.sub_text is not None and not 1 <= len(msg.sub_text) <= SUB_TEXT_MAX_LENGTH:
            fail(("messages", "sub_text"), f"must be null or 1-{SUB_TEXT_MAX_LENGTH} characters, got {len(msg.sub_text)}")
        if msg.sender_timestamp and not _is_dip_datetime(msg.sender_timestamp):
            fail(("messages", "sender_timestamp"), f"{_show(msg.sender_timestamp)} is not like 2025-03-31T06:00:00+01:00")
        if msg.sender_timestamp:
            fail(("messages", "sender_timestamp"), "no longer used: each message is stamped with its send "
                 "time (see sending); leave it empty")
        for key in ("smart_data_service", "advanced_data_service", "unmetered_data_service"):
            timing = getattr(self.sending, key)
            if not 0 <= timing.delay_hours <= MAX_SEND_DELAY_HOURS:
                fail(("sending", key, "delay_hours"),
                     f"must be 0-{MAX_SEND_DELAY_HOURS} hours, got {_show(timing.delay_hours)}")
            if not 0 <= timing.spread_hours <= MAX_SEND_SPREAD_HOURS:
                fail(("sending", key, "spread_hours"), f"must be 0-{MAX_SEND_SPREAD_HOURS} hours (less than a "
                     f"day, so a service's batches stay in day order), got {_show(timing.spread_hours)}")
        if not 0 <= self.sending.revision_share <= 1:
            fail(("sending", "revision_share"), f"must be between 0 and 1, got {_show(self.sending.revision_share)}")
        dq = self.data_quality
        for key in ("missing_share", "invalid_share", "comms_fault_share", "deenergised_share"):
            if not 0 <= getattr(dq, key) <= 1:
                fail(("data_quality", key), f"must be between 0 and 1, got {getattr(dq, key)}")
        _check_range(fail, ("data_quality", "comms_fault_days"), dq.comms_fault_days, 1, 366)
        _check_range(fail, ("data_quality", "deenergised_days"), dq.deenergised_days, 1, 366)
        if self.readings.schedule not in ("daily", "none"):
            fail(("readings", "schedule"), f"{_show(self.readings.schedule)} is not 'daily' or 'none'")
        if not 4 <= self.readings.register_digits <= 9:
            fail(("readings", "register_digits"), f"must be 4-9, got {self.readings.register_digits}")
        if not 0 <= self.readings.near_wrap_share <= 1:
            fail(("readings", "near_wrap_share"), "must be between 0 and 1")
        for i, ev in enumerate(self.events):
            if ev.type not in EVENT_TYPES:
                fail(("events", str(i), "type"), f"{_show(ev.type)} is not one of {', '.join(EVENT_TYPES)}")
            if not event_in_range(ev, self.start_date, self.end_date):
                fail(("events", str(i), "date"), f"{ev.date} is not after start_date and within the data set")
            if not 0 <= ev.share <= 1:
                fail(("events", str(i), "share"), "must be between 0 and 1")
        for i, out in enumerate(self.outputs):
            if out not in OUTPUTS and out not in OUTPUT_ALIASES:
                fail(("outputs", str(i)), f"{_show(out)} is not one of {', '.join(OUTPUTS)}")
        if not self.outputs:
            fail(("outputs",), "asks for nothing")
        if not self.runs:
            fail(("runs",), f"names no settlement run; give one or more of {', '.join(RUN_CODES)}")
        for i, code in enumerate(self.runs):
            if code not in RUN_CODES:
                fail(("runs", str(i)), f"{_show(code)} is not a settlement code; expected one of {', '.join(RUN_CODES)}")
            if code in self.runs[:i]:
                fail(("runs", str(i)), f"{code} is named twice")
        if self.wants("settlement"):
            late = _sent_after_first_run(self)
            if late:
                fail(*late)
        if self.negative is not None:
            if self.negative.per_rule < 1:
                fail(("negative", "per_rule"), f"must be at least 1, got {self.negative.per_rule}")
            if not any(self.wants(name) for name in ("if021", "if041")):
                fail(("negative",), "needs the if021 or if041 output: invalid messages are "
                     "derived from the valid ones")
            for i, code in enumerate(self.negative.rules):
                if code not in BREAKABLE:
                    why = f" ({NOT_ALONE[code]})" if code in NOT_ALONE else ""
                    fail(("negative", "rules", str(i)),
                         f"{_show(code)} is not a rule code the negative data breaks{why}; "
                         f"expected one of {', '.join(BREAKABLE)}")

    def wants(self, output: str) -> bool:
        """Whether ``outputs`` asks for ``output``, under its own name or an older alias."""
        return any(OUTPUT_ALIASES.get(name, name) == output for name in self.outputs)


#: Data service of each connection type: the ``sending`` key whose delays apply to it.
_SERVICE_OF_CONNECTION = {"W": "smart_data_service", "L": "advanced_data_service",
                          "H": "advanced_data_service", "U": "unmetered_data_service"}


def event_in_range(event: Event, start_date: dt.date, end_date: dt.date) -> bool:
    """Whether an event takes effect inside a data set of UTC days ``start_date`` to ``end_date``:
    after its first day (the reads at 00:00 need a day before them) and not after its last."""
    return start_date < event.date <= end_date


def _sent_after_first_run(scenario: Scenario) -> tuple[tuple[str, ...], str] | None:
    """Where and why some UTC day's half hours could first be sent after their first settlement
    run, or None.

    Settlement reports count what the IF-021 messages delivered by each run, and a data service
    sends every day before its first run. A day is sent at the latest the day after the last day
    of its message (``days_per_message`` days from it, or the range's end) plus the send delay
    and spread of the slowest data service the fleet uses; its first run executes
    ``RUN_WORKING_DAYS`` working days after it (England & Wales working days, 06:00 UTC). One day
    per message is always in time: the longest delay (``MAX_SEND_DELAY_HOURS`` plus a spread
    under a day) is under the 22 calendar days of the shortest run's 16 working days.
    """
    services = {_SERVICE_OF_CONNECTION[c] for a, share in scenario.meters.archetypes.items() if share > 0
                for c in archetype_spec(a).connection_types}
    hours = max(getattr(scenario.sending, name).delay_hours + getattr(scenario.sending, name).spread_hours
                for name in services)
    first = min(scenario.runs, key=RUN_WORKING_DAYS.__getitem__)
    run_at = dt.timedelta(hours=RUN_TIME_UTC.hour, minutes=RUN_TIME_UTC.minute)
    n = scenario.messages.days_per_message
    day = scenario.start_date
    while day <= scenario.end_date:
        last = min(day + dt.timedelta(days=n - 1), scenario.end_date)
        sent = dt.datetime.combine(last + dt.timedelta(days=1), dt.time()) + dt.timedelta(hours=hours)
        executed = dt.datetime.combine(execution_date(day, first), dt.time()) + run_at
        if sent > executed:
            per = "day" if n == 1 else "days"
            return (("messages", "days_per_message"),
                    f"with {n} {per} per message {day}'s half hours can be sent as late as "
                    f"{sent:%Y-%m-%d %H:%M} UTC, after its {first} run at {executed:%Y-%m-%d %H:%M} UTC; "
                    "settlement reports need every day sent before its first run: send fewer days per "
                    "message, shorten the sending delays, or leave settlement out of outputs")
        if last == scenario.end_date:
            break  # later days wait less and run no earlier
        day += dt.timedelta(days=1)
    return None


def _check_range(fail: typing.Callable[[tuple[str, ...], str], None], path: tuple[str, ...],
                 value: list[float], low: float, high: float) -> None:
    if len(value) != 2 or not low <= value[0] <= value[1] <= high:
        fail(path, f"must be [low, high] with {low} <= low <= high <= {high}, got {_show(value)}")


def _is_dip_datetime(text: str) -> bool:
    """Whether ``text`` is a DIP date-time that is also a real calendar instant."""
    if not re.fullmatch(DIP_DATETIME_PATTERN, text):
        return False
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:  # e.g. 31 February
        return False
    return True


# ---------------------------------------------------------------------- strict construction


class ScenarioNote(UserWarning):
    """A scenario setting that is accepted but read differently from how it is written."""


def _where(source: str, node: yaml.Node | None, path: tuple[str, ...]) -> str:
    """``file:line`` of a key path in a composed YAML document, or just the source."""
    line = None
    current = node
    for key in path:
        if isinstance(current, yaml.MappingNode):
            match = [(k, v) for k, v in current.value if k.value == key]
            if not match:
                break
            line = match[0][0].start_mark.line + 1
            current = match[0][1]
        elif isinstance(current, yaml.SequenceNode) and key.isdigit() and int(key) < len(current.value):
            current = current.value[int(key)]
            line = current.start_mark.line + 1
        else:
            break
    return f"{source}:{line}" if line else source


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is list:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if origin is dict:
        return f"a mapping of names to {_type_name(typing.get_args(tp)[1])}"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false",
            dt.date: "a date (YYYY-MM-DD)"}.get(tp, getattr(tp, "__name__", str(tp)))


def _convert(tp: Any, value: Any, path: tuple[str, ...], source: str, node: yaml.Node | None) -> Any:
    def fail(message: str) -> typing.NoReturn:
        raise ScenarioError(f"{_where(source, node, path)}: {_dotted(path)}: {message}")

    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _convert(args[0], value, path, source, node)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            fail(f"expected a mapping, got {_show(value)}")
        return _build(tp, value, path, source, node)
    if origin is list:
        if not isinstance(value, list):
            fail(f"expected {_type_name(tp)}, got {_show(value)}")
        (item,) = typing.get_args(tp)
        return [_convert(item, v, (*path, str(i)), source, node) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            fail(f"expected {_type_name(tp)}, got {_show(value)}")
        _, item = typing.get_args(tp)
        return {str(k): _convert(item, v, (*path, str(k)), source, node) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            fail(f"expected true or false, got {_show(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            fail(f"expected an integer, got {_show(value)}")
        problem = _number_problem(value)
        if problem and path != ("seed",):  # the seed's own check says which range
            fail(f"{_show(value)}: {problem}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            fail(f"expected a number, got {_show(value)}")
        problem = _number_problem(value)
        if problem:
            fail(f"{_show(value)}: {problem}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            fail(f"expected a string, got {_show(value)}")
        return value
    if tp is dt.date:
        if isinstance(value, dt.datetime):
            fail(f"expected a date (YYYY-MM-DD), got a date-time {_show(value)}")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                fail(f"{_show(value)} is not a date (YYYY-MM-DD)")
        fail(f"expected a date (YYYY-MM-DD), got {_show(value)}")
    raise TypeError(f"unsupported scenario field type {tp!r}")  # a bug, not a user error


def _build(cls: type, data: dict[str, Any], path: tuple[str, ...], source: str, node: yaml.Node | None) -> Any:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in data.items():
        key = str(key)
        if key not in names:
            # difflib is quadratic in the key's length; a long key is no typo anyway
            close = difflib.get_close_matches(key, names, n=1) if len(key) <= SHOW_CHARS else []
            hint = f" (did you mean {close[0]!r}?)" if close else f" (expected one of {', '.join(names)})"
            where = _where(source, node, (*path, key))
            raise ScenarioError(f"{where}: {_dotted((*path, key))}: unknown key{hint}")
        kwargs[key] = _convert(hints[key], value, (*path, key), source, node)
    return cls(**kwargs)


# ---------------------------------------------------------------------- reading YAML safely


def _read_yaml(path: Path) -> tuple[dict[str, Any], yaml.Node | None]:
    """The mapping a scenario file holds and its composed node tree (for error locations).

    Size and encoding are checked on the raw bytes before any parsing; anchors, aliases,
    duplicate keys and merge keys are refused on the composed tree before anything is built.
    """
    try:
        with path.open("rb") as f:
            # read one byte past the limit rather than trusting stat: pipes and devices have no size
            raw = f.read(MAX_SCENARIO_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read scenario file ({exc.strerror or exc})") from None
    if len(raw) > MAX_SCENARIO_BYTES:
        raise ScenarioError(f"{path}: larger than {MAX_SCENARIO_BYTES:,} bytes (1 MB); "
                            "a scenario file is a short description, not data")
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at byte offset "
                            f"{exc.start}); save the file as UTF-8") from None
    loader = None
    try:
        loader = _Loader(text)  # checks every character is one YAML allows
        node = loader.get_single_node()
        if node is not None:
            _check_nodes(node, str(path), ())
        data = loader.construct_document(node) if node is not None else None
    except _Refused as exc:
        raise ScenarioError(f"{path}:{exc.mark.line + 1}: {exc}") from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise ScenarioError(f"{path}:{line}: not valid YAML (character U+{exc.character:04X} is not "
                            "allowed)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ScenarioError(f"{where}: not valid YAML ({_clip(str(getattr(exc, 'problem', exc)))})") from None
    except RecursionError:
        raise ScenarioError(f"{path}: not a usable scenario (nested too deeply)") from None
    finally:
        if loader is not None:
            loader.dispose()
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}:1: a scenario must be a mapping of keys to values")
    return data, node


def _check_nodes(node: yaml.Node, source: str, path: tuple[str, ...]) -> None:
    """Refuse duplicate keys, merge keys and over-long integers in a composed YAML tree.

    PyYAML keeps the last of two equal keys silently; a scenario with both is ambiguous.
    """
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise ScenarioError(f"{source}:{line}: {_dotted((*path, '<<'))}: merge keys (<<) are not "
                                    "allowed in a scenario")
            name = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            if isinstance(key_node, yaml.ScalarNode):
                if name in seen:
                    raise ScenarioError(f"{source}:{line}: {_dotted((*path, name))}: duplicate key "
                                        f"(first at line {seen[name]})")
                seen[name] = line
            _check_nodes(value_node, source, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_nodes(item, source, (*path, str(i)))
    elif node.tag == "tag:yaml.org,2002:int" and len(node.value) > _MAX_INT_DIGITS:
        # Python refuses to parse integers of over 4300 digits with a traceback; none is usable
        raise ScenarioError(f"{source}:{node.start_mark.line + 1}: {_dotted(path)}: {_clip(node.value)}: "
                            f"integer of {len(node.value)} characters is out of range")


# ---------------------------------------------------------------------- bounded echoes


_REPR = reprlib.Repr()
# bounded in depth and width, so even a value with shared references (a Python-side "billion
# laughs") is shown in constant time
_REPR.maxlevel = 3
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxdict = 6
_REPR.maxstring = _REPR.maxother = SHOW_CHARS
_REPR.maxlong = 40


def _show(value: Any) -> str:
    """``repr`` of a user's value, at most :data:`SHOW_CHARS` characters (cut with ``...``)."""
    try:
        text = _REPR.repr(value)
    except ValueError:  # an int beyond Python's 4300-digit str() limit
        text = f"<integer of about {int(value.bit_length() * 0.30103)} digits>"
    return _clip(text)


def _clip(text: str) -> str:
    """``text`` on one line and at most :data:`SHOW_CHARS` characters (cut with ``...``)."""
    text = text if text.isprintable() else repr(text)[1:-1]
    return text if len(text) <= SHOW_CHARS else text[: SHOW_CHARS - 3] + "..."


def _dotted(path: tuple[str, ...]) -> str:
    """A key path as ``meters.count``, bounded like any echoed value."""
    return _clip(".".join(path))


def _number_problem(value: Any) -> str | None:
    """Why a number cannot be in a scenario (not finite, or too big for the manifest), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if isinstance(value, int) and not INT_MIN <= value < SEED_LIMIT:
        return "is out of range (integers are 64-bit)"
    return None


def _numbers(value: Any, path: tuple[str, ...]) -> typing.Iterator[tuple[tuple[str, ...], Any]]:
    """Every int and float in a scenario's dataclasses, lists and dicts, with its key path."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _numbers(getattr(value, f.name), (*path, f.name))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _numbers(item, (*path, str(i)))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _numbers(item, (*path, str(key)))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield path, value


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def demo_scenario() -> Scenario:
    """The built-in demo: 200 mixed meters over the 14 UTC days around the October 2025 change."""
    return Scenario(
        name="demo",
        seed=20251026,
        start_date=dt.date(2025, 10, 20),
        end_date=dt.date(2025, 11, 2),
        messages=Messages(days_per_message=1),  # each day sent the day after, as data services do
        sending=Sending(revision_share=0.7),  # most faults' stored half hours are collected later
        events=[Event(type="change_of_supplier", date=dt.date(2025, 10, 28), share=0.05)],
    )


__all__ = [
    "DataQuality",
    "Negative",
    "Event",
    "MeterMix",
    "Messages",
    "Participants",
    "ROLE_IDS",
    "Readings",
    "Scenario",
    "ScenarioError",
    "ScenarioNote",
    "Sending",
    "ServiceTiming",
    "demo_scenario",
]
