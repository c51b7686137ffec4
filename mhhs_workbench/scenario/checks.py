"""The checks of a scenario: every impossible setting is refused before a byte is written.

:meth:`Scenario.check <mhhs_workbench.scenario.document.Scenario.check>` runs one check per
section, in the order of the scenario's keys, and stops at the first failure. Each check takes its
section and a ``fail(path, message)`` (see :func:`failing`) that raises the
:class:`~mhhs_workbench.scenario.errors.ScenarioError` naming the source, line and key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import typing
import warnings
from typing import Any

import yaml

from mhhs_workbench.codes.archetypes import ARCHETYPES, archetype_spec
from mhhs_workbench.codes.identifiers import GSP_GROUPS
from mhhs_workbench.codes.messages import (
    DIP_DATETIME_PATTERN,
    ENVIRONMENT_TAGS,
    SUB_TEXT_MAX_LENGTH,
)
from mhhs_workbench.codes.releases import KNOWN_VERSIONS
from mhhs_workbench.codes.rules import BREAKABLE, NOT_ALONE
from mhhs_workbench.scenario.errors import (
    ScenarioError,
    ScenarioNote,
    dotted,
    located,
    number_problem,
    show,
)
from mhhs_workbench.scenario.limits import (
    EVENT_TYPES,
    MAX_METERS,
    MAX_SEND_DELAY_HOURS,
    MAX_SEND_SPREAD_HOURS,
    OUTPUT_ALIASES,
    OUTPUTS,
    SEED_LIMIT,
)
from mhhs_workbench.scenario.sections import (
    DataQuality,
    Event,
    Messages,
    MeterMix,
    Negative,
    Participants,
    Readings,
    Sending,
)
from mhhs_workbench.time.calendar import (
    RUN_CODES,
    RUN_TIME_UTC,
    RUN_WORKING_DAYS,
    execution_date,
)

#: ``fail(path, message)``: raise the :class:`ScenarioError` of the key ``path``, located.
Fail = typing.Callable[[tuple[str, ...], str], typing.NoReturn]

#: Data service of each connection type: the ``sending`` key whose delays apply to it.
_SERVICE_OF_CONNECTION = {"W": "smart_data_service", "L": "advanced_data_service",
                          "H": "advanced_data_service", "U": "unmetered_data_service"}


def failing(source: str, node: yaml.Node | None) -> Fail:
    """The ``fail`` of a scenario read from ``source`` (``node``: its composed YAML, for lines)."""

    def fail(path: tuple[str, ...], message: str) -> typing.NoReturn:
        raise ScenarioError(f"{located(source, node, path)}: {dotted(path)}: {message}")

    return fail


def check_seed(seed: int, fail: Fail) -> None:
    """The seed: ``0 <= seed < 2**64``."""
    if isinstance(seed, int) and not 0 <= seed < SEED_LIMIT:
        fail(("seed",), f"must be zero or positive, got {show(seed)}" if seed < 0
             else f"must be less than 2**64, got {show(seed)}")


def check_numbers(scenario: Any, fail: Fail) -> None:
    """Every number in a scenario's dataclasses: finite, and an integer the manifest can hold.

    Dataclasses built directly (the UI, notebooks) skip the loader's conversion, so every number
    is looked at here too.
    """
    for path, value in _numbers(scenario, ()):
        problem = number_problem(value)
        if problem:
            fail(path, f"{show(value)}: {problem}")


def check_dates(start_date: dt.date, end_date: dt.date, fail: Fail) -> None:
    """The date range: in order, and at most ten years of days."""
    if end_date < start_date:
        fail(("end_date",), f"{end_date} is before start_date {start_date}")
    n_days = (end_date - start_date).days + 1
    if n_days > 3660:
        fail(("end_date",), f"{n_days} days is more than ten years")


def check_release(environment_tag: str, spec_version: str, fail: Fail) -> None:
    """The environment tag and the DIP API release: known ones."""
    if environment_tag not in ENVIRONMENT_TAGS:
        fail(("environment_tag",), f"{show(environment_tag)} is not one of {', '.join(ENVIRONMENT_TAGS)}")
    if spec_version not in KNOWN_VERSIONS:
        fail(("spec_version",), f"{show(spec_version)} is not a known DIP API version; "
             f"expected one of {', '.join(KNOWN_VERSIONS)}")


def check_meters(m: MeterMix, fail: Fail, source: str, node: yaml.Node | None) -> None:
    """The meter mix; warns (:class:`ScenarioNote`, once, at load) if the shares do not add to 1."""
    if m.count < 1:
        fail(("meters", "count"), f"must be at least 1, got {m.count}")
    if m.count > MAX_METERS:
        fail(("meters", "count"), f"must be at most {MAX_METERS:,}, got {show(m.count)}")
    for g in m.gsp_groups:
        if g not in GSP_GROUPS:
            fail(("meters", "gsp_groups"), f"unknown GSP group {show(g)}; expected {', '.join(GSP_GROUPS)}")
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
        # stacklevel 3: the caller of Scenario.check, as when this was inside it
        warnings.warn(f"{located(source, node, path)}: {dotted(path)}: the shares add up to {total:g}, "
                      f"not 1; each is divided by {total:g}", ScenarioNote, stacklevel=3)
    for key in ("pv_share", "ev_share", "ev_smart_share", "heat_pump_share", "install_share",
                "non_domestic_pv_share", "non_domestic_ev_share"):
        if not 0 <= getattr(m, key) <= 1:
            fail(("meters", key), f"must be between 0 and 1, got {getattr(m, key)}")
    _check_range(fail, ("meters", "pv_kwp"), m.pv_kwp, 0, 1000)
    _check_range(fail, ("meters", "non_domestic_pv_kwp_per_mwh"), m.non_domestic_pv_kwp_per_mwh, 0, 10)
    if not m.ev_kw or any(not 0 < k <= 50 for k in m.ev_kw):
        fail(("meters", "ev_kw"), f"needs charger powers above 0 and at most 50 kW, got {show(m.ev_kw)}")
    if not 0 <= m.heat_pump_kwh <= 100_000:
        fail(("meters", "heat_pump_kwh"), f"must be 0-100000 kWh, got {m.heat_pump_kwh}")


def check_participants(participants: Participants, fail: Fail) -> None:
    """The participants: DIP IDs, the distributor prefix and two different supplier MPIDs."""
    for key in ("smart_data_service", "advanced_data_service", "unmetered_data_service",
                "supplier", "new_supplier", "load_shaping_service", "market_wide_data_service",
                "settlement_service"):
        value = getattr(participants, key)
        if len(value) != 10 or not all(c in "0123456789abcdefABCDEF" for c in value):
            fail(("participants", key), f"DIP ID {show(value)} must be 10 hexadecimal characters")
    # not str.isdigit(): that also takes digits of other scripts, which MPANs cannot hold
    if not re.fullmatch(r"[0-9]{2}", participants.distributor_prefix):
        fail(("participants", "distributor_prefix"), "must be two digits")
    for key in ("supplier_mpid", "new_supplier_mpid"):
        if not re.fullmatch(r"[A-Z]{4}", getattr(participants, key)):
            fail(("participants", key), f"MPID {show(getattr(participants, key))} must be 4 capital "
                 "letters (A-Z)")
    if participants.supplier_mpid == participants.new_supplier_mpid:
        fail(("participants", "new_supplier_mpid"), "must differ from supplier_mpid")


def check_messages(msg: Messages, fail: Fail) -> None:
    """How messages are cut into files, their ``subText``, and no fixed sender timestamp."""
    if not 1 <= msg.days_per_message <= 200:
        fail(("messages", "days_per_message"), f"must be 1-200, got {msg.days_per_message}")
    if msg.messages_per_file < 1:
        fail(("messages", "messages_per_file"), f"must be at least 1, got {msg.messages_per_file}")
    if msg.sub_text is not None and not 1 <= len(msg.sub_text) <= SUB_TEXT_MAX_LENGTH:
        fail(("messages", "sub_text"), f"must be null or 1-{SUB_TEXT_MAX_LENGTH} characters, got {len(msg.sub_text)}")
    if msg.sender_timestamp and not _is_dip_datetime(msg.sender_timestamp):
        fail(("messages", "sender_timestamp"), f"{show(msg.sender_timestamp)} is not like 2025-03-31T06:00:00+01:00")
    if msg.sender_timestamp:
        fail(("messages", "sender_timestamp"), "no longer used: each message is stamped with its send "
             "time (see sending); leave it empty")


def check_sending(sending: Sending, fail: Fail) -> None:
    """Each data service's send delay and spread, and the share of revised faults."""
    for key in ("smart_data_service", "advanced_data_service", "unmetered_data_service"):
        timing = getattr(sending, key)
        if not 0 <= timing.delay_hours <= MAX_SEND_DELAY_HOURS:
            fail(("sending", key, "delay_hours"),
                 f"must be 0-{MAX_SEND_DELAY_HOURS} hours, got {show(timing.delay_hours)}")
        if not 0 <= timing.spread_hours <= MAX_SEND_SPREAD_HOURS:
            fail(("sending", key, "spread_hours"), f"must be 0-{MAX_SEND_SPREAD_HOURS} hours (less than a "
                 f"day, so a service's batches stay in day order), got {show(timing.spread_hours)}")
    if not 0 <= sending.revision_share <= 1:
        fail(("sending", "revision_share"), f"must be between 0 and 1, got {show(sending.revision_share)}")


