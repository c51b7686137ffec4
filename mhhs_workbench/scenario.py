"""Scenario: the whole, declarative description of one data set.

A scenario is plain dataclasses. It loads from YAML (``Scenario.from_yaml``) and from a mapping with
the same keys (``Scenario.from_dict``), which is what papermill parameters give a notebook, so the
two map onto each other 1:1. Loading is strict: an unknown key, a value of the wrong type or an
impossible setting is a :class:`ScenarioError` naming the file, line and key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import os
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .identifiers import GSP_GROUPS, ROLE_IDS, dip_id
from .messages.codes import DIP_DATETIME_PATTERN, ENVIRONMENT_TAGS, SUB_TEXT_MAX_LENGTH

OUTPUTS = ("if021", "if041", "parquet", "csv", "aggregates")
EVENT_TYPES = ("change_of_supplier",)


class ScenarioError(ValueError):
    """A scenario that cannot be used, with the place that is wrong."""


class _Loader(yaml.SafeLoader):
    """Safe YAML loader that leaves dates as text, so a bad date gets a located error here."""


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
        ``senderTimestamp`` of every message (fixed so output is reproducible); empty means 06:00
        UTC on the day after the data set ends.
    sub_text : str or None
        Text carried in ``subText``.
    """

    days_per_message: int = 7
    messages_per_file: int = 100
    sender_timestamp: str = ""
    sub_text: str | None = None


@dataclass
class DataQuality:
    """Imperfections turned into valid estimates, all consistent with the business rules.

    Attributes
    ----------
    missing_share : float
        Share of half hours missing or invalid, estimated from the daily advance (``E1``).
    invalid_share : float
        Share of those that are invalid rather than missing (reason 3 instead of 2).
    comms_fault_share : float
        Share of smart meters with one communications fault spanning whole days.
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
    outputs : list of str
        Any of ``if021``, ``if041``, ``parquet``, ``csv``, ``aggregates``.
    temperature_csv : str
        Optional daily temperature CSV (``date,temperature_c``); empty means the built-in series.
    """

    name: str = "scenario"
    seed: int = 1
    start_date: dt.date = dt.date(2025, 10, 20)
    end_date: dt.date = dt.date(2025, 11, 2)
    environment_tag: str = "SIT"
    meters: MeterMix = field(default_factory=MeterMix)
    participants: Participants = field(default_factory=Participants)
    messages: Messages = field(default_factory=Messages)
    data_quality: DataQuality = field(default_factory=DataQuality)
    readings: Readings = field(default_factory=Readings)
    events: list[Event] = field(default_factory=list)
    outputs: list[str] = field(default_factory=lambda: list(OUTPUTS))
    temperature_csv: str = ""

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "scenario") -> Scenario:
        """Build and check a scenario from a mapping (YAML content or papermill parameters)."""
        scenario = _build(cls, data, (), source, None)
        scenario.check(source)
        return scenario

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> Scenario:
        """Load and check a scenario file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(f"{path}: cannot read scenario file ({exc.strerror})") from None
        try:
            data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
            node = yaml.compose(text, Loader=_Loader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
            raise ScenarioError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ScenarioError(f"{path}:1: a scenario must be a mapping of keys to values")
        scenario = _build(cls, data, (), str(path), node)
        scenario.check(str(path), node)
        return scenario

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping with the same keys the loaders take (dates as ISO strings)."""
        return _plain(dataclasses.asdict(self))

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

        def fail(path: tuple[str, ...], message: str) -> None:
            raise ScenarioError(f"{_where(source, node, path)}: {'.'.join(path)}: {message}")

        if self.seed < 0:
            fail(("seed",), f"must be zero or positive, got {self.seed}")
        if self.end_date < self.start_date:
            fail(("end_date",), f"{self.end_date} is before start_date {self.start_date}")
        if self.n_days > 3660:
            fail(("end_date",), f"{self.n_days} days is more than ten years")
        if self.environment_tag not in ENVIRONMENT_TAGS:
            fail(("environment_tag",), f"{self.environment_tag!r} is not one of {', '.join(ENVIRONMENT_TAGS)}")
        m = self.meters
        if m.count < 1:
            fail(("meters", "count"), f"must be at least 1, got {m.count}")
        for g in m.gsp_groups:
            if g not in GSP_GROUPS:
                fail(("meters", "gsp_groups"), f"unknown GSP group {g!r}; expected {', '.join(GSP_GROUPS)}")
        from .profiles import ARCHETYPES  # the model defines which archetypes exist

        if not m.archetypes:
            fail(("meters", "archetypes"), "needs at least one archetype")
        for name, share in m.archetypes.items():
            if name not in ARCHETYPES:
                fail(("meters", "archetypes", name), f"unknown archetype; expected one of {', '.join(ARCHETYPES)}")
            if share < 0:
                fail(("meters", "archetypes", name), f"share must not be negative, got {share}")
        if sum(m.archetypes.values()) <= 0:
            fail(("meters", "archetypes"), "shares must add up to more than 0")
        for key in ("pv_share", "ev_share", "ev_smart_share", "heat_pump_share"):
            if not 0 <= getattr(m, key) <= 1:
                fail(("meters", key), f"must be between 0 and 1, got {getattr(m, key)}")
        _check_range(fail, ("meters", "pv_kwp"), m.pv_kwp, 0, 1000)
        if not m.ev_kw or any(not 0 < k <= 50 for k in m.ev_kw):
            fail(("meters", "ev_kw"), f"needs charger powers above 0 and at most 50 kW, got {m.ev_kw}")
        if not 0 <= m.heat_pump_kwh <= 100_000:
            fail(("meters", "heat_pump_kwh"), f"must be 0-100000 kWh, got {m.heat_pump_kwh}")
        for key in ("smart_data_service", "advanced_data_service", "unmetered_data_service",
                    "supplier", "new_supplier", "load_shaping_service", "market_wide_data_service"):
            value = getattr(self.participants, key)
            if len(value) != 10 or not all(c in "0123456789abcdefABCDEF" for c in value):
                fail(("participants", key), f"DIP ID {value!r} must be 10 hexadecimal characters")
        if len(self.participants.distributor_prefix) != 2 or not self.participants.distributor_prefix.isdigit():
            fail(("participants", "distributor_prefix"), "must be two digits")
        msg = self.messages
        if not 1 <= msg.days_per_message <= 200:
            fail(("messages", "days_per_message"), f"must be 1-200, got {msg.days_per_message}")
        if msg.messages_per_file < 1:
            fail(("messages", "messages_per_file"), f"must be at least 1, got {msg.messages_per_file}")
        if msg.sub_text is not None and not 1 <= len(msg.sub_text) <= SUB_TEXT_MAX_LENGTH:
            fail(("messages", "sub_text"), f"must be null or 1-{SUB_TEXT_MAX_LENGTH} characters, got {len(msg.sub_text)}")
        if msg.sender_timestamp and not _is_dip_datetime(msg.sender_timestamp):
            fail(("messages", "sender_timestamp"), f"{msg.sender_timestamp!r} is not like 2025-03-31T06:00:00+01:00")
        dq = self.data_quality
        for key in ("missing_share", "invalid_share", "comms_fault_share", "deenergised_share"):
            if not 0 <= getattr(dq, key) <= 1:
                fail(("data_quality", key), f"must be between 0 and 1, got {getattr(dq, key)}")
        _check_range(fail, ("data_quality", "comms_fault_days"), dq.comms_fault_days, 1, 366)
        _check_range(fail, ("data_quality", "deenergised_days"), dq.deenergised_days, 1, 366)
        if self.readings.schedule not in ("daily", "none"):
            fail(("readings", "schedule"), f"{self.readings.schedule!r} is not 'daily' or 'none'")
        if not 4 <= self.readings.register_digits <= 9:
            fail(("readings", "register_digits"), f"must be 4-9, got {self.readings.register_digits}")
        if not 0 <= self.readings.near_wrap_share <= 1:
            fail(("readings", "near_wrap_share"), "must be between 0 and 1")
        for i, ev in enumerate(self.events):
            if ev.type not in EVENT_TYPES:
                fail(("events", str(i), "type"), f"{ev.type!r} is not one of {', '.join(EVENT_TYPES)}")
            if not self.start_date < ev.date <= self.end_date:
                fail(("events", str(i), "date"), f"{ev.date} is not after start_date and within the data set")
            if not 0 <= ev.share <= 1:
                fail(("events", str(i), "share"), "must be between 0 and 1")
        for i, out in enumerate(self.outputs):
            if out not in OUTPUTS:
                fail(("outputs", str(i)), f"{out!r} is not one of {', '.join(OUTPUTS)}")
        if not self.outputs:
            fail(("outputs",), "asks for nothing")


