"""Scenario: the whole, declarative description of one data set.

The public names of the subpackage (``Scenario`` and its sections, ``demo_scenario``). The
modules: :mod:`~mhhs_workbench.scenario.document` (``Scenario``, loading and writing it),
:mod:`~mhhs_workbench.scenario.sections` (its sections), :mod:`~mhhs_workbench.scenario.loading`
(the strict YAML reader), :mod:`~mhhs_workbench.scenario.checks` (the checks),
:mod:`~mhhs_workbench.scenario.errors` (error wording), :mod:`~mhhs_workbench.scenario.limits`
(allowed values and bounds) and :mod:`~mhhs_workbench.scenario.demo` (the demo).
"""

from mhhs_workbench.codes.identifiers import ROLE_IDS
from mhhs_workbench.scenario.demo import demo_scenario
from mhhs_workbench.scenario.document import Scenario
from mhhs_workbench.scenario.errors import ScenarioError, ScenarioNote
from mhhs_workbench.scenario.sections import (
    DataQuality,
    Event,
    Messages,
    MeterMix,
    Negative,
    Participants,
    Readings,
    Sending,
    ServiceTiming,
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