def check_data_quality(dq: DataQuality, fail: Fail) -> None:
    """The shares and spell lengths of imperfect data."""
    for key in ("missing_share", "invalid_share", "comms_fault_share", "deenergised_share"):
        if not 0 <= getattr(dq, key) <= 1:
            fail(("data_quality", key), f"must be between 0 and 1, got {getattr(dq, key)}")
    _check_range(fail, ("data_quality", "comms_fault_days"), dq.comms_fault_days, 1, 366)
    _check_range(fail, ("data_quality", "deenergised_days"), dq.deenergised_days, 1, 366)


def check_readings(readings: Readings, fail: Fail) -> None:
    """The register reading schedule, register size and share of registers near wrapping."""
    if readings.schedule not in ("daily", "none"):
        fail(("readings", "schedule"), f"{show(readings.schedule)} is not 'daily' or 'none'")
    if not 4 <= readings.register_digits <= 9:
        fail(("readings", "register_digits"), f"must be 4-9, got {readings.register_digits}")
    if not 0 <= readings.near_wrap_share <= 1:
        fail(("readings", "near_wrap_share"), "must be between 0 and 1")


def check_events(events: list[Event], start_date: dt.date, end_date: dt.date, fail: Fail) -> None:
    """Each event: a known type, inside the date range, with a share between 0 and 1."""
    for i, ev in enumerate(events):
        if ev.type not in EVENT_TYPES:
            fail(("events", str(i), "type"), f"{show(ev.type)} is not one of {', '.join(EVENT_TYPES)}")
        if not event_in_range(ev, start_date, end_date):
            fail(("events", str(i), "date"), f"{ev.date} is not after start_date and within the data set")
        if not 0 <= ev.share <= 1:
            fail(("events", str(i), "share"), "must be between 0 and 1")


