"""How a scenario's errors read: the error and note types, and bounded, located wording.

Every message names the place that is wrong (``file:line`` where the scenario came from YAML,
and the dotted key path) and echoes at most :data:`~mhhs_workbench.scenario.limits.SHOW_CHARS`
characters of any value the user gave.
"""

from __future__ import annotations

import math
import reprlib
from typing import Any

import yaml

from mhhs_workbench.scenario.limits import INT_MIN, SEED_LIMIT, SHOW_CHARS


class ScenarioError(ValueError):
    """A scenario that cannot be used, with the place that is wrong."""


class ScenarioNote(UserWarning):
    """A scenario setting that is accepted but read differently from how it is written."""


def located(source: str, node: yaml.Node | None, path: tuple[str, ...]) -> str:
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


_REPR = reprlib.Repr()
# bounded in depth and width, so even a value with shared references (a Python-side "billion
# laughs") is shown in constant time
_REPR.maxlevel = 3
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxdict = 6
_REPR.maxstring = _REPR.maxother = SHOW_CHARS
_REPR.maxlong = 40


def show(value: Any) -> str:
    """``repr`` of a user's value, at most :data:`SHOW_CHARS` characters (cut with ``...``)."""
    try:
        text = _REPR.repr(value)
    except ValueError:  # an int beyond Python's 4300-digit str() limit
        text = f"<integer of about {int(value.bit_length() * 0.30103)} digits>"
    return clip(text)


def clip(text: str) -> str:
    """``text`` on one line and at most :data:`SHOW_CHARS` characters (cut with ``...``)."""
    text = text if text.isprintable() else repr(text)[1:-1]
    return text if len(text) <= SHOW_CHARS else text[: SHOW_CHARS - 3] + "..."


def dotted(path: tuple[str, ...]) -> str:
    """A key path as ``meters.count``, bounded like any echoed value."""
    return clip(".".join(path))


def number_problem(value: Any) -> str | None:
    """Why a number cannot be in a scenario (not finite, or too big for the manifest), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if isinstance(value, int) and not INT_MIN <= value < SEED_LIMIT:
        return "is out of range (integers are 64-bit)"
    return None

