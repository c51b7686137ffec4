"""The profile designer: one kind of site, a year of its half hours, seen four ways.

:class:`ProfileDesign` holds the choices; :func:`design_profile` turns them into a year of
half-hourly consumption with the package's consumption model; :func:`view_data` cuts that into
what the plots show. :class:`ProfileDesigner` is the ipywidgets panel over those functions: every
control change regenerates the profile (when it affects it) and re-renders a static matplotlib
figure into an ``Output`` widget.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mhhs_workbench.codes.identifiers import GSP_GROUP_NAMES, GSP_GROUPS, NATION_BY_GSP_GROUP
from mhhs_workbench.notebook import plots
from mhhs_workbench.notebook.reference_folder import reference_state
from mhhs_workbench.scenario.description import MeterMix, Scenario, ScenarioError
from mhhs_workbench.time.periods import (
    DAY_TYPES,
    LOCAL_TZ,
    SEASON_NAMES,
    SEASONS,
    day_range,
    profile_day_types,
    seasons,
)
from mhhs_workbench.ui.common import DESCRIPTION_STYLE, control_layout, show_png, status_html, tag
from mhhs_workbench.ui.scenario_form import ScenarioForm

__all__ = [
    "EV_CHARGERS",
    "GENERATION_FIELDS",
    "PROFILE_DAY_TYPES",
    "ProfileDesign",
    "ProfileDesigner",
    "archetype_average",
    "design_meters",
    "design_profile",
    "homes_comparison_png",
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


def _profiles():
    # imported late: the consumption model is the heaviest import of the package
    from mhhs_workbench.model import profiles

    return profiles


def design_meters(design: ProfileDesign) -> pd.DataFrame:
    """The meters a design generates: ``design.sites`` sites, all with the chosen overlays."""
    meters = _profiles().default_meters(design.sites, archetype=design.archetype, seed=design.seed)
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
    starts = pd.DatetimeIndex(np.asarray(period_ends, dtype="datetime64[ns]")) - pd.Timedelta(minutes=30)
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
    result = _profiles().consumption(design_meters(design), days, design.seed)
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
    from mhhs_workbench.model.profiles.household_figure import comparison_figure
    from mhhs_workbench.model.profiles.household_statistics import compare_homes

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
    from mhhs_workbench.model.profiles.household_statistics import SAMPLE_FILE, find_sample

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
    curve = sel.groupby("local_slot")[column].mean().reindex(range(48))
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

    year = profile["import_wh"].to_numpy(dtype=float).reshape(-1, 48) / 500.0
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


# --------------------------------------------------------------------------- the panel


def _note(text: str) -> widgets.HTML:
    """A small explanatory paragraph under the controls."""
    return widgets.HTML(f'<div style="font-size:0.9em;line-height:1.35;color:#555">{text}</div>',
                        layout=widgets.Layout(width="100%"))


def _scenario_file(archetype: str) -> Path:
    """Where the designer proposes to save a design: ``<archetype>.yaml`` in the workspace."""
    from mhhs_workbench.notebook.workspace import workspace_dir

    return workspace_dir() / f"{archetype}.yaml"


def pv_max_kwp(archetype: str) -> float:
    """Largest PV the designer offers an archetype [kWp]: 1 kWp per MWh of its typical annual
    consumption, at least :data:`PV_MAX_KWP`."""
    return float(max(PV_MAX_KWP, round(_profiles().typical_annual_kwh(archetype) / 1000.0)))


def overlay_note(archetype: str) -> str:
    """Why overlays are switched off for an archetype, in words ("" when all are allowed)."""
    from mhhs_workbench.model.profiles.overlays import overlay_unavailable

    reasons = overlay_unavailable(archetype)
    name = archetype.replace("_", " ")
    if all(reasons.values()):
        return f"Overlays are off for {name}: {reasons['pv_kwp']}."
    words = {"pv_kwp": "PV", "ev_kw": "EV charging", "heat_pump_kwh": "Heat pump"}
    return " ".join(f"{words[k]} is off for {name}: {r}." for k, r in reasons.items() if r)


class ProfileDesigner:
    """Widget panel to design one kind of site and see its half-hourly consumption.

    Parameters
    ----------
    design : ProfileDesign, optional
        Initial choices; keyword arguments override its fields (``archetype=...``).
    reference_dir : path, optional
        Folder of Elexon's ``elexon_profile_class_N.csv``, to compare with; empty for none.
        When it (or the folder above it) holds the household sample
        (``households/lcl_2013_50_homes.parquet``), the reference view also compares a year
        of generated homes with those real ones (:func:`homes_comparison_png`); otherwise a
        note says why not.
    render : bool
        Generate and draw at once (False leaves it to the first :meth:`refresh`).
    **changes
        Fields of :class:`ProfileDesign`.

    Attributes
    ----------
    controls : dict of str to ipywidgets.Widget
        The controls by :class:`ProfileDesign` field name (plus ``reference_dir`` and
        ``scenario_path``); set their ``value`` to drive the panel from code.
    widget : ipywidgets.VBox
        The whole panel, to display.
    image_png : bytes
        The PNG the panel shows now (empty when the design could not be drawn).
    overlay_note : ipywidgets.HTML
        Why overlays the archetype cannot carry are switched off (empty when all are offered).

    Examples
    --------
    >>> designer = ProfileDesigner(archetype="domestic_economy7", pv_kwp=4.0)  # doctest: +SKIP
    >>> designer.controls["annual_kwh"].value = 6000                          # doctest: +SKIP
    >>> designer.plot_data()["day"]["designed import"]                          # doctest: +SKIP
    """

    def __init__(self, design: ProfileDesign | None = None, *, reference_dir: str | os.PathLike[str] = "",
                 scenario_file: str | os.PathLike[str] = "", render: bool = True, **changes: Any) -> None:
        design = dataclasses.replace(design or ProfileDesign(), **changes)
        profiles = _profiles()
        self._updating = False
        self._loaded: Scenario | None = None
        self._load_listeners: list[Callable[[Scenario], None]] = []
        self.image_png: bytes = b""
        self._last_error: str = ""

        annual = design.annual_kwh if design.annual_kwh is not None else profiles.typical_annual_kwh(design.archetype)
        c: dict[str, widgets.Widget] = {}
        wide = control_layout
        c["archetype"] = tag(widgets.Dropdown(
            options=[(a.replace("_", " "), a) for a in profiles.ARCHETYPES], value=design.archetype,
            description="Archetype", style=DESCRIPTION_STYLE, layout=wide()), "archetype")
        c["annual_kwh"] = tag(widgets.BoundedFloatText(
            value=float(annual), min=1.0, max=100_000_000.0, step=100.0, description="Annual kWh",
            tooltip="Annual consumption of each site before PV, EV and heat pump",
            style=DESCRIPTION_STYLE, layout=wide()), "annual-kwh")
        c["pv_kwp"] = tag(widgets.FloatSlider(
            value=design.pv_kwp, min=0.0, max=max(pv_max_kwp(design.archetype), design.pv_kwp), step=0.5,
            description="PV kWp", continuous_update=False, style=DESCRIPTION_STYLE, layout=wide()), "pv-kwp")
        c["ev_kw"] = tag(widgets.Dropdown(
            options=[("none", 0.0)] + [(f"{k:g} kW", k) for k in EV_CHARGERS if k > 0],
            value=design.ev_kw, description="EV charger", style=DESCRIPTION_STYLE, layout=wide()), "ev-kw")
        c["ev_smart"] = tag(widgets.Checkbox(
            value=design.ev_smart, description="Smart charging", indent=True,
            style=DESCRIPTION_STYLE, layout=wide()), "ev-smart")
        c["heat_pump_kwh"] = tag(widgets.FloatSlider(
            value=design.heat_pump_kwh, min=0.0, max=12_000.0, step=250.0, description="Heat pump kWh/yr",
            continuous_update=False, style=DESCRIPTION_STYLE, layout=wide()), "heat-pump-kwh")
        c["sites"] = tag(widgets.IntSlider(
            value=design.sites, min=1, max=50, description="Sites averaged",
            tooltip="1 shows one site with all its own noise; more sites average it away",
            continuous_update=False, style=DESCRIPTION_STYLE, layout=wide()), "sites")
        c["seed"] = tag(widgets.IntText(value=design.seed, description="Seed", style=DESCRIPTION_STYLE,
                                        layout=wide()), "seed")
        c["year"] = tag(widgets.BoundedIntText(
            value=design.year, min=2000, max=2100, description="Year", style=DESCRIPTION_STYLE,
            layout=wide()), "year")
        c["gsp_group"] = tag(widgets.Dropdown(
            options=[(f"{g} {GSP_GROUP_NAMES[g]}", g) for g in GSP_GROUPS], value=design.gsp_group,
            description="GSP group", style=DESCRIPTION_STYLE, layout=wide()), "gsp-group")
        c["season"] = tag(widgets.Dropdown(
            options=[(SEASON_NAMES[s], s) for s in SEASONS], value=design.season,
            description="Season viewed", style=DESCRIPTION_STYLE, layout=wide()), "season")
        c["day_type"] = tag(widgets.Dropdown(
            options=[("Weekday", "Wd"), ("Saturday", "Sat"), ("Sunday, bank holiday", "Sun")],
            value=design.day_type, description="Day viewed", style=DESCRIPTION_STYLE, layout=wide()),
            "day-type")
        # the folder given, else one found where reference data usually is (empty when none is)
        found = reference_state(reference_dir)
        c["reference_dir"] = tag(widgets.Text(
            value=str(found.folder if found.folder is not None and not found.given else reference_dir or ""),
            description="Elexon data folder",
            placeholder="folder with elexon_profile_class_N.csv", continuous_update=False,
            style=DESCRIPTION_STYLE, layout=wide()), "reference-dir")
        c["scenario_path"] = tag(widgets.Text(
            value=str(_scenario_file(design.archetype)), description="Scenario file", style=DESCRIPTION_STYLE,
            layout=wide()), "scenario-path")
        self.controls = c

        self.save_button = tag(widgets.Button(description="Save as scenario", icon="save"), "save-scenario")
        self.save_button.on_click(lambda _: self._save_clicked())
        self.load_button = tag(widgets.Button(description="Load scenario", icon="folder-open"), "load-scenario")
        self.load_button.on_click(lambda _: self._load_clicked())
        self.reference_state = tag(widgets.HTML(layout=widgets.Layout(width="100%")), "reference-state")
        self.save_status = tag(widgets.HTML(), "save-status")
        self.status = tag(widgets.HTML(), "designer-status")
        self.plot = tag(widgets.Output(layout=widgets.Layout(min_height="760px", width="100%")), "plot")
        self.overlay_note = tag(widgets.HTML(layout=widgets.Layout(width="100%")), "overlay-note")
        self.homes_note = tag(widgets.HTML(), "homes-note")
        self.homes = tag(widgets.Output(), "homes")
        self.homes_png: bytes | None = None
        self._homes_folder: str | None = None

        noise_note = _note(
            "The model has no separate noise knob: each site's own variation comes from the seed. "
            "<i>Sites averaged</i> = 1 shows one site; more sites smooth it toward the archetype.")
        note_scenario = _note(
            "A saved scenario keeps the design and the <i>Data set</i> form below (fleet, data "
            "quality, supplier change, participants); annual kWh is then drawn around the "
            "archetype's typical value. <i>Load scenario</i> reads a scenario file back: the "
            "designer shows its largest archetype and the form holds all of it.")
        # three columns of controls over the plots: two columns and the plots' full width at
        # 1280 px, all three side by side from about 1600 px
        column = widgets.Layout(width="30em", margin="0 2em 0 0")
        controls = widgets.HBox([
            widgets.VBox([widgets.HTML("<b>Site</b>"), c["archetype"], c["annual_kwh"], c["gsp_group"],
                          widgets.HTML("<b>Overlays</b>"), c["pv_kwp"], c["ev_kw"], c["ev_smart"],
                          c["heat_pump_kwh"], self.overlay_note], layout=column),
            widgets.VBox([widgets.HTML("<b>Individuality</b>"), c["sites"], c["seed"], noise_note,
                          widgets.HTML("<b>View</b>"), c["year"], c["season"], c["day_type"],
                          c["reference_dir"], self.reference_state], layout=column),
            widgets.VBox([widgets.HTML("<b>Scenario file</b>"), c["scenario_path"],
                          widgets.HBox([self.save_button, self.load_button]), self.save_status,
                          note_scenario], layout=column),
        ], layout=widgets.Layout(flex_flow="row wrap", width="100%"))
        self.widget = tag(widgets.VBox([
            widgets.HTML("<h3 style='margin:0'>Profile designer</h3>"),
            controls, self.status, self.plot, self.homes_note, self.homes,
        ], layout=widgets.Layout(width="100%")), "designer")
        self._apply_archetype(design.archetype)
        self.form = ScenarioForm(self._base_scenario())
        self.form.on_change(self._sync_form)  # re-ticking "designed kind only" shows the design again

        for name, control in c.items():
            if name != "scenario_path":
                control.observe(self._changed(name), names="value")
        if str(scenario_file or "").strip():
            self.load_scenario(scenario_file, render=False)
        if render:
            self.refresh()
        else:
            self._sync_form()  # the form shows the designed fleet from the start

    # ------------------------------------------------------------------ pure API

    @property
    def design(self) -> ProfileDesign:
        """The design the controls describe now (an overlay the archetype cannot carry is 0)."""
        from mhhs_workbench.model.profiles.overlays import overlay_unavailable

        c = self.controls
        off = overlay_unavailable(c["archetype"].value)

        def size(name: str) -> float:
            return 0.0 if off[name] else float(c[name].value)

        ev_kw = size("ev_kw")
        return ProfileDesign(
            archetype=c["archetype"].value, annual_kwh=float(c["annual_kwh"].value),
            pv_kwp=size("pv_kwp"), ev_kw=ev_kw, ev_smart=bool(c["ev_smart"].value) and ev_kw > 0,
            heat_pump_kwh=size("heat_pump_kwh"), sites=int(c["sites"].value),
            seed=int(c["seed"].value), year=int(c["year"].value), gsp_group=c["gsp_group"].value,
            season=c["season"].value, day_type=c["day_type"].value)

    @property
    def reference_dir(self) -> Path | None:
        """The Elexon data folder in use: the one given, else the one found where reference data
        usually is (:mod:`mhhs_workbench.notebook.reference_folder`), or None."""
        return reference_state(self.controls["reference_dir"].value).folder

    def profile(self) -> pd.DataFrame:
        """The generated year for the current design (see :func:`design_profile`)."""
        return design_profile(self.design)

    def reference(self) -> pd.DataFrame | None:
        """Elexon's profile class data for the archetype, if a folder is given and has it [kW].

        Raises
        ------
        FileNotFoundError, ValueError
            If the folder lacks the file or the file is malformed.
        """
        folder = self.reference_dir
        if folder is None:
            return None
        design = self.design
        profiles = _profiles()
        if design.archetype == "unmetered_street_lighting":
            return None  # street lighting has no Elexon profile class
        return profiles.reference_profile(design.archetype, folder)

    def plot_data(self) -> dict[str, Any]:
        """What the plots show (see :func:`view_data`)."""
        design = self.design
        try:
            reference = self.reference()
        except (OSError, ValueError):
            reference = None
        return view_data(design, design_profile(design), archetype_average(design.archetype, design.year,
                                                                          design.gsp_group), reference)

    def figure(self) -> Figure:
        """The four views of the current design as one matplotlib figure."""
        return plots.designer_figure(self.plot_data())

    def to_scenario(self, base: Scenario | None = None) -> Scenario:
        """The scenario to export: the design, and the *Data set* form's keys.

        While the form's *Only the designed kind of site* is ticked, the fleet is the design:
        ``meters.archetypes: {name: 1.0}`` and each overlay a share of 1.0 with its size, or 0.0:
        for homes ``pv_share``, ``pv_kwp: [kWp, kWp]``, ``ev_share``, ``heat_pump_share`` and
        ``heat_pump_kwh``; for other metered sites ``non_domestic_pv_share``,
        ``non_domestic_pv_kwp_per_mwh`` (the kWp over the archetype's typical annual MWh, which
        gives back the kWp) and ``non_domestic_ev_share``; EV charger ``ev_kw: [kW]`` and
        ``ev_smart_share`` for both; the design's GSP group. Otherwise the form's fleet is used
        as it stands. The form's data quality, change of supplier, environment tag and
        participants always apply; the seed is the design's. A scenario has no annual
        consumption per archetype, so sites there draw theirs around the archetype's typical
        value.

        Parameters
        ----------
        base : Scenario, optional
            Scenario to take everything else from; default the scenario last loaded
            (:meth:`load_scenario`), else the package defaults.

        Raises
        ------
        mhhs_workbench.scenario.description.ScenarioError
            If the design and the form make no valid scenario.
        """
        base = base or self._base_scenario()
        scenario = self.form.apply(base, self._designed_meters(base.meters))
        scenario = dataclasses.replace(scenario, seed=self.design.seed)
        scenario.check("designed profile")
        return scenario

    def _base_scenario(self) -> Scenario:
        """The scenario loaded last, else the package defaults named after the design."""
        if self._loaded is not None:
            return self._loaded
        d = self.design
        return Scenario(name=f"designed_{d.archetype}", seed=d.seed)

    def _designed_meters(self, m: MeterMix) -> MeterMix:
        """``m`` with the design as its whole fleet (see :meth:`to_scenario`)."""
        d = self.design
        profiles = _profiles()
        home = profiles.archetype_spec(d.archetype).domestic
        pv = 1.0 if d.pv_kwp > 0 else 0.0
        ev = 1.0 if d.ev_kw > 0 else 0.0
        per_mwh = d.pv_kwp / (profiles.typical_annual_kwh(d.archetype) / 1000.0)
        return dataclasses.replace(
            m,
            archetypes={d.archetype: 1.0},
            gsp_groups=[d.gsp_group],
            pv_share=pv if home else 0.0,
            pv_kwp=[d.pv_kwp, d.pv_kwp] if d.pv_kwp > 0 and home else list(m.pv_kwp),
            non_domestic_pv_share=0.0 if home else pv,
            non_domestic_pv_kwp_per_mwh=([per_mwh, per_mwh] if d.pv_kwp > 0 and not home
                                         else list(m.non_domestic_pv_kwp_per_mwh)),
            ev_share=ev if home else 0.0,
            non_domestic_ev_share=0.0 if home else ev,
            ev_kw=[d.ev_kw] if d.ev_kw > 0 else list(m.ev_kw),
            ev_smart_share=1.0 if d.ev_kw > 0 and d.ev_smart else 0.0,
            heat_pump_share=1.0 if d.heat_pump_kwh > 0 else 0.0,
            heat_pump_kwh=d.heat_pump_kwh if d.heat_pump_kwh > 0 else m.heat_pump_kwh,
        )

    def load_scenario(self, path: str | os.PathLike[str] | None = None, *, render: bool = True) -> Scenario:
        """Read a scenario file back into the designer and its *Data set* form.

        The form takes every key it holds (the fleet becomes editable); the designer shows the
        fleet's largest archetype with the scenario's overlays on it (PV at the middle of its
        range, the first EV charger, smart when most EVs are, the heat pump when homes have
        one), its first GSP group and its seed. Keys neither shows (dates, outputs, readings,
        sending, ...) are kept from the file, so exporting it unchanged gives the same scenario.
        Listeners (:meth:`when_loaded`) get the scenario, for instance an export panel's
        :meth:`~mhhs_workbench.ui.ExportPanel.take_scenario`.

        Parameters
        ----------
        path : path, optional
            Scenario YAML; default the panel's *Scenario file*.
        render : bool
            Redraw at once.

        Raises
        ------
        mhhs_workbench.scenario.description.ScenarioError
            If the file is not a valid scenario (the message names file, line and key).
        """
        target = Path(path if path is not None else self.controls["scenario_path"].value.strip()).expanduser()
        scenario = Scenario.from_yaml(target.absolute())
        m = scenario.meters
        archetype = max(m.archetypes.items(), key=lambda kv: kv[1])[0]
        profiles = _profiles()
        home = profiles.archetype_spec(archetype).domestic
        pv_share = m.pv_share if home else m.non_domestic_pv_share
        ev_share = m.ev_share if home else m.non_domestic_ev_share
        pv_kwp = (sum(m.pv_kwp) / 2 if home else
                  sum(m.non_domestic_pv_kwp_per_mwh) / 2 * profiles.typical_annual_kwh(archetype) / 1000.0)
        c = self.controls
        self._updating = True
        try:
            c["archetype"].value = archetype
            self._apply_archetype(archetype)
            c["annual_kwh"].value = profiles.typical_annual_kwh(archetype)
            if m.gsp_groups:
                c["gsp_group"].value = m.gsp_groups[0]
            c["seed"].value = scenario.seed
            c["pv_kwp"].value = round(min(pv_kwp, c["pv_kwp"].max) * 2) / 2 if pv_share > 0 else 0.0
            charger = m.ev_kw[0] if ev_share > 0 else 0.0
            options = [v for _, v in c["ev_kw"].options]
            c["ev_kw"].value = min(options, key=lambda v: abs(v - charger))
            c["ev_smart"].value = bool(c["ev_kw"].value) and m.ev_smart_share >= 0.5
            c["heat_pump_kwh"].value = (min(m.heat_pump_kwh, c["heat_pump_kwh"].max)
                                        if home and m.heat_pump_share > 0 else 0.0)
            c["scenario_path"].value = str(target.absolute())
            self._apply_archetype(archetype)  # overlays the archetype cannot carry stay off
        finally:
            self._updating = False
        self._loaded = scenario
        self.form.set_scenario(scenario)
        for listener in self._load_listeners:
            listener(scenario)
        if render:
            self.refresh()
        else:
            self._check_form()
        return scenario

    def when_loaded(self, callback: Callable[[Scenario], None]) -> None:
        """Call ``callback(scenario)`` after each :meth:`load_scenario`."""
        self._load_listeners.append(callback)

    def save_scenario(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write :meth:`to_scenario` as YAML (to the panel's scenario file when no path is given).

        Returns
        -------
        pathlib.Path
            The file written, as an absolute path; ``mhhs-workbench generate FILE --out DIR``
            generates it.
        """
        target = Path(path if path is not None else self.controls["scenario_path"].value.strip()).expanduser()
        target = target.absolute()  # said in full: a relative name lands in the kernel's folder
        d = self.design
        if self.form.follows_design:
            header = (f"# Designed profile: {d.archetype}, PV {d.pv_kwp:g} kWp, EV {d.ev_kw:g} kW"
                      f"{' smart' if d.ev_smart and d.ev_kw else ''}, heat pump {d.heat_pump_kwh:g} kWh/yr.\n"
                      f"# Annual kWh ({d.annual_kwh:g} in the designer) is drawn around the archetype's "
                      "typical value here.\n")
        else:
            header = "# Data set designed in the profile designer: the fleet as its Data set form set it.\n"
        scenario = self.to_scenario()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(header + scenario.to_yaml(), encoding="utf-8")
        return target

    def refresh(self) -> None:
        """Regenerate (if needed) and redraw; errors are shown in the status line, not raised."""
        started = time.perf_counter()
        self._sync_form()
        self._show_reference_state()
        try:
            data = self.plot_data()
            self.image_png = plots.figure_png(plots.designer_figure(data))
        except Exception as exc:  # a widget callback has nowhere else to report to
            self._last_error = str(exc)
            # no plots of an earlier design under a message about this one
            self.image_png = b""
            self.plot.outputs = ()
            self.status.value = status_html(f"Could not draw the profile: {self._last_error}. "
                                            "The plots are cleared; change a control to try again.",
                                            error=True)
            return
        self._last_error = ""
        show_png(self.plot, self.image_png, alt="profile designer plots")
        self._refresh_homes()
        d = self.design
        parts = [f"{d.archetype.replace('_', ' ')}: import {data['annual_import_kwh']:,.0f} kWh/yr per site"]
        if d.pv_kwp > 0:
            parts.append(f"export {data['annual_export_kwh']:,.0f} kWh/yr")
        note = self._reference_note()
        parts.append(f"drawn in {time.perf_counter() - started:.1f} s")
        self.status.value = status_html("; ".join(parts) + (f". {note}" if note else ""))

    def show(self, interactive: bool = True) -> None:
        """Display the panel, or (``interactive=False``) a static figure and a summary."""
        from IPython.display import Markdown, display

        from mhhs_workbench.notebook.evidence import figure

        if interactive:
            display(self.widget)
            return
        d = self.design
        display(Markdown(f"**Designed profile**: `{d}`"))
        display(figure(self.figure()))

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        return self.widget._repr_mimebundle_(**kwargs)

    # ------------------------------------------------------------------ callbacks

    def _reference_note(self) -> str:
        folder = self.reference_dir
        if folder is None:
            return ""
        try:
            self.reference()
        except (OSError, ValueError) as exc:
            return f"Elexon data not used: {exc}"
        if self.design.archetype == "unmetered_street_lighting":
            return "Street lighting has no Elexon profile class."
        return ""

    def _refresh_homes(self) -> None:
        """Reference view of real homes: redrawn only when the reference folder changes."""
        used = self.reference_dir
        folder = str(used) if used is not None else self.controls["reference_dir"].value.strip()
        if folder == self._homes_folder:
            return
        self._homes_folder = folder
        try:
            self.homes_png, note = homes_comparison_png(folder)
        except (OSError, ValueError) as exc:  # a malformed sample: say so instead of failing
            self.homes_png, note = None, f"Real homes not compared: {exc}"
        self.homes_note.value = status_html(note, error=self.homes_png is None and bool(folder))
        if self.homes_png is None:
            self.homes.outputs = ()
        else:
            show_png(self.homes, self.homes_png, alt="generated and real homes")

    def _changed(self, name: str) -> Callable[[dict[str, Any]], None]:
        def handler(change: dict[str, Any]) -> None:
            if self._updating:
                return
            if name == "archetype":
                self._updating = True  # one redraw for the archetype and its typical annual kWh
                try:
                    self.controls["annual_kwh"].value = _profiles().typical_annual_kwh(change["new"])
                    self.controls["scenario_path"].value = str(_scenario_file(change["new"]))
                    self._apply_archetype(change["new"])
                finally:
                    self._updating = False
            self.refresh()

        return handler

    def _apply_archetype(self, archetype: str) -> None:
        """Offer the overlays the archetype can carry: the others are set to none and disabled,
        with the reason under them; PV goes up to :func:`pv_max_kwp`."""
        from mhhs_workbench.model.profiles.overlays import overlay_unavailable

        c = self.controls
        off = overlay_unavailable(archetype)
        top = pv_max_kwp(archetype)
        c["pv_kwp"].value = min(c["pv_kwp"].value, top)
        c["pv_kwp"].max = top
        for name, reason in off.items():
            if reason:
                c[name].value = 0.0
            c[name].disabled = bool(reason)
        if off["ev_kw"]:
            c["ev_smart"].value = False
        c["ev_smart"].disabled = bool(off["ev_kw"])
        note = overlay_note(archetype)
        self.overlay_note.value = (f'<div style="font-size:0.9em;line-height:1.35;color:#555">'
                                   f'{html.escape(note)}</div>' if note else "")

    def _show_reference_state(self) -> None:
        """Which Elexon data folder is used, or where none was found (red when a typed one is wrong)."""
        state = reference_state(self.controls["reference_dir"].value)
        self.reference_state.value = status_html(state.note, error=state.given and not state.found)

    def _sync_form(self) -> None:
        """Show the designed fleet in the form while it follows the design, and check the whole."""
        if self.form.follows_design:
            self.form.follow(self._designed_meters(self._base_scenario().meters))
        self._check_form()

    def _check_form(self) -> Scenario | None:
        """The scenario the designer exports now, its fleet shown under the form (None and the
        reason shown when it is not valid)."""
        try:
            scenario = self.to_scenario()
        except (ScenarioError, ValueError) as exc:
            self.form.show_check(None, str(exc))
            return None
        self.form.show_check(scenario)
        return scenario

    def _load_clicked(self) -> None:
        import warnings

        try:
            with warnings.catch_warnings(record=True) as caught:  # shown here, not on stderr
                warnings.simplefilter("always")
                scenario = self.load_scenario()
        except (ScenarioError, OSError, ValueError) as exc:  # file:line and key, in the panel
            self.save_status.value = status_html(f"Not loaded: {exc}", error=True)
            return
        notes = "".join(f" Note: {w.message}." for w in caught)
        self.save_status.value = status_html(
            f"Loaded {self.controls['scenario_path'].value}: {scenario.meters.count} meters, "
            f"{scenario.start_date} to {scenario.end_date}; the form below holds its fleet.{notes}")

    def _save_clicked(self) -> None:
        try:
            path = self.save_scenario()
        except Exception as exc:  # shown to the user instead of lost in the log
            self.save_status.value = status_html(f"Not saved: {exc}", error=True)
            return
        self.save_status.value = status_html(f"Saved {path}")
