"""The data set form: fleet, data quality, change of supplier, environment and participants.

The designer shows one kind of site; a data set usually holds several. :class:`ScenarioForm` holds
the scenario keys the designer's own controls do not: the archetype mix and its overlays, the GSP
groups, the data-quality shares, a change of supplier, the environment tag and the participants'
IDs. :meth:`ScenarioForm.apply` writes them into a scenario and :meth:`ScenarioForm.set_scenario`
reads them back from one (a loaded file), so a scenario loaded and exported again keeps every key.

While *Only the designed kind of site* is ticked the fleet is the design itself (its archetype at
share 1, its overlays on every site) and the fleet controls show that, greyed; unticking starts
an editable mix from what is shown.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
from IPython.display import Markdown, display

from mhhs_workbench.codes.identifiers import GSP_GROUP_NAMES, GSP_GROUPS
from mhhs_workbench.codes.messages import ENVIRONMENT_TAGS
from mhhs_workbench.model.profiles import ARCHETYPES
from mhhs_workbench.scenario.document import Scenario
from mhhs_workbench.scenario.errors import ScenarioError
from mhhs_workbench.scenario.sections import Event, MeterMix, Participants
from mhhs_workbench.ui.common import iso_date, status_html, tag

__all__ = ["FLEET_FIELDS", "PARTICIPANT_LABELS", "QUALITY_FIELDS", "ScenarioForm"]

#: Overlay and installation keys of ``meters`` the fleet tab edits: key to (label, maximum).
FLEET_FIELDS: dict[str, tuple[str, float]] = {
    "pv_share": ("Homes with PV", 1.0),
    "ev_share": ("Homes with an EV", 1.0),
    "heat_pump_share": ("Homes with a heat pump", 1.0),
    "non_domestic_pv_share": ("Businesses with PV", 1.0),
    "non_domestic_ev_share": ("Businesses with EV charging", 1.0),
    "ev_smart_share": ("EVs charging smart", 1.0),
    "heat_pump_kwh": ("Heat pump kWh/yr", 100_000.0),
    "install_share": ("Meters installed in range", 1.0),
}

#: Data-quality keys (``data_quality`` and ``sending.revision_share``): key to label.
QUALITY_FIELDS: dict[str, str] = {
    "missing_share": "Missing half hours",
    "invalid_share": "of which invalid",
    "comms_fault_share": "Meters with a comms fault",
    "deenergised_share": "Meters de-energised",
    "revision_share": "Faults re-sent as actuals",
}

#: Labels of the participants' IDs, in the scenario's order.
PARTICIPANT_LABELS: dict[str, str] = {
    "smart_data_service": "Smart data service",
    "advanced_data_service": "Advanced data service",
    "unmetered_data_service": "Unmetered data service",
    "supplier": "Supplier",
    "new_supplier": "New supplier",
    "load_shaping_service": "Load shaping service",
    "market_wide_data_service": "Market-wide data service",
    "distributor_prefix": "Distributor ID prefix",
    "supplier_mpid": "Supplier MPID",
    "new_supplier_mpid": "New supplier MPID",
    "settlement_service": "Settlement service",
}


#: Width of the form's control descriptions: its labels are longer than the designer's.
FORM_STYLE = {"description_width": "15em"}


def _layout() -> widgets.Layout:
    """Layout of one form control: a column's width, so labels and values are not cut short."""
    return widgets.Layout(width="31em")


#: Largest relative archetype share the form takes (shares are divided by their sum).
SHARE_MAX = 1e9


def _share(value: float, description: str, name: str, maximum: float = 1.0,
           step: float | None = None) -> widgets.BoundedFloatText:
    step = step if step is not None else (0.05 if maximum <= 1.0 or maximum == SHARE_MAX else 250.0)
    return tag(widgets.BoundedFloatText(value=float(value), min=0.0, max=maximum, step=step,
                                        description=description, style=FORM_STYLE,
                                        layout=_layout()), name)


def _kw_list(text: str) -> list[float]:
    """Charger powers typed as ``3.5, 7`` [kW].

    Raises
    ------
    mhhs_workbench.scenario.errors.ScenarioError
        If a part is not a number.
    """
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    try:
        return [float(p) for p in parts]
    except ValueError:
        raise ScenarioError(f"EV chargers kW: {text!r} is not a list of numbers like 3.5, 7") from None