def _check_range(fail, path, value: list[float], low: float, high: float) -> None:
    if len(value) != 2 or not low <= value[0] <= value[1] <= high:
        fail(path, f"must be [low, high] with {low} <= low <= high <= {high}, got {value}")


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
        raise ScenarioError(f"{_where(source, node, path)}: {'.'.join(path)}: {message}")

    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _convert(args[0], value, path, source, node)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            fail(f"expected a mapping, got {value!r}")
        return _build(tp, value, path, source, node)
    if origin is list:
        if not isinstance(value, list):
            fail(f"expected {_type_name(tp)}, got {value!r}")
        (item,) = typing.get_args(tp)
        return [_convert(item, v, (*path, str(i)), source, node) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            fail(f"expected {_type_name(tp)}, got {value!r}")
        _, item = typing.get_args(tp)
        return {str(k): _convert(item, v, (*path, str(k)), source, node) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            fail(f"expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            fail(f"expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            fail(f"expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            fail(f"expected a string, got {value!r}")
        return value
    if tp is dt.date:
        if isinstance(value, dt.datetime):
            fail(f"expected a date (YYYY-MM-DD), got a date-time {value!r}")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                fail(f"{value!r} is not a date (YYYY-MM-DD)")
        fail(f"expected a date (YYYY-MM-DD), got {value!r}")
    raise TypeError(f"unsupported scenario field type {tp!r}")  # a bug, not a user error


def _build(cls: type, data: dict[str, Any], path: tuple[str, ...], source: str, node: yaml.Node | None):
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in data.items():
        key = str(key)
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (expected one of {', '.join(names)})"
            where = _where(source, node, (*path, key))
            raise ScenarioError(f"{where}: {'.'.join((*path, key))}: unknown key{hint}")
        kwargs[key] = _convert(hints[key], value, (*path, key), source, node)
    return cls(**kwargs)


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
        events=[Event(type="change_of_supplier", date=dt.date(2025, 10, 28), share=0.05)],
    )


__all__ = [
    "DataQuality",
    "Event",
    "MeterMix",
    "Messages",
    "Participants",
    "ROLE_IDS",
    "Readings",
    "Scenario",
    "ScenarioError",
    "demo_scenario",
]
