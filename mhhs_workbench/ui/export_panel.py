"""The export panel: generate a data set from a scenario, validate it and say what was written."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from mhhs_workbench.dataset import DatasetSummary, generate_dataset
from mhhs_workbench.notebook.evidence import ValidationEvidence, count_label, validation
from mhhs_workbench.notebook.workspace import fresh_folder
from mhhs_workbench.scenario.checks import event_in_range
from mhhs_workbench.scenario.document import Scenario
from mhhs_workbench.scenario.errors import ScenarioError
from mhhs_workbench.scenario.limits import MAX_METERS, OUTPUT_ALIASES
from mhhs_workbench.ui.common import DESCRIPTION_STYLE, as_controls, iso_date, status_html, tag

__all__ = ["INTERFACES", "ExportPanel"]

#: Interface choices of the panel and the scenario outputs each one asks for.
INTERFACES: dict[str, tuple[str, ...]] = {
    "IF-021": ("if021",),
    "IF-041": ("if041",),
    "tables": ("parquet", "csv", "settlement"),
}

#: Progress updates wanted over one export; the chunk size follows from it.
PROGRESS_STEPS = 20

#: Name of the workspace folder the panel proposes when no output folder is given.
DEFAULT_FOLDER = "designed-data"


class ExportPanel:
    """Widget panel that generates, publishes and validates a data set.

    Parameters
    ----------
    scenario : Scenario or callable returning one, optional
        What to generate (for instance a designer's ``to_scenario``); its dates, meter count and
        outputs are replaced by the panel's. Default the package's default scenario.
    out : path, optional
        Initial output folder; a relative one is taken from the current folder. Default a fresh
        folder of the workspace (:mod:`mhhs_workbench.notebook.workspace`), never next to the notebooks.
    start_date, end_date : datetime.date, optional
        Initial UTC days (inclusive); default the scenario's.
    meters : int, optional
        Initial number of meters; default the scenario's.
    interfaces : iterable of str
        Initially ticked keys of :data:`INTERFACES`.
    spec_dir : path, optional
        Folder of Elexon's DIP API YAML to validate against as well.

    Attributes
    ----------
    controls : dict of str to ipywidgets.Widget
        ``start_date``, ``end_date``, ``meters``, ``IF-021``, ``IF-041``, ``tables``, ``out``,
        ``overwrite``, ``spec_dir``.
    progress : ipywidgets.IntProgress
        Meters generated so far.
    summary : ipywidgets.HTML
        What the last export wrote, with its validation result.
    last_summary : DatasetSummary or None
        The last data set written.
    last_validation : ValidationEvidence or None
        Its validation result.
    """

    def __init__(self, scenario: Scenario | Callable[[], Scenario] | None = None, *,
                 out: str | os.PathLike[str] | None = None, start_date: dt.date | None = None,
                 end_date: dt.date | None = None, meters: int | None = None,
                 interfaces: tuple[str, ...] = ("IF-021", "IF-041", "tables"),
                 spec_dir: str | os.PathLike[str] = "") -> None:
        self._scenario = scenario
        try:
            base = self.base_scenario()
        except ValueError:  # a designer mid-edit: start from the defaults, say why on export
            base = Scenario()
        self.last_summary: DatasetSummary | None = None
        self.last_validation: ValidationEvidence | None = None
        c: dict[str, widgets.Widget] = {}
        # ISO text rather than a date picker, which shows the browser's locale (MM/DD/YYYY)
        c["start_date"] = tag(widgets.Text(
            value=(start_date or base.start_date).isoformat(), description="First UTC day",
            placeholder="YYYY-MM-DD", style=DESCRIPTION_STYLE), "export-start")
        c["end_date"] = tag(widgets.Text(
            value=(end_date or base.end_date).isoformat(), description="Last UTC day",
            placeholder="YYYY-MM-DD", style=DESCRIPTION_STYLE), "export-end")
        c["meters"] = tag(widgets.BoundedIntText(
            value=meters or base.meters.count, min=1, max=MAX_METERS, description="Meters",
            style=DESCRIPTION_STYLE), "export-meters")
        for key in INTERFACES:
            c[key] = tag(widgets.Checkbox(value=key in interfaces, description=key, indent=False,
                                          layout=widgets.Layout(width="8em")),
                         f"export-{key.lower().replace('-', '')}")
        folder = fresh_folder(DEFAULT_FOLDER) if out is None or not str(out) else Path(out).expanduser().absolute()
        c["out"] = tag(widgets.Text(value=str(folder), description="Output folder", style=DESCRIPTION_STYLE,
                                    layout=widgets.Layout(width="48em")), "export-folder")
        c["overwrite"] = tag(widgets.Checkbox(value=False, description="Replace an existing data set",
                                              indent=False), "export-overwrite")
        c["spec_dir"] = tag(widgets.Text(
            value=str(spec_dir or ""), description="Elexon spec folder", style=DESCRIPTION_STYLE,
            placeholder="optional: also validate against Elexon's DIP API YAML",
            layout=widgets.Layout(width="48em")), "export-spec-dir")
        self.controls = c

        self.button = tag(widgets.Button(description="Export", icon="download", button_style="primary"),
                          "export-button")
        self.button.on_click(lambda _: self._clicked())
        self.progress = tag(widgets.IntProgress(value=0, min=0, max=1, description="Meters",
                                                style=DESCRIPTION_STYLE), "export-progress")
        self.summary = tag(widgets.HTML(), "export-summary")
        self.widget = tag(widgets.VBox([
            widgets.HTML("<h3 style='margin:0'>Export a data set</h3>"),
            widgets.HBox([c["start_date"], c["end_date"]]),
            c["meters"],
            widgets.HBox([widgets.Label("Interfaces", layout=widgets.Layout(width="11em")),
                          *(c[k] for k in INTERFACES)]),
            c["out"], c["overwrite"], c["spec_dir"],
            widgets.HBox([self.button, self.progress]),
            self.summary,
        ]), "export")

    # ------------------------------------------------------------------ pure API

    def base_scenario(self) -> Scenario:
        """The scenario the panel starts from (before its own dates, count and outputs)."""
        source = self._scenario
        if source is None:
            return Scenario()
        return source() if callable(source) else source

    def scenario(self) -> Scenario:
        """The scenario the panel would export now.

        Raises
        ------
        mhhs_workbench.scenario.errors.ScenarioError
            If the choices make no valid scenario (no interface, end before start, ...).
        """
        c = self.controls
        base = self.base_scenario()
        outputs = []
        for key, outs in INTERFACES.items():
            if not c[key].value:
                continue
            # a ticked box keeps the base's own outputs of it (a loaded scenario exports as it
            # was, "tables" may stand for CSV alone); a base without any takes them all
            own = [o for o in base.outputs if OUTPUT_ALIASES.get(o, o) in outs]
            outputs += own or list(outs)
        outputs.sort(key=lambda o: base.outputs.index(o) if o in base.outputs else len(base.outputs))
        start, end = iso_date(c["start_date"]), iso_date(c["end_date"])
        for event in base.events:  # said in the panels' words, before the scenario's own check
            if end >= start and not event_in_range(event, start, end):
                raise ScenarioError(
                    f"the supplier change on {event.date} (Data set form, Supplier change) is not "
                    f"after the first UTC day {start} and within the last {end}: move it or the days")
        scenario = dataclasses.replace(
            base, start_date=start, end_date=end,
            meters=dataclasses.replace(base.meters, count=int(c["meters"].value)), outputs=outputs)
        scenario.check("export panel")
        return scenario

    def take_scenario(self, scenario: Scenario) -> None:
        """Show a scenario's dates and meter count (for instance one loaded into the designer)."""
        c = self.controls
        c["start_date"].value = scenario.start_date.isoformat()
        c["end_date"].value = scenario.end_date.isoformat()
        c["meters"].value = int(scenario.meters.count)
        wanted = {OUTPUT_ALIASES.get(o, o) for o in scenario.outputs}
        for key, outs in INTERFACES.items():
            c[key].value = bool(wanted & set(outs))

    def export(self) -> DatasetSummary:
        """Generate, publish and validate the data set; update the progress bar and summary.

        Returns
        -------
        DatasetSummary
            The data set written.

        Raises
        ------
        mhhs_workbench.scenario.errors.ScenarioError, mhhs_workbench.publish.manifest.PublicationError
            If the choices are invalid or the folder exists (and replacing was not asked for).
        """
        c = self.controls
        scenario = self.scenario()
        n = scenario.meters.count
        self.progress.max = n
        self.progress.value = 0
        self.progress.bar_style = ""
        self.summary.value = status_html(f"Generating {n} meters x {scenario.n_days} days ...")
        chunk = max(1, math.ceil(n / PROGRESS_STEPS))  # output bytes do not depend on it
        summary = generate_dataset(scenario, self.out_folder,
                                   overwrite=bool(c["overwrite"].value), chunk_size=chunk,
                                   progress=False, on_chunk=self._on_chunk)
        self.last_summary = summary
        messages = summary.path / "messages"
        spec = c["spec_dir"].value.strip() or None
        self.last_validation = validation(messages, spec_dir=spec) if messages.is_dir() else None
        self.progress.bar_style = "success" if self.valid else "danger"
        self.summary.value = self.summary_html()
        return summary

    @property
    def out_folder(self) -> Path:
        """The output folder as an absolute path (a relative entry is taken from the current folder)."""
        return Path(self.controls["out"].value.strip()).expanduser().absolute()

    @property
    def valid(self) -> bool:
        """Whether the last export's messages are all valid (True when it wrote none)."""
        return self.last_validation is None or self.last_validation.ok

    def summary_html(self) -> str:
        """The summary of the last export as HTML: folder, counts and validation."""
        if self.last_summary is None:
            return ""
        s = self.last_summary
        rows = "".join(f"<tr><td>{html.escape(count_label(k))}</td><td style='text-align:right'>{v:,}</td></tr>"
                       for k, v in s.counts.items())
        if self.last_validation is None:
            verdict = "No messages written, nothing to validate."
        else:
            verdict = self.last_validation.headline
        colour = "#1b5e20" if self.valid else "#b00020"
        return (f"<div><b>Wrote</b> <code>{html.escape(str(Path(s.path).absolute()))}</code> "
                f"({len(s.manifest['files'])} files, checksummed in manifest.json)"
                f"<table>{rows}</table>"
                f"<b style='color:{colour}'>{html.escape(verdict)}</b></div>")

    def show(self, interactive: bool = True) -> None:
        """Display the panel (nothing when not interactive)."""
        from IPython.display import display

        if interactive:
            display(self.widget)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        return self.widget._repr_mimebundle_(**kwargs)

    # ------------------------------------------------------------------ callbacks

    def _on_chunk(self, done: int, total: int) -> None:
        self.progress.max = total
        self.progress.value = done

    def _clicked(self) -> None:
        self.button.disabled = True
        try:
            self.export()
        except Exception as exc:  # shown in the panel; a callback has nowhere else to report to
            self.progress.bar_style = "danger"
            self.summary.value = status_html(f"Export failed: {as_controls(exc)}", error=True)
        finally:
            self.button.disabled = False
