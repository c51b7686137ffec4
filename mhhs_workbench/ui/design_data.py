"""The profile designer's data: a design's year of half hours and what the plots show of it.

:class:`ProfileDesign` holds the choices; :func:`design_profile` turns them into a year of
half-hourly consumption with the package's consumption model; :func:`view_data` cuts that into
what the plots show, beside :func:`archetype_average` and Elexon's class data;
:func:`homes_comparison_png` draws generated homes beside real ones. No widgets here: the panel
over these functions is :class:`~mhhs_workbench.ui.designer.ProfileDesigner`.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mhhs_workbench.codes.identifiers import NATION_BY_GSP_GROUP
from mhhs_workbench.codes.messages import PERIOD_MINUTES
from mhhs_workbench.model.profiles import consumption, default_meters, typical_annual_kwh
from mhhs_workbench.model.profiles.household_figure import comparison_figure
from mhhs_workbench.model.profiles.household_statistics import (
    SAMPLE_FILE,
    compare_homes,
    find_sample,
)
from mhhs_workbench.model.profiles.overlays import overlay_unavailable
from mhhs_workbench.notebook import plots
from mhhs_workbench.time.periods import (
    CLOCK_SLOTS_PER_DAY,
    DAY_TYPES,
    LOCAL_TZ,
    PERIODS_PER_UTC_DAY,
    SEASON_NAMES,
    SEASONS,
    day_range,
    profile_day_types,
    seasons,
)

__all__ = [
    "AVERAGE_SITES",
    "EV_CHARGERS",
    "GENERATION_FIELDS",
    "PROFILE_DAY_TYPES",
    "PV_MAX_KWP",
    "ProfileDesign",
    "archetype_average",
    "design_meters",
    "design_profile",
    "homes_comparison_png",
    "overlay_note",
    "pv_max_kwp",
    "view_data",
]

#: Day types of load profiles (bank holidays count as Sundays), code to label.
PROFILE_DAY_TYPES: dict[str, str] = {"Wd": "Weekday", "Sat": "Saturday", "Sun": "Sunday"}

#: Charger powers offered [kW]; 0 means no electric vehicle (22 kW is a common business charger).
EV_CHARGERS: tuple[float, ...] = (0.0, 3.5, 7.0, 11.0, 22.0)

#: Largest PV offered [kWp]: at least this, more for sites that use more.
PV_MAX_KWP = 12.0

#: Sites averaged into the archetype's average shape.
AVERAGE_SITES = 24


@dataclass(frozen=True)
class ProfileDesign:
    """What the designer is designing: one kind of site and how it is viewed.

    Attributes
    ----------
    archetype : str
        Consumption archetype (one of ``mhhs_workbench.model.profiles.ARCHETYPES``).
    annual_kwh : float or None
        Annual consumption of each site before overlays [kWh]; None draws it around the
        archetype's typical value.
    pv_kwp : float
        Rooftop PV peak power [kWp]; 0 for none.
    ev_kw : float
        Electric vehicle charger power [kW]; 0 for none.
    ev_smart : bool
        Whether the EV charges on a smart tariff (overnight).
    heat_pump_kwh : float
        Annual heat-pump electricity [kWh]; 0 for none.
    sites : int
        Sites generated and averaged. The model has no separate noise knob: each site's own
        variation comes from the seed, and averaging more sites smooths it away.
    seed : int
        Seed of every random draw.
    year : int
        Calendar year generated (UTC days 1 January to 31 December).
    gsp_group : str
        GSP group of the sites (weather and bank holidays depend on it).
    season : str
        Elexon season code viewed in the day and week plots (``Wtr``, ``Spr``, ...).
    day_type : str
        Day type viewed in the day plot: ``Wd``, ``Sat`` or ``Sun``.
    """

    archetype: str = "domestic_unrestricted"
    annual_kwh: float | None = None
    pv_kwp: float = 0.0
    ev_kw: float = 0.0
    ev_smart: bool = False
    heat_pump_kwh: float = 0.0
    sites: int = 1
    seed: int = 1
    year: int = 2025
    gsp_group: str = "_C"
    season: str = "Wtr"
    day_type: str = "Wd"

    @property
    def generation_key(self) -> tuple[Any, ...]:
        """Values of the fields that change the generated data, in :data:`GENERATION_FIELDS` order."""
        return tuple(getattr(self, name) for name in GENERATION_FIELDS)


#: Fields of :class:`ProfileDesign` that change the generated data (the others only the view).
GENERATION_FIELDS: tuple[str, ...] = ("archetype", "annual_kwh", "pv_kwp", "ev_kw", "ev_smart",
                                      "heat_pump_kwh", "sites", "seed", "year", "gsp_group")


# --------------------------------------------------------------------------- computation


def design_meters(design: ProfileDesign) -> pd.DataFrame:
    """The meters a design generates: ``design.sites`` sites, all with the chosen overlays."""
    meters = default_meters(design.sites, archetype=design.archetype, seed=design.seed)
    meters = meters.copy()
    meters["gsp_group"] = design.gsp_group
    meters["annual_kwh"] = np.nan if design.annual_kwh is None else float(design.annual_kwh)
    meters["pv_kwp"] = float(design.pv_kwp)
    meters["ev_kw"] = float(design.ev_kw)
    meters["ev_smart"] = bool(design.ev_smart and design.ev_kw > 0)
    meters["heat_pump_kwh"] = float(design.heat_pump_kwh)
    return meters


def _local_view(period_ends: np.ndarray, gsp_group: str) -> pd.DataFrame:
    """Local clock view of UTC period ends: start time, date, clock slot, season, day type."""
    starts = pd.DatetimeIndex(np.asarray(period_ends, dtype="datetime64[ns]")) - pd.Timedelta(minutes=PERIOD_MINUTES)
    local = starts.tz_localize("UTC").tz_convert(LOCAL_TZ).tz_localize(None)
    dates = local.values.astype("datetime64[D]")
    uniq, inverse = np.unique(dates, return_inverse=True)
    season_codes = np.asarray(SEASONS)[seasons(uniq)][inverse]
    nation = NATION_BY_GSP_GROUP[gsp_group]
    day_codes = np.asarray(DAY_TYPES)[profile_day_types(uniq, nation)][inverse]
    minutes = (local.values - dates.astype("datetime64[ns]")) // np.timedelta64(1, "m")
    return pd.DataFrame({
        "local_start": local,
        "local_date": dates,
        "local_slot": (minutes // 30).astype(np.int64),
        "season": season_codes,
        "day_type": day_codes,
    })


def _profile_frame(period_ends: np.ndarray, import_wh: np.ndarray, export_wh: np.ndarray,
                   gsp_group: str) -> pd.DataFrame:
    frame = _local_view(period_ends, gsp_group)
    frame.insert(0, "import_wh", import_wh)
    frame.insert(1, "export_wh", export_wh)
    frame.index = pd.DatetimeIndex(np.asarray(period_ends, dtype="datetime64[ns]"), name="period_end").tz_localize("UTC")
    return frame


@lru_cache(maxsize=16)
def _design_profile_cached(key: tuple[Any, ...]) -> pd.DataFrame:
    design = ProfileDesign(**dict(zip(GENERATION_FIELDS, key, strict=True)))
    days = day_range(dt.date(design.year, 1, 1), dt.date(design.year, 12, 31))
    result = consumption(design_meters(design), days, design.seed)
    return _profile_frame(result.period_ends, result.import_wh.mean(axis=0),
                          result.export_wh.mean(axis=0), design.gsp_group)


def design_profile(design: ProfileDesign) -> pd.DataFrame:
    """A year of the design's half hours, averaged over its sites.

    Parameters
    ----------
    design : ProfileDesign
        What to generate.

    Returns
    -------
    pandas.DataFrame
        One row per UTC half hour of ``design.year``, indexed by the period end (UTC), with
        ``import_wh`` and ``export_wh`` (mean per site [Wh]), and the local view: ``local_start``
        (naive local clock time the period starts), ``local_date``, ``local_slot`` (0-47 on the
        local clock), ``season`` (Elexon code) and ``day_type`` (``Wd``, ``Sat``, ``Sun``; bank
        holidays as ``Sun``). Results are cached; treat the frame as read-only.
    """
    return _design_profile_cached(design.generation_key)


@lru_cache(maxsize=8)
def archetype_average(archetype: str, year: int, gsp_group: str = "_C") -> pd.DataFrame:
    """The archetype's average: :data:`AVERAGE_SITES` typical sites without overlays, averaged.

    Returns the same layout as :func:`design_profile`.
    """
    design = ProfileDesign(archetype=archetype, sites=AVERAGE_SITES, seed=0, year=year, gsp_group=gsp_group)
    return design_profile(design)


@lru_cache(maxsize=2)
def _homes_png(sample_folder: str, modified_ns: int) -> bytes:
    """PNG of the real-versus-generated homes figure (cached per sample file and its mtime)."""
    return plots.figure_png(comparison_figure(compare_homes(sample_folder)))


def homes_comparison_png(reference_dir: str | os.PathLike[str] | None) -> tuple[bytes | None, str]:
    """A year of generated homes beside the real household sample, for the reference view.

    Parameters
    ----------
    reference_dir : path or None
        The reference folder, or its ``profiles`` sub-folder (the Elexon data folder), holding
        ``households/lcl_2013_50_homes.parquet``.

    Returns
    -------
    png : bytes or None
        The figure (a week of three real and three generated homes, and the per-home
        statistics), or None when the sample is not there.
    note : str
        What is shown, or why nothing is.
    """
    if not reference_dir or not str(reference_dir).strip():
        return None, ("Real homes: give the reference data folder to compare a year of generated "
                      "homes with 50 real London homes.")
    folder = find_sample(Path(str(reference_dir).strip()))
    if folder is None:
        return None, (f"Real homes: no {SAMPLE_FILE.as_posix()} in or beside {reference_dir}; "
                      "the comparison with real homes is not shown.")
    sample = folder / SAMPLE_FILE
    png = _homes_png(str(folder), sample.stat().st_mtime_ns)
    return png, (f"Real homes: a year of 80 generated PC1 homes against the 50 London homes of "
                 f"{sample.name} (see docs/homes.md).")


def _day_curve(frame: pd.DataFrame, column: str, season: str, day_type: str) -> np.ndarray:
    """Mean power [kW] per local clock slot over the days of a season and day type."""
    sel = frame[(frame["season"] == season) & (frame["day_type"] == day_type)]
    curve = sel.groupby("local_slot")[column].mean().reindex(range(CLOCK_SLOTS_PER_DAY))
    return curve.to_numpy(dtype=float) / 500.0


def _first_week(frame: pd.DataFrame, season: str) -> pd.DataFrame:
    """The first Monday-to-Sunday week of local days wholly in a season (else its first 7 days)."""
    days = np.unique(frame.loc[frame["season"] == season, "local_date"].to_numpy())
    if days.size == 0:
        return frame.iloc[:0]
    in_season = set(days.tolist())
    start = days[0]
    for day in days:
        week = [day + np.timedelta64(k, "D") for k in range(7)]
        if pd.Timestamp(day).weekday() == 0 and all(w in in_season for w in week):
            start = day
            break
    end = start + np.timedelta64(7, "D")
    return frame[(frame["local_date"] >= start) & (frame["local_date"] < end)]


def view_data(design: ProfileDesign, profile: pd.DataFrame, average: pd.DataFrame,
              reference: pd.DataFrame | None = None) -> dict[str, Any]:
    """What the designer's plots show, as plain data.

    Parameters
    ----------
    design : ProfileDesign
        The design (its ``season`` and ``day_type`` choose the day and week viewed).
    profile : pandas.DataFrame
        The design's year (:func:`design_profile`).
    average : pandas.DataFrame
        The archetype's average year (:func:`archetype_average`).
    reference : pandas.DataFrame, optional
        Elexon's profile class data (``mhhs_workbench.model.profiles.reference_profile``) [kW].

    Returns
    -------
    dict
        ``day``: label to 48 values [kW] on the local clock (the designed import and export, the
        archetype average, Elexon's class average); ``shapes``: the same import curves each
        divided by its mean; ``week``: label to series [kW] indexed by local start time;
        ``year``: (days x 48) import matrix [kW] by UTC day and half hour; ``first_day``;
        ``titles``; ``annual_import_kwh`` and ``annual_export_kwh`` per site.
    """
    season, day_type = design.season, design.day_type
    label = f"{SEASON_NAMES[season]} {PROFILE_DAY_TYPES[day_type].lower()}"
    designed = _day_curve(profile, "import_wh", season, day_type)
    day = {"designed import": designed}
    if design.pv_kwp > 0:
        day["designed export"] = _day_curve(profile, "export_wh", season, day_type)
    day["archetype average"] = _day_curve(average, "import_wh", season, day_type)
    shapes = {"designed import": designed, "archetype average": day["archetype average"]}
    if reference is not None:
        elexon = reference[f"{season} {day_type}"].to_numpy(dtype=float)
        day["Elexon class average (1997)"] = elexon
        shapes["Elexon class average (1997)"] = elexon
    shapes = {k: v / np.nanmean(v) if np.nanmean(v) > 0 else v for k, v in shapes.items()}

    week_rows = _first_week(profile, season)
    week = {"import": pd.Series(week_rows["import_wh"].to_numpy() / 500.0, index=week_rows["local_start"])}
    if design.pv_kwp > 0:
        week["export"] = pd.Series(week_rows["export_wh"].to_numpy() / 500.0, index=week_rows["local_start"])

    year = profile["import_wh"].to_numpy(dtype=float).reshape(-1, PERIODS_PER_UTC_DAY) / 500.0
    first_day = profile.index[0].tz_convert(None).floor("D").to_datetime64().astype("datetime64[D]")
    sites = "1 site" if design.sites == 1 else f"mean of {design.sites} sites"
    return {
        "day": day,
        "shapes": shapes,
        "week": week,
        "year": year,
        "first_day": first_day,
        "titles": {
            "day": f"{label}: mean day ({sites})",
            "shapes": f"{label}: shape (each curve / its mean)",
            "week": f"First full {SEASON_NAMES[season]} week, local time",
            "year": f"{design.year} import, UTC days x half hours",
        },
        "annual_import_kwh": float(profile["import_wh"].sum() / 1000.0),
        "annual_export_kwh": float(profile["export_wh"].sum() / 1000.0),
    }


def pv_max_kwp(archetype: str) -> float:
    """Largest PV the designer offers an archetype [kWp]: 1 kWp per MWh of its typical annual
    consumption, at least :data:`PV_MAX_KWP`."""
    return float(max(PV_MAX_KWP, round(typical_annual_kwh(archetype) / 1000.0)))


def overlay_note(archetype: str) -> str:
    """Why overlays are switched off for an archetype, in words ("" when all are allowed)."""
    reasons = overlay_unavailable(archetype)
    name = archetype.replace("_", " ")
    if all(reasons.values()):
        return f"Overlays are off for {name}: {reasons['pv_kwp']}."
    words = {"pv_kwp": "PV", "ev_kw": "EV charging", "heat_pump_kwh": "Heat pump"}
    return " ".join(f"{words[k]} is off for {name}: {r}." for k, r in reasons.items() if r)