def check_outputs(outputs: list[str], fail: Fail) -> None:
    """The outputs: known names (or older aliases), at least one."""
    for i, out in enumerate(outputs):
        if out not in OUTPUTS and out not in OUTPUT_ALIASES:
            fail(("outputs", str(i)), f"{show(out)} is not one of {', '.join(OUTPUTS)}")
    if not outputs:
        fail(("outputs",), "asks for nothing")


def check_runs(runs: list[str], fail: Fail) -> None:
    """The settlement runs: at least one, each a known settlement code named once."""
    if not runs:
        fail(("runs",), f"names no settlement run; give one or more of {', '.join(RUN_CODES)}")
    for i, code in enumerate(runs):
        if code not in RUN_CODES:
            fail(("runs", str(i)), f"{show(code)} is not a settlement code; expected one of {', '.join(RUN_CODES)}")
        if code in runs[:i]:
            fail(("runs", str(i)), f"{code} is named twice")


def check_negative(negative: Negative | None, wants: typing.Callable[[str], bool], fail: Fail) -> None:
    """The negative data, if asked for: cases per rule, IF-021 or IF-041 to derive them from, and
    rule codes the catalogue breaks (``wants``: whether the scenario asks for an output)."""
    if negative is None:
        return
    if negative.per_rule < 1:
        fail(("negative", "per_rule"), f"must be at least 1, got {negative.per_rule}")
    if not any(wants(name) for name in ("if021", "if041")):
        fail(("negative",), "needs the if021 or if041 output: invalid messages are "
             "derived from the valid ones")
    for i, code in enumerate(negative.rules):
        if code not in BREAKABLE:
            why = f" ({NOT_ALONE[code]})" if code in NOT_ALONE else ""
            fail(("negative", "rules", str(i)),
                 f"{show(code)} is not a rule code the negative data breaks{why}; "
                 f"expected one of {', '.join(BREAKABLE)}")


