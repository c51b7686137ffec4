"""The scenario: the whole, declarative description of one data set.

A scenario is plain dataclasses. It loads from YAML (``Scenario.from_yaml``) and from a mapping with
the same keys (``Scenario.from_dict``), which is what papermill parameters give a notebook, so the
two map onto each other 1:1. Loading is strict: an unknown key, a value of the wrong type or an
impossible setting is a :class:`ScenarioError` naming the file, line and key.

Everything that could make a run fail later is refused here, before a byte is written: numbers
that are not finite or do not fit the manifest's JSON, a seed outside ``0 <= seed < 2**64``,
files larger than :data:`~mhhs_workbench.scenario.limits.MAX_SCENARIO_BYTES`, text that is not
UTF-8, duplicate keys, and YAML anchors and aliases (which could expand a few hundred bytes into
gigabytes). Errors echo at most :data:`~mhhs_workbench.scenario.limits.SHOW_CHARS` characters of
any value the user gave. The sections are in :mod:`~mhhs_workbench.scenario.sections`, the reading
in :mod:`~mhhs_workbench.scenario.loading` and the checks in :mod:`~mhhs_workbench.scenario.checks`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mhhs_workbench.codes.releases import LATEST_VERSION
from mhhs_workbench.scenario.checks import (
    check_data_quality,
    check_dates,
    check_events,
    check_messages,
    check_meters,
    check_negative,
    check_numbers,
    check_outputs,
    check_participants,
    check_readings,
    check_release,
    check_runs,
    check_seed,
    check_sending,
    failing,
    sent_after_first_run,
)
from mhhs_workbench.scenario.errors import ScenarioError, show
from mhhs_workbench.scenario.limits import OUTPUT_ALIASES, OUTPUTS
from mhhs_workbench.scenario.loading import build, read_yaml, to_plain
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
from mhhs_workbench.time.calendar import DEFAULT_RUNS


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
            raise ScenarioError(f"{source}: a scenario must be a mapping of keys to values, got {show(data)}")
        scenario = build(cls, data, (), source, None)
        scenario.check(source)
        return scenario

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> Scenario:
        """Load and check a scenario file.

        Raises
        ------
        ScenarioError
            If the file is unreadable, larger than
            :data:`~mhhs_workbench.scenario.limits.MAX_SCENARIO_BYTES`, not UTF-8, not
            YAML, uses anchors, aliases or duplicate keys, or describes an impossible scenario.
        """
        path = Path(path)
        data, node = read_yaml(path)
        scenario = build(cls, data, (), str(path), node)
        scenario.check(str(path), node)
        return scenario

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping with the same keys the loaders take (dates as ISO strings)."""
        data = to_plain(dataclasses.asdict(self))
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
        """Raise :class:`ScenarioError` on the first impossible setting (sections in key order)."""
        fail = failing(source, node)
        check_seed(self.seed, fail)
        check_numbers(self, fail)
        check_dates(self.start_date, self.end_date, fail)
        check_release(self.environment_tag, self.spec_version, fail)
        check_meters(self.meters, fail, source, node)
        check_participants(self.participants, fail)
        check_messages(self.messages, fail)
        check_sending(self.sending, fail)
        check_data_quality(self.data_quality, fail)
        check_readings(self.readings, fail)
        check_events(self.events, self.start_date, self.end_date, fail)
        check_outputs(self.outputs, fail)
        check_runs(self.runs, fail)
        if self.wants("settlement"):
            late = sent_after_first_run(self.meters, self.sending, self.messages, self.runs,
                                        self.start_date, self.end_date)
            if late:
                fail(*late)
        check_negative(self.negative, self.wants, fail)

    def wants(self, output: str) -> bool:
        """Whether ``outputs`` asks for ``output``, under its own name or an older alias."""
        return any(OUTPUT_ALIASES.get(name, name) == output for name in self.outputs)
