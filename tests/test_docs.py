"""What the user reads first: the example scenario explains every key, the README starts them."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from mhhs_workbench.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo.yaml"
KEY = re.compile(r"^(\s*)(?:- )?([a-z_0-9]+):(.*)$")


def _leaf_keys(lines: list[str]) -> list[tuple[int, str, bool]]:
    """(line number, key, commented) of every key that holds a value or a list: commented when
    the line itself or the line above carries a comment."""
    found = []
    for i, line in enumerate(lines):
        match = KEY.match(line)
        if not match:
            continue
        rest = match.group(3).strip()
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if rest == "" and not following.lstrip().startswith("- "):
            continue  # a section: its keys are the leaves
        above = lines[i - 1].strip() if i else ""
        found.append((i + 1, match.group(2), "#" in rest or above.startswith("#")))
    return found


def test_example_scenario_comments_every_key() -> None:
    lines = DEMO.read_text(encoding="utf-8").splitlines()
    explained: set[str] = set()
    silent = []
    for number, key, commented in _leaf_keys(lines):
        if commented:
            explained.add(key)
        elif key not in explained:  # a key repeated under a sibling section is explained once
            silent.append(f"{DEMO.name}:{number}: {key}")
    assert silent == []


def test_example_scenario_lists_every_key() -> None:
    text = DEMO.read_text(encoding="utf-8")

    def names(cls: type) -> set[str]:
        out = set()
        for f in dataclasses.fields(cls):
            out.add(f.name)
            inner = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            if dataclasses.is_dataclass(inner):
                out |= names(type(inner))
        return out

    missing = sorted(k for k in names(Scenario) if not re.search(rf"^\s*#?\s*(- )?{k}:", text, re.M)
                     and f"{k}:" not in text)
    assert missing == []


def test_readme_tells_root_users_how_to_start_jupyterlab() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "jupyter lab --allow-root" in readme


def test_every_example_scenario_loads_and_round_trips() -> None:
    """Each ``examples/*.yaml`` is a valid scenario whose dictionary form loads back to itself."""
    files = sorted((ROOT / "examples").glob("*.yaml"))
    assert {f.name for f in files} >= {"demo.yaml", "every_feature.yaml"}
    for file in files:
        scenario = Scenario.from_yaml(file)
        assert Scenario.from_dict(scenario.to_dict()) == scenario, file.name
