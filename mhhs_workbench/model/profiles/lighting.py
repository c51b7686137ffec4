"""Unmetered street lighting: lamps on from dusk to dawn at the GSP group's latitude.

Photocells switch at slightly different light levels, and many councils switch some lanterns
off in the small hours ("part-night" lighting). Each supply is one of three variants:

* row 0: all-night, switching at a solar elevation of -1° (darker photocell), 40 % of supplies;
* row 1: all-night, switching at +1° (lighter photocell), 40 %;
* row 2: part-night, switching at 0° and off from 00:30 to 05:30 local clock, 20 %.

The lamps draw constant power while on, so the shape is the dark fraction of each half hour;
the level comes from the supply's annual consumption (no noise: unmetered supplies are
settled from their inventory).
"""

from __future__ import annotations

import numpy as np

from mhhs_workbench.codes.identifiers import LATITUDE_BY_GSP_GROUP, LONGITUDE_BY_GSP_GROUP
from mhhs_workbench.model.profiles.shapes import BASIS_QUANTUM, quantise
from mhhs_workbench.model.profiles.solar import dark_fraction
from mhhs_workbench.model.profiles.timegrid import TimeGrid
from mhhs_workbench.model.randomness import Stream, meter_uniform

#: (switching elevation [deg], part-night) of each variant row, and the variants' shares.
LIGHTING_VARIANTS: tuple[tuple[float, bool], ...] = ((-1.0, False), (1.0, False), (0.0, True))
LIGHTING_SHARES: tuple[float, ...] = (0.4, 0.4, 0.2)
#: Local clock slots during which part-night lanterns are off (00:30-05:30).
PART_NIGHT_OFF_SLOTS = (1, 11)


def lighting_basis(grid: TimeGrid, gsp_group: str) -> np.ndarray:
    """Dark fraction of every half hour for each variant row [-], quantised.

    Returns
    -------
    numpy.ndarray, shape ``(3, grid.n_periods)``
    """
    lat, lon = LATITUDE_BY_GSP_GROUP[gsp_group], LONGITUDE_BY_GSP_GROUP[gsp_group]
    lo, hi = PART_NIGHT_OFF_SLOTS
    off = (grid.local_slots >= lo) & (grid.local_slots < hi)
    rows = []
    for elevation, part_night in LIGHTING_VARIANTS:
        dark = dark_fraction(grid.period_ends, lat, lon, elevation)
        rows.append(np.where(off, 0.0, dark) if part_night else dark)
    return quantise(np.stack(rows), BASIS_QUANTUM)


def lighting_weights(seed: int, meter_index: np.ndarray) -> np.ndarray:
    """One-hot choice of lighting variant per supply, shape ``(n, 3)``."""
    u = meter_uniform(seed, np.asarray(meter_index, dtype=np.int64), Stream.LIGHTING_VARIANT)
    choice = np.searchsorted(np.cumsum(LIGHTING_SHARES), u, side="right")
    choice = np.minimum(choice, len(LIGHTING_SHARES) - 1)
    return np.eye(len(LIGHTING_SHARES))[choice]
