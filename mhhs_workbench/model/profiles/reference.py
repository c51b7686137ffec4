"""Readers for the external reference data sets, used by calibration, tests and plots only.

The generator never needs these files: it runs from the fitted parameters in
``parameters.json``. The reference folder holds Elexon's profile class averages
(``elexon_profile_class_N.csv``) and the 2013 heating technology shares
(``heating_technologies_2013.csv``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mhhs_workbench.codes.archetypes import archetype_spec
from mhhs_workbench.time.periods import CLOCK_SLOTS_PER_DAY, SEASONS

#: Profile day types in column order.
PROFILE_DAY_TYPES: tuple[str, ...] = ("Wd", "Sat", "Sun")

#: The 15 season x day-type columns in model order (season index * 3 + day type).
PROFILE_COLUMNS: tuple[str, ...] = tuple(f"{s} {t}" for s in SEASONS for t in PROFILE_DAY_TYPES)

#: Elexon's profile class files, one per class 1-8, in class order.
CLASS_FILES: tuple[str, ...] = tuple(f"elexon_profile_class_{pc}.csv" for pc in range(1, 9))
HEATING_FILE = "heating_technologies_2013.csv"
TEMPERATURE_COLUMN = "UK_daily_average_OAT_[degrees_C]"


def profile_class_of(archetype_or_class: str | int) -> int:
    """Elexon profile class 1-8 of an archetype name or class number."""
    if isinstance(archetype_or_class, (int, np.integer)):
        pc = int(archetype_or_class)
    else:
        text = str(archetype_or_class)
        found = int(text) if text.isdigit() else archetype_spec(text).profile_class
        if found is None:
            raise ValueError(f"archetype {text!r} has no Elexon profile class")
        pc = found
    if not 1 <= pc <= 8:
        raise ValueError(f"profile class must be 1-8, got {pc}")
    return pc


def reference_profile(archetype_or_class: str | int, folder: str | Path) -> pd.DataFrame:
    """Elexon's average demand per customer for a profile class [kW].

    Parameters
    ----------
    archetype_or_class : str or int
        Archetype name (e.g. ``'domestic_economy7'``) or profile class number 1-8.
    folder : str or pathlib.Path
        Folder holding ``elexon_profile_class_N.csv``.

    Returns
    -------
    pandas.DataFrame
        48 rows indexed by ``Time`` (period end, local clock, ``'00:30'`` ... ``'24:00'``) and the
        15 columns of :data:`PROFILE_COLUMNS` [kW].

    Raises
    ------
    FileNotFoundError
        If the file is missing.
    ValueError
        If it does not have 48 rows and the 15 columns.
    """
    pc = profile_class_of(archetype_or_class)
    path = Path(folder) / CLASS_FILES[pc - 1]
    if not path.is_file():
        raise FileNotFoundError(f"{path}: reference profile not found")
    df = pd.read_csv(path, dtype={"Time": str})
    missing = [c for c in ("Time", *PROFILE_COLUMNS) if c not in df.columns]
    if missing or len(df) != CLOCK_SLOTS_PER_DAY:
        raise ValueError(
            f"{path}: expected {CLOCK_SLOTS_PER_DAY} rows and columns Time + 15 season/day-type columns; "
            f"got {len(df)} rows, missing {missing}"
        )
    out = df.set_index("Time")[list(PROFILE_COLUMNS)].astype(np.float64)
    out.columns.name = "column"
    return out


def reference_heating(folder: str | Path) -> pd.DataFrame:
    """The 2013 heating technology shares, indexed by half-hour start (local clock).

    Parameters
    ----------
    folder : str or pathlib.Path
        Folder holding ``heating_technologies_2013.csv``.

    Returns
    -------
    pandas.DataFrame
        Columns as in the file, including ``Normalised_ASHP_elec`` (share of annual energy per
        half hour [-]) and :data:`TEMPERATURE_COLUMN` (UK daily mean outside temperature [°C]).
    """
    path = Path(folder) / HEATING_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: reference heating data not found")
    df = pd.read_csv(path, parse_dates=["timestamp_start"])
    if "Normalised_ASHP_elec" not in df.columns or TEMPERATURE_COLUMN not in df.columns:
        raise ValueError(f"{path}: missing Normalised_ASHP_elec or {TEMPERATURE_COLUMN}")
    return df.set_index("timestamp_start")


def reference_heat_pump_daily(folder: str | Path) -> pd.DataFrame:
    """Daily ASHP electricity (share of the year, mean day = 1) and daily temperature, 2013.

    Returns
    -------
    pandas.DataFrame
        Indexed by date; columns ``elec`` [-] (relative to the year's mean day) and
        ``temperature_c`` [°C].
    """
    df = reference_heating(folder)
    day = df.index.normalize()
    g = df.groupby(day).agg(
        elec=("Normalised_ASHP_elec", "sum"), temperature_c=(TEMPERATURE_COLUMN, "mean")
    )
    g["elec"] = g["elec"] / g["elec"].mean()
    g.index.name = "date"
    return g


def reference_temperature(folder: str | Path) -> pd.Series:
    """The 2013 UK daily mean outside temperature of the heating reference [°C]."""
    s = reference_heat_pump_daily(folder)["temperature_c"].copy()
    s.name = "temperature_c"
    return s
