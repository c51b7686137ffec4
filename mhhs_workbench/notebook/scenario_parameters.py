"""A scenario from a notebook's parameters: a scenario file, overrides, and the parameters' own keys."""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Mapping
from typing import Any

from mhhs_workbench.notebook.notes import notes
from mhhs_workbench.scenario.demo import demo_scenario
from mhhs_workbench.scenario.document import Scenario


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` merged in, mappings key by key, everything else replaced."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def build_scenario(
    scenario_file: str | os.PathLike[str] = "",
    overrides: Mapping[str, Any] | None = None,
    *,
    name: str | None = None,
    seed: int | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    meters: int | None = None,
) -> Scenario:
    """The scenario a notebook's parameters describe.

    Parameters
    ----------
    scenario_file : path, optional
        Scenario YAML to start from; empty means the built-in demo scenario.
    overrides : mapping, optional
        Keys of the scenario YAML to change, merged in depth (``{"meters": {"count": 8}}``
        changes the count and keeps the rest of ``meters``).
    name, seed, start_date, end_date : optional
        Shortcuts for the top-level keys of the same names; None keeps the scenario's.
    meters : int, optional
        Shortcut for ``meters.count``.

    Returns
    -------
    Scenario
        The checked scenario.

    Raises
    ------
    mhhs_workbench.scenario.errors.ScenarioError
        If the result is not a valid scenario; the message names the key.
    """
    with notes():  # in a notebook a warning is a note, not a traceback
        return _build_scenario(scenario_file, overrides, name=name, seed=seed, start_date=start_date,
                               end_date=end_date, meters=meters)


def _build_scenario(scenario_file: str | os.PathLike[str], overrides: Mapping[str, Any] | None, *,
                    name: str | None, seed: int | None, start_date: str | None, end_date: str | None,
                    meters: int | None) -> Scenario:
    base = Scenario.from_yaml(scenario_file) if str(scenario_file or "") else demo_scenario()
    data = _merge(base.to_dict(), overrides or {})
    shortcuts = {"name": name, "seed": seed, "start_date": start_date, "end_date": end_date}
    data.update({k: (str(v) if k.endswith("date") else v) for k, v in shortcuts.items() if v is not None})
    if meters is not None:
        data["meters"]["count"] = meters
    if start_date is not None or end_date is not None:
        data["events"] = _events_within(data, base)
    return Scenario.from_dict(data, source="notebook parameters")


def _events_within(data: dict[str, Any], base: Scenario) -> list[dict[str, Any]]:
    """The base scenario's events that still fall inside new dates; the others, with a warning.

    An event of the base scenario (the demo's change of supplier) outside dates the parameters
    moved would make the scenario invalid; an event given in ``overrides`` is kept as given.
    """
    base_events = [e for e in base.to_dict()["events"]]
    kept = []
    for event in data.get("events", []):
        inside = data["start_date"] < str(event["date"]) <= data["end_date"]
        if inside or event not in base_events:
            kept.append(event)
        else:
            warnings.warn(f"the scenario's {event['type']} event on {event['date']} is outside "
                          f"{data['start_date']} ... {data['end_date']} and was left out", stacklevel=3)
    return kept
