"""Scenario: the whole, declarative description of one data set.

The public names of the subpackage (``Scenario`` and its sections, ``demo_scenario``).
"""

from mhhs_workbench.scenario.description import (
    ROLE_IDS,
    DataQuality,
    Event,
    Messages,
    MeterMix,
    Negative,
    Participants,
    Readings,
    Scenario,
    ScenarioError,
    ScenarioNote,
    Sending,
    ServiceTiming,
    demo_scenario,
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
