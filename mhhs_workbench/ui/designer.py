"""The profile designer: one kind of site, a year of its half hours, seen four ways.

:class:`ProfileDesigner` is the ipywidgets panel over the functions of
:mod:`~mhhs_workbench.ui.design_data` (:class:`~mhhs_workbench.ui.design_data.ProfileDesign`,
:func:`~mhhs_workbench.ui.design_data.design_profile`, :func:`~mhhs_workbench.ui.design_data.view_data`):
every control change regenerates the profile (when it affects it) and re-renders a static
matplotlib figure into an ``Output`` widget. Its *Data set* form
(:class:`~mhhs_workbench.ui.scenario_form.ScenarioForm`) holds the rest of the scenario it saves.
"""

from __future__ import annotations

import dataclasses
import html
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd
from IPython.display import Markdown, display
from matplotlib.figure import Figure

from mhhs_workbench.codes.identifiers import GSP_GROUP_NAMES, GSP_GROUPS
from mhhs_workbench.model.profiles import (
    ARCHETYPES,
    archetype_spec,
    reference_profile,
    typical_annual_kwh,
)
from mhhs_workbench.model.profiles.overlays import overlay_unavailable
from mhhs_workbench.notebook import plots
from mhhs_workbench.notebook.evidence import figure as figure_output
from mhhs_workbench.notebook.reference_folder import reference_state
from mhhs_workbench.notebook.workspace import workspace_dir
from mhhs_workbench.scenario.document import Scenario
from mhhs_workbench.scenario.errors import ScenarioError
from mhhs_workbench.scenario.sections import MeterMix
from mhhs_workbench.time.periods import SEASON_NAMES, SEASONS
from mhhs_workbench.ui.common import DESCRIPTION_STYLE, control_layout, show_png, status_html, tag
from mhhs_workbench.ui.design_data import (
    EV_CHARGERS,
    ProfileDesign,
    archetype_average,
    design_profile,
    homes_comparison_png,
    overlay_note,
    pv_max_kwp,
    view_data,
)
from mhhs_workbench.ui.scenario_form import ScenarioForm

__all__ = ["ProfileDesigner"]

#: The designer's controls, in :class:`ProfileDesign` field order and then the two folders.
CONTROL_NAMES: tuple[str, ...] = (*(f.name for f in dataclasses.fields(ProfileDesign)),
                                  "reference_dir", "scenario_path")


def _note(text: str) -> widgets.HTML:
    """A small explanatory paragraph under the controls."""
    return widgets.HTML(f'<div style="font-size:0.9em;line-height:1.35;color:#555">{text}</div>',
                        layout=widgets.Layout(width="100%"))