def _set_range(slider: widgets.FloatRangeSlider | widgets.IntRangeSlider, value: list[float] | list[int]) -> None:
    """Show ``[low, high]`` on a range slider, widening its maximum when the value is above it."""
    low, high = value
    slider.max = max(slider.max, high)
    slider.value = (low, high)


def _css(name: str) -> str:
    return name.replace("_", "-")


def _note(text: str) -> widgets.HTML:
    """A small grey note under a column of the form."""
    return widgets.HTML(f'<div style="font-size:0.9em;color:#555">{html.escape(text)}</div>')


class ScenarioForm:
    """Widget form for the scenario keys of a data set that the designer does not show.

    Parameters
    ----------
    scenario : Scenario, optional
        Values to start from; default the package defaults.

    Attributes
    ----------
    controls : dict of str to ipywidgets.Widget
        ``follow_design``; ``share_<archetype>`` per archetype; ``gsp_groups``; the keys of
        :data:`FLEET_FIELDS`, ``pv_kwp``, ``non_domestic_pv_kwp_per_mwh``, ``ev_kw``; the keys of
        :data:`QUALITY_FIELDS`, ``comms_fault_days``, ``deenergised_days``; ``change_of_supplier``,
        ``change_date``, ``change_share``; ``environment_tag``; the keys of
        :data:`PARTICIPANT_LABELS`.
    status : ipywidgets.HTML
        The fleet in words, or why the form makes no valid scenario.
    widget : ipywidgets.VBox
        The form, to display.
    """

    def __init__(self, scenario: Scenario | None = None) -> None:
        base = scenario or Scenario()
        self._listeners: list[Callable[[], None]] = []
        self._updating = False
        self._later_events: list[Event] = []
        c: dict[str, widgets.Widget] = {**self._fleet_controls(), **self._quality_controls(),
                                        **self._supplier_controls(), **self._participant_controls(base)}
        self.controls = c
        self.status = tag(widgets.HTML(), "form-status")
        column = widgets.Layout(width="32em", margin="0 1.5em 0 0")
        row = widgets.Layout(flex_flow="row wrap", width="100%")
        self.tabs = tag(widgets.Tab(children=[self._fleet_page(column, row), self._quality_page(column, row),
                                              self._supplier_page(column), self._participants_page(column, row)],
                                    titles=("Fleet", "Data quality", "Supplier change", "Participants")),
                         "form-tabs")
        self.widget = tag(widgets.VBox([widgets.HTML("<h3 style='margin:0'>Data set</h3>"), self.tabs,
                                        self.status], layout=widgets.Layout(width="100%")), "scenario-form")
        self.set_scenario(base, follow_design=True)
        for name, control in c.items():
            control.observe(self._changed(name), names="value")

    # ------------------------------------------------------------------ building the form

    @staticmethod
    def _fleet_controls() -> dict[str, widgets.Widget]:
        """The *Fleet* controls: follow the design, archetype shares, GSP groups and overlays."""
        c: dict[str, widgets.Widget] = {}
        c["follow_design"] = tag(widgets.Checkbox(
            value=True, description="Only the designed kind of site (share 1, overlays as designed)",
            indent=False, layout=widgets.Layout(width="100%")), "fleet-follow")
        for name in ARCHETYPES:  # relative shares: any size, divided by their sum
            c[f"share_{name}"] = _share(0.0, name.replace("_", " "), f"fleet-share-{_css(name)}", SHARE_MAX)
        c["gsp_groups"] = tag(widgets.SelectMultiple(
            options=[(f"{g} {GSP_GROUP_NAMES[g]}", g) for g in GSP_GROUPS], rows=8,
            description="GSP groups", style=FORM_STYLE, layout=_layout()), "fleet-gsp-groups")
        for name, (label, top) in FLEET_FIELDS.items():
            c[name] = _share(0.0, label, f"fleet-{_css(name)}", top)
        c["pv_kwp"] = tag(widgets.FloatRangeSlider(
            value=(2.0, 5.0), min=0.0, max=20.0, step=0.5, description="Home PV kWp",
            continuous_update=False, style=FORM_STYLE, layout=_layout()), "fleet-pv-kwp")
        c["non_domestic_pv_kwp_per_mwh"] = tag(widgets.FloatRangeSlider(
            value=(0.1, 0.4), min=0.0, max=2.0, step=0.05, description="Business kWp per MWh",
            continuous_update=False, style=FORM_STYLE, layout=_layout()),
            "fleet-non-domestic-pv-kwp-per-mwh")
        c["ev_kw"] = tag(widgets.Text(value="3.5, 7", description="EV chargers kW", continuous_update=False,
                                      style=FORM_STYLE, layout=_layout()), "fleet-ev-kw")
        return c

    @staticmethod
    def _quality_controls() -> dict[str, widgets.Widget]:
        """The *Data quality* controls: the shares of :data:`QUALITY_FIELDS` and spell lengths."""
        c: dict[str, widgets.Widget] = {}
        for name, label in QUALITY_FIELDS.items():
            c[name] = _share(0.0, label, f"quality-{_css(name)}")
        for name, label in (("comms_fault_days", "Fault length, days"), ("deenergised_days", "De-energised days")):
            c[name] = tag(widgets.IntRangeSlider(
                value=(1, 3), min=1, max=60, description=label, continuous_update=False,
                style=FORM_STYLE, layout=_layout()), f"quality-{_css(name)}")
        return c

    @staticmethod
    def _supplier_controls() -> dict[str, widgets.Widget]:
        """The *Supplier change* controls: whether, on which day, and for which share of sites."""
        return {
            "change_of_supplier": tag(widgets.Checkbox(
                value=False, description="Some sites change supplier", indent=False), "change-of-supplier"),
            "change_date": tag(widgets.Text(
                value="", placeholder="YYYY-MM-DD", description="Change on UTC day", continuous_update=False,
                style=FORM_STYLE, layout=_layout()), "change-date"),
            "change_share": _share(0.05, "Share of sites", "change-share"),
        }

    @staticmethod
    def _participant_controls(base: Scenario) -> dict[str, widgets.Widget]:
        """The *Participants* controls: the environment tag and the IDs of :data:`PARTICIPANT_LABELS`."""
        c: dict[str, widgets.Widget] = {}
        c["environment_tag"] = tag(widgets.Dropdown(
            options=list(ENVIRONMENT_TAGS), value=base.environment_tag, description="Environment tag",
            style=FORM_STYLE, layout=_layout()), "environment-tag")
        for name, label in PARTICIPANT_LABELS.items():
            c[name] = tag(widgets.Text(value="", description=label, continuous_update=False,
                                       style=FORM_STYLE, layout=_layout()), f"participant-{_css(name)}")
        return c

    def _fleet_page(self, column: widgets.Layout, row: widgets.Layout) -> widgets.VBox:
        """The *Fleet* tab: the follow-the-design box over shares, places and overlays (``column``
        and ``row``: the layouts every tab shares)."""
        c = self.controls
        return widgets.VBox([
            c["follow_design"],
            widgets.HBox([
                widgets.VBox([widgets.HTML("<b>Archetype shares</b>"),
                              *(c[f"share_{a}"] for a in ARCHETYPES),
                              _note("Shares are relative: they are divided by their sum.")], layout=column),
                widgets.VBox([widgets.HTML("<b>Where</b>"), c["gsp_groups"],
                              _note("None selected: sites spread over all 14 GSP groups. "
                                    "Ctrl/Shift-click selects several.")], layout=column),
                widgets.VBox([widgets.HTML("<b>Overlays</b>"),
                              *(c[k] for k in ("pv_share", "pv_kwp", "ev_share", "non_domestic_pv_share",
                                               "non_domestic_pv_kwp_per_mwh", "non_domestic_ev_share",
                                               "ev_kw", "ev_smart_share", "heat_pump_share", "heat_pump_kwh",
                                               "install_share"))], layout=column),
            ], layout=row)])

    def _quality_page(self, column: widgets.Layout, row: widgets.Layout) -> widgets.HBox:
        """The *Data quality* tab."""
        c = self.controls
        return widgets.HBox([
            widgets.VBox([*(c[k] for k in ("missing_share", "invalid_share", "comms_fault_share",
                                           "comms_fault_days")),
                          _note("Missing half hours are estimated (E0 alone, E1 longer gaps); comms "
                                "faults lose whole days (E4).")], layout=column),
            widgets.VBox([c["deenergised_share"], c["deenergised_days"], c["revision_share"],
                          _note("Re-sent faults go out again as actuals with a new reference once the "
                                "fault clears.")], layout=column),
        ], layout=row)

    def _supplier_page(self, column: widgets.Layout) -> widgets.VBox:
        """The *Supplier change* tab."""
        c = self.controls
        return widgets.VBox([c["change_of_supplier"], c["change_date"], c["change_share"],
                             _note("The sites moving switch to the new supplier at 00:00 UTC that day "
                                   "(a change-of-supplier read); the date must lie after the first day.")],
                            layout=column)

    def _participants_page(self, column: widgets.Layout, row: widgets.Layout) -> widgets.HBox:
        """The *Participants* tab: the environment tag and the first six IDs, then the rest."""
        c = self.controls
        names = list(PARTICIPANT_LABELS)
        return widgets.HBox([
            widgets.VBox([c["environment_tag"], *(c[k] for k in names[:6])], layout=column),
            widgets.VBox([*(c[k] for k in names[6:]),
                          _note("DIP IDs are 10 hexadecimal characters; MPIDs 4 capital letters.")],
                         layout=column),
        ], layout=row)

    # ------------------------------------------------------------------ values

    @property
    def follows_design(self) -> bool:
        """Whether the fleet is the designed kind of site alone."""
        return bool(self.controls["follow_design"].value)

    def fleet(self, base: MeterMix) -> MeterMix:
        """``base`` with the form's archetype shares, GSP groups and overlays (count kept)."""
        c = self.controls
        shares = {a: float(c[f"share_{a}"].value) for a in ARCHETYPES if float(c[f"share_{a}"].value) > 0}
        values = {k: float(c[k].value) for k in FLEET_FIELDS}
        return dataclasses.replace(
            base, archetypes=shares, gsp_groups=list(c["gsp_groups"].value),
            pv_kwp=[float(v) for v in c["pv_kwp"].value],
            non_domestic_pv_kwp_per_mwh=[float(v) for v in c["non_domestic_pv_kwp_per_mwh"].value],
            ev_kw=_kw_list(c["ev_kw"].value), **values)

    def apply(self, scenario: Scenario, designed: MeterMix | None = None) -> Scenario:
        """``scenario`` with every key the form holds.

        Parameters
        ----------
        scenario : Scenario
            Where the other keys come from (dates, outputs, readings, sending delays, ...).
        designed : MeterMix, optional
            The designed fleet, used while :attr:`follows_design`; default ``scenario.meters``.

        Raises
        ------
        mhhs_workbench.scenario.errors.ScenarioError
            If a text control holds no date or number list.
        """
        c = self.controls
        meters = (designed or scenario.meters) if self.follows_design else self.fleet(scenario.meters)
        quality = dataclasses.replace(
            scenario.data_quality,
            **{k: float(c[k].value) for k in QUALITY_FIELDS if k != "revision_share"},
            comms_fault_days=[int(v) for v in c["comms_fault_days"].value],
            deenergised_days=[int(v) for v in c["deenergised_days"].value])
        events = []  # unticked: no supplier change at all
        if c["change_of_supplier"].value:
            events = [Event("change_of_supplier", iso_date(c["change_date"]), float(c["change_share"].value)),
                      *self._later_events]
        return dataclasses.replace(
            scenario, meters=meters, data_quality=quality,
            sending=dataclasses.replace(scenario.sending, revision_share=float(c["revision_share"].value)),
            events=events, environment_tag=c["environment_tag"].value,
            participants=Participants(**{k: c[k].value.strip() for k in PARTICIPANT_LABELS}))

    def set_scenario(self, scenario: Scenario, *, follow_design: bool = False) -> None:
        """Show a scenario's values (for instance a loaded file's); the fleet becomes editable
        unless ``follow_design``."""
        c = self.controls
        self._updating = True
        try:
            c["follow_design"].value = follow_design
            self._show_fleet(scenario.meters)
            dq = scenario.data_quality
            for k in QUALITY_FIELDS:
                c[k].value = float(scenario.sending.revision_share if k == "revision_share" else getattr(dq, k))
            for k in ("comms_fault_days", "deenergised_days"):
                _set_range(c[k], [int(v) for v in getattr(dq, k)])
            first = scenario.events[0] if scenario.events else None
            self._later_events = list(scenario.events[1:])
            c["change_of_supplier"].value = first is not None
            start, end = scenario.start_date, scenario.end_date
            middle = start + (end - start) // 2 if end > start else start + dt.timedelta(days=1)
            c["change_date"].value = (first.date if first else middle).isoformat()
            c["change_share"].value = float(first.share if first else 0.05)
            c["environment_tag"].value = scenario.environment_tag
            for k in PARTICIPANT_LABELS:
                c[k].value = getattr(scenario.participants, k)
        finally:
            self._updating = False
        self._enable()

    def follow(self, designed: MeterMix) -> None:
        """Show the designed fleet while :attr:`follows_design` (nothing otherwise)."""
        if self.follows_design:
            self._updating = True
            try:
                self._show_fleet(designed)
            finally:
                self._updating = False

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after any change a user makes in the form."""
        self._listeners.append(callback)

    def show_check(self, scenario: Scenario | None, error: str = "") -> None:
        """Put the fleet of ``scenario`` in words in the status line, or ``error`` in red."""
        if error or scenario is None:
            self.status.value = status_html(f"Not a valid data set: {error}", error=True)
            return
        m = scenario.meters
        total = sum(m.archetypes.values())
        mix = ", ".join(f"{100 * s / total:.0f} % {a.replace('_', ' ')}"
                        for a, s in sorted(m.archetypes.items(), key=lambda kv: -kv[1]))
        where = ", ".join(m.gsp_groups) if m.gsp_groups else "all 14 GSP groups"
        scaled = "" if abs(total - 1.0) < 1e-9 else f" (shares add up to {total:g}; each is divided by it)"
        change = "; " + ", ".join(f"{100 * e.share:g} % change supplier on {e.date}" for e in scenario.events) + (
            f" (the form edits the first; {len(scenario.events) - 1} more from the loaded file)"
            if len(scenario.events) > 1 else "") if scenario.events else ""
        self.status.value = status_html(f"Fleet: {mix}{scaled}; {where}; environment "
                                        f"{scenario.environment_tag}{change}.")

    def show(self, interactive: bool = True) -> None:
        """Display the form, or (``interactive=False``) its status line as text."""
        if interactive:
            display(self.widget)
        else:
            display(Markdown(html.unescape(re.sub(r"<[^>]+>", "", self.status.value))))

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        return self.widget._repr_mimebundle_(**kwargs)

    # ------------------------------------------------------------------ internals

    def _show_fleet(self, meters: MeterMix) -> None:
        c = self.controls
        for a in ARCHETYPES:
            c[f"share_{a}"].value = float(meters.archetypes.get(a, 0.0))
        c["gsp_groups"].value = tuple(g for g in meters.gsp_groups if g in GSP_GROUPS)
        for k in FLEET_FIELDS:
            c[k].value = float(getattr(meters, k))
        for k in ("pv_kwp", "non_domestic_pv_kwp_per_mwh"):
            _set_range(c[k], [float(v) for v in getattr(meters, k)])
        c["ev_kw"].value = ", ".join(f"{v:g}" for v in meters.ev_kw)

    def _enable(self) -> None:
        """Grey the fleet controls while the fleet follows the design, and the change-of-supplier
        details while no change is asked for."""
        c = self.controls
        following = self.follows_design
        for name, control in c.items():
            if name.startswith("share_") or name in FLEET_FIELDS or name in (
                    "gsp_groups", "pv_kwp", "non_domestic_pv_kwp_per_mwh", "ev_kw"):
                control.disabled = following
        c["change_date"].disabled = c["change_share"].disabled = not c["change_of_supplier"].value

    def _changed(self, name: str) -> Callable[[dict[str, Any]], None]:
        def handler(change: dict[str, Any]) -> None:
            if self._updating:
                return
            if name in ("follow_design", "change_of_supplier"):
                self._enable()
            for listener in self._listeners:
                listener()

        return handler