def event_in_range(event: Event, start_date: dt.date, end_date: dt.date) -> bool:
    """Whether an event takes effect inside a data set of UTC days ``start_date`` to ``end_date``:
    after its first day (the reads at 00:00 need a day before them) and not after its last."""
    return start_date < event.date <= end_date


def sent_after_first_run(meters: MeterMix, sending: Sending, messages: Messages, runs: list[str],
                         start_date: dt.date, end_date: dt.date) -> tuple[tuple[str, ...], str] | None:
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
    services = {_SERVICE_OF_CONNECTION[c] for a, share in meters.archetypes.items() if share > 0
                for c in archetype_spec(a).connection_types}
    hours = max(getattr(sending, name).delay_hours + getattr(sending, name).spread_hours
                for name in services)
    first = min(runs, key=RUN_WORKING_DAYS.__getitem__)
    run_at = dt.timedelta(hours=RUN_TIME_UTC.hour, minutes=RUN_TIME_UTC.minute)
    n = messages.days_per_message
    day = start_date
    while day <= end_date:
        last = min(day + dt.timedelta(days=n - 1), end_date)
        sent = dt.datetime.combine(last + dt.timedelta(days=1), dt.time()) + dt.timedelta(hours=hours)
        executed = dt.datetime.combine(execution_date(day, first), dt.time()) + run_at
        if sent > executed:
            per = "day" if n == 1 else "days"
            return (("messages", "days_per_message"),
                    f"with {n} {per} per message {day}'s half hours can be sent as late as "
                    f"{sent:%Y-%m-%d %H:%M} UTC, after its {first} run at {executed:%Y-%m-%d %H:%M} UTC; "
                    "settlement reports need every day sent before its first run: send fewer days per "
                    "message, shorten the sending delays, or leave settlement out of outputs")
        if last == end_date:
            break  # later days wait less and run no earlier
        day += dt.timedelta(days=1)
    return None


def _check_range(fail: Fail, path: tuple[str, ...], value: list[float], low: float, high: float) -> None:
    """A ``[low, high]`` setting: two values in order, both within ``low`` and ``high``."""
    if len(value) != 2 or not low <= value[0] <= value[1] <= high:
        fail(path, f"must be [low, high] with {low} <= low <= high <= {high}, got {show(value)}")


def _is_dip_datetime(text: str) -> bool:
    """Whether ``text`` is a DIP date-time that is also a real calendar instant."""
    if not re.fullmatch(DIP_DATETIME_PATTERN, text):
        return False
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:  # e.g. 31 February
        return False
    return True


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