def _scenario_file(archetype: str) -> Path:
    """Where the designer proposes to save a design: ``<archetype>.yaml`` in the workspace."""
    return workspace_dir() / f"{archetype}.yaml"


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
        self._updating = False
        self._loaded: Scenario | None = None
        self._load_listeners: list[Callable[[Scenario], None]] = []
        self.image_png: bytes = b""
        self._last_error: str = ""

        c: dict[str, widgets.Widget] = {
            **self._site_controls(design), **self._overlay_controls(design),
            **self._individuality_controls(design), **self._view_controls(design, reference_dir),
            **self._scenario_file_controls(design)}
        self.controls = {name: c[name] for name in CONTROL_NAMES}
        self._make_outputs()
        self.widget = tag(widgets.VBox([
            widgets.HTML("<h3 style='margin:0'>Profile designer</h3>"),
            self._control_columns(), self.status, self.plot, self.homes_note, self.homes,
        ], layout=widgets.Layout(width="100%")), "designer")
        self._apply_archetype(design.archetype)
        self.form = ScenarioForm(self._base_scenario())
        self.form.on_change(self._sync_form)  # re-ticking "designed kind only" shows the design again

        for name, control in self.controls.items():
            if name != "scenario_path":
                control.observe(self._changed(name), names="value")
        if str(scenario_file or "").strip():
            self.load_scenario(scenario_file, render=False)
        if render:
            self.refresh()
        else:
            self._sync_form()  # the form shows the designed fleet from the start

    # ------------------------------------------------------------------ building the panel

    @staticmethod
    def _site_controls(design: ProfileDesign) -> dict[str, widgets.Widget]:
        """The *Site* controls: archetype, annual kWh (the archetype's typical one when the
        design has none) and GSP group."""
        annual = design.annual_kwh if design.annual_kwh is not None else typical_annual_kwh(design.archetype)
        wide = control_layout
        return {
            "archetype": tag(widgets.Dropdown(
                options=[(a.replace("_", " "), a) for a in ARCHETYPES], value=design.archetype,
                description="Archetype", style=DESCRIPTION_STYLE, layout=wide()), "archetype"),
            "annual_kwh": tag(widgets.BoundedFloatText(
                value=float(annual), min=1.0, max=100_000_000.0, step=100.0, description="Annual kWh",
                tooltip="Annual consumption of each site before PV, EV and heat pump",
                style=DESCRIPTION_STYLE, layout=wide()), "annual-kwh"),
            "gsp_group": tag(widgets.Dropdown(
                options=[(f"{g} {GSP_GROUP_NAMES[g]}", g) for g in GSP_GROUPS], value=design.gsp_group,
                description="GSP group", style=DESCRIPTION_STYLE, layout=wide()), "gsp-group"),
        }

    @staticmethod
    def _overlay_controls(design: ProfileDesign) -> dict[str, widgets.Widget]:
        """The *Overlays* controls: PV, EV charger, smart charging and heat pump."""
        wide = control_layout
        return {
            "pv_kwp": tag(widgets.FloatSlider(
                value=design.pv_kwp, min=0.0, max=max(pv_max_kwp(design.archetype), design.pv_kwp), step=0.5,
                description="PV kWp", continuous_update=False, style=DESCRIPTION_STYLE, layout=wide()), "pv-kwp"),
            "ev_kw": tag(widgets.Dropdown(
                options=[("none", 0.0)] + [(f"{k:g} kW", k) for k in EV_CHARGERS if k > 0],
                value=design.ev_kw, description="EV charger", style=DESCRIPTION_STYLE, layout=wide()), "ev-kw"),
            "ev_smart": tag(widgets.Checkbox(
                value=design.ev_smart, description="Smart charging", indent=True,
                style=DESCRIPTION_STYLE, layout=wide()), "ev-smart"),
            "heat_pump_kwh": tag(widgets.FloatSlider(
                value=design.heat_pump_kwh, min=0.0, max=12_000.0, step=250.0, description="Heat pump kWh/yr",
                continuous_update=False, style=DESCRIPTION_STYLE, layout=wide()), "heat-pump-kwh"),
        }

    @staticmethod
    def _individuality_controls(design: ProfileDesign) -> dict[str, widgets.Widget]:
        """The *Individuality* controls: sites averaged and seed."""
        wide = control_layout
        return {
            "sites": tag(widgets.IntSlider(
                value=design.sites, min=1, max=50, description="Sites averaged",
                tooltip="1 shows one site with all its own noise; more sites average it away",
                continuous_update=False, style=DESCRIPTION_STYLE, layout=wide()), "sites"),
            "seed": tag(widgets.IntText(value=design.seed, description="Seed", style=DESCRIPTION_STYLE,
                                        layout=wide()), "seed"),
        }

    @staticmethod
    def _view_controls(design: ProfileDesign, reference_dir: str | os.PathLike[str]) -> dict[str, widgets.Widget]:
        """The *View* controls: year, season and day viewed, and the Elexon data folder."""
        wide = control_layout
        # the folder given, else one found where reference data usually is (empty when none is)
        found = reference_state(reference_dir)
        return {
            "year": tag(widgets.BoundedIntText(
                value=design.year, min=2000, max=2100, description="Year", style=DESCRIPTION_STYLE,
                layout=wide()), "year"),
            "season": tag(widgets.Dropdown(
                options=[(SEASON_NAMES[s], s) for s in SEASONS], value=design.season,
                description="Season viewed", style=DESCRIPTION_STYLE, layout=wide()), "season"),
            "day_type": tag(widgets.Dropdown(
                options=[("Weekday", "Wd"), ("Saturday", "Sat"), ("Sunday, bank holiday", "Sun")],
                value=design.day_type, description="Day viewed", style=DESCRIPTION_STYLE, layout=wide()),
                "day-type"),
            "reference_dir": tag(widgets.Text(
                value=str(found.folder if found.folder is not None and not found.given else reference_dir or ""),
                description="Elexon data folder",
                placeholder="folder with elexon_profile_class_N.csv", continuous_update=False,
                style=DESCRIPTION_STYLE, layout=wide()), "reference-dir"),
        }

    def _scenario_file_controls(self, design: ProfileDesign) -> dict[str, widgets.Widget]:
        """The *Scenario file* controls: its path (returned), and the save and load buttons with
        their status line (set on the panel)."""
        self.save_button = tag(widgets.Button(description="Save as scenario", icon="save"), "save-scenario")
        self.save_button.on_click(lambda _: self._save_clicked())
        self.load_button = tag(widgets.Button(description="Load scenario", icon="folder-open"), "load-scenario")
        self.load_button.on_click(lambda _: self._load_clicked())
        self.save_status = tag(widgets.HTML(), "save-status")
        return {
            "scenario_path": tag(widgets.Text(
                value=str(_scenario_file(design.archetype)), description="Scenario file", style=DESCRIPTION_STYLE,
                layout=control_layout()), "scenario-path"),
        }

    def _make_outputs(self) -> None:
        """The panel's status lines, notes and image outputs."""
        self.reference_state = tag(widgets.HTML(layout=widgets.Layout(width="100%")), "reference-state")
        self.status = tag(widgets.HTML(), "designer-status")
        self.plot = tag(widgets.Output(layout=widgets.Layout(min_height="760px", width="100%")), "plot")
        self.overlay_note = tag(widgets.HTML(layout=widgets.Layout(width="100%")), "overlay-note")
        self.homes_note = tag(widgets.HTML(), "homes-note")
        self.homes = tag(widgets.Output(), "homes")
        self.homes_png: bytes | None = None
        self._homes_folder: str | None = None

    def _control_columns(self) -> widgets.HBox:
        """The controls in three columns over the plots: two columns and the plots' full width at
        1280 px, all three side by side from about 1600 px."""
        c = self.controls
        noise_note = _note(
            "The model has no separate noise knob: each site's own variation comes from the seed. "
            "<i>Sites averaged</i> = 1 shows one site; more sites smooth it toward the archetype.")
        note_scenario = _note(
            "A saved scenario keeps the design and the <i>Data set</i> form below (fleet, data "
            "quality, supplier change, participants); annual kWh is then drawn around the "
            "archetype's typical value. <i>Load scenario</i> reads a scenario file back: the "
            "designer shows its largest archetype and the form holds all of it.")
        column = widgets.Layout(width="30em", margin="0 2em 0 0")
        return widgets.HBox([
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

    # ------------------------------------------------------------------ pure API

    @property
    def design(self) -> ProfileDesign:
        """The design the controls describe now (an overlay the archetype cannot carry is 0)."""
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
        if design.archetype == "unmetered_street_lighting":
            return None  # street lighting has no Elexon profile class
        return reference_profile(design.archetype, folder)

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
        mhhs_workbench.scenario.errors.ScenarioError
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
        home = archetype_spec(d.archetype).domestic
        pv = 1.0 if d.pv_kwp > 0 else 0.0
        ev = 1.0 if d.ev_kw > 0 else 0.0
        per_mwh = d.pv_kwp / (typical_annual_kwh(d.archetype) / 1000.0)
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
        mhhs_workbench.scenario.errors.ScenarioError
            If the file is not a valid scenario (the message names file, line and key).
        """
        target = Path(path if path is not None else self.controls["scenario_path"].value.strip()).expanduser()
        scenario = Scenario.from_yaml(target.absolute())
        m = scenario.meters
        archetype = max(m.archetypes.items(), key=lambda kv: kv[1])[0]
        home = archetype_spec(archetype).domestic
        pv_share = m.pv_share if home else m.non_domestic_pv_share
        ev_share = m.ev_share if home else m.non_domestic_ev_share
        pv_kwp = (sum(m.pv_kwp) / 2 if home else
                  sum(m.non_domestic_pv_kwp_per_mwh) / 2 * typical_annual_kwh(archetype) / 1000.0)
        c = self.controls
        self._updating = True
        try:
            c["archetype"].value = archetype
            self._apply_archetype(archetype)
            c["annual_kwh"].value = typical_annual_kwh(archetype)
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
        if interactive:
            display(self.widget)
            return
        d = self.design
        display(Markdown(f"**Designed profile**: `{d}`"))
        display(figure_output(self.figure()))

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
                    self.controls["annual_kwh"].value = typical_annual_kwh(change["new"])
                    self.controls["scenario_path"].value = str(_scenario_file(change["new"]))
                    self._apply_archetype(change["new"])
                finally:
                    self._updating = False
            self.refresh()

        return handler

    def _apply_archetype(self, archetype: str) -> None:
        """Offer the overlays the archetype can carry: the others are set to none and disabled,
        with the reason under them; PV goes up to :func:`pv_max_kwp`."""
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
