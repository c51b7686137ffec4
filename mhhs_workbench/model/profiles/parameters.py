"""Access to the model's calibrated parameters (``parameters.json`` next to this module).

The file is written by ``scripts/calibrate_profiles.py`` (see
:mod:`mhhs_workbench.model.profiles.calibration`); it holds fitted coefficients, never the reference
data itself.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

PARAMETERS_PATH = Path(__file__).with_name("parameters.json")


@lru_cache(maxsize=1)
def parameters() -> dict[str, Any]:
    """The calibrated parameters (read once and cached; treat as read-only)."""
    with PARAMETERS_PATH.open(encoding="utf-8") as fh:
        return json.load(fh)


def class_parameters(profile_class: int) -> dict[str, Any]:
    """Fitted parameters of one Elexon profile class 1-8."""
    return parameters()["classes"][str(profile_class)]
