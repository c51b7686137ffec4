"""The built-in demo scenario, used wherever no scenario is given."""

from __future__ import annotations

import datetime as dt

from mhhs_workbench.scenario.document import Scenario
from mhhs_workbench.scenario.sections import Event, Messages, Sending


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
