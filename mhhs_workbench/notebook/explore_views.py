"""What ``notebooks/explore_dataset.ipynb`` shows: figures, message listings, the MPAN picker.

Every function takes a :class:`~mhhs_workbench.notebook.explore.DatasetExplorer` (the queries) and returns
something a notebook displays (a figure, Markdown, a widget), so each cell is one call.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import pandas as pd
from IPython.display import Image, Markdown
from matplotlib.figure import Figure

from mhhs_workbench.codes.identifiers import GSP_GROUP_NAMES
from mhhs_workbench.codes.messages import PERIOD_MINUTES
from mhhs_workbench.notebook.evidence import figure
from mhhs_workbench.notebook.explore import (
    DatasetExplorer,
    ExploreError,
    _as_date,
    class_comparison_note,
)
from mhhs_workbench.notebook.reference_folder import candidate_folders, reference_state
from mhhs_workbench.notebook.run_identity import sha256_text

__all__ = [
    "QUALITY_COLOURS",
    "class_comparison_figure",
    "class_comparison_view",
    "dataset_markdown",
    "default_reference_dir",
    "gsp_figure",
    "gsp_view",
    "meter_figure",
    "messages_markdown",
    "mpan_picker",
    "period_figure",
    "period_view",
    "pick",
    "pick_day",
    "pick_mpan",
]

#: Colour of each quality flag (``q``) in the consumption plot; other flags are grey.
QUALITY_COLOURS: dict[str, str] = {
    "A": "tab:green", "E": "tab:orange", "E0": "tab:orange", "E1": "tab:red", "E4": "tab:purple",
    "ZE": "black",
}


def default_reference_dir(reference_dir: str | os.PathLike[str] = "") -> Path:
    """Folder of Elexon's class averages: ``reference_dir`` if given, else the first folder of
    :func:`mhhs_workbench.notebook.reference_folder.candidate_folders` holding them (else the last one
    looked in, so that the note names it)."""

    state = reference_state(reference_dir)
    if state.folder is not None:
        return state.folder
    if str(reference_dir or "").strip():
        return Path(str(reference_dir).strip()).expanduser().absolute()
    return candidate_folders()[-1]


def dataset_markdown(explorer: DatasetExplorer) -> Markdown:
    """Which data set is explored: absolute path, tables found and its scenario's sha256."""

    scenario = explorer.path / "scenario.yaml"
    digest = sha256_text(scenario.read_text(encoding="utf-8")) if scenario.is_file() else None
    lines = [f"Exploring the data set `{explorer.path}`",
             f"- tables: {', '.join(explorer.tables)}",
             f"- scenario sha256: `{digest}`" if digest else "- no scenario.yaml"]
    return Markdown("\n".join(lines))


def pick(explorer: DatasetExplorer, mpan: str = "", day: str = "") -> tuple[str, dt.date]:
    """The MPAN and UTC day to show (see :func:`pick_mpan` and :func:`pick_day`), printed."""
    chosen = pick_mpan(explorer, mpan)
    when = pick_day(explorer, chosen, day)
    print(f"MPAN {chosen}, UTC day {when}" + ("" if mpan else " (set `mpan` and `day` to choose others)"))
    return chosen, when


def pick_mpan(explorer: DatasetExplorer, mpan: str = "") -> str:
    """The MPAN to show: ``mpan`` when given (checked), else the data set's first."""
    if str(mpan or ""):
        explorer.meter(str(mpan))  # one clear error when it is not in the data set
        return str(mpan)
    first = explorer.mpans()
    if not first:
        raise ExploreError(f"{explorer.path}: no MPAN has consumption")
    return first[0]


def pick_day(explorer: DatasetExplorer, mpan: str, day: str = "") -> dt.date:
    """The UTC day to show: ``day`` when given (checked), else the MPAN's second (or only) day."""
    days = explorer.days(mpan)
    if str(day or ""):
        chosen = _as_date(day)
        if chosen not in days:
            raise ExploreError(f"MPAN {mpan} has no consumption on {chosen}; set `day` to one of "
                               f"{days[0]} ... {days[-1]}")
        return chosen
    return days[min(1, len(days) - 1)]


def meter_figure(explorer: DatasetExplorer, mpan: str, day: str | dt.date | None = None) -> Figure:
    """One MPAN's consumption coloured by quality flag, above its register reads.

    Both panels share the UTC time axis; ``day`` (optional) is shaded.
    """
    data = explorer.consumption(mpan)
    reads = explorer.readings(mpan)
    fig = Figure(figsize=(11, 5.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    width = pd.Timedelta(minutes=PERIOD_MINUTES)
    for mqid, rows in data.groupby("mqid"):
        sign = -1 if mqid in ("AE", "RE") else 1
        if mqid in ("RI", "RE"):
            continue  # reactive energy is another unit: left to the table
        for quality, part in rows.groupby("quality"):
            top.bar(part["utc_period_end"] - width, sign * part["kwh"], width=width / 1.15, align="edge",
                    color=QUALITY_COLOURS.get(str(quality), "tab:gray"), label=f"{mqid} {quality}")
    top.axhline(0, color="0.6", lw=0.6)
    top.set_ylabel("energy per half hour [kWh]\n(export below 0)")
    top.set_title(f"MPAN {mpan}: half hours coloured by quality flag")
    top.legend(ncols=6, fontsize="small", loc="upper left")
    for register, rows in reads.groupby("register_id"):
        bottom.plot(rows["read_datetime"], rows["reading_kwh"], marker="o", label=f"register {register}")
    bottom.set_ylabel("register [kWh]")
    bottom.set_xlabel("time [UTC]")
    if len(reads):
        bottom.legend(fontsize="small")
    else:
        bottom.text(0.5, 0.5, "no register reads", transform=bottom.transAxes, ha="center")
    if day is not None:
        start = pd.Timestamp(_as_date(day)).tz_localize("UTC")
        for ax in (top, bottom):
            ax.axvspan(start, start + pd.Timedelta(days=1), color="tab:blue", alpha=0.08)
    bottom.xaxis.set_major_formatter(mdates.DateFormatter("%d %b\n%H:%M"))
    return fig


def messages_markdown(explorer: DatasetExplorer, mpan: str, day: str | dt.date) -> Markdown:
    """The messages that carry an MPAN's UTC day, as JSON exactly as in their files."""
    found = explorer.day_messages(mpan, day)
    if not found:
        return Markdown(f"No message carries MPAN {mpan} on {_as_date(day)}.")
    parts = [f"{len(found)} message(s) carry MPAN `{mpan}` on {_as_date(day)} (UTC):"]
    for m in found:
        resend = f", re-send {m.revision}" if m.revision else ""
        parts.append(f"**{m.interface}** `{m.file}` message {m.index + 1} (index {m.index}{resend})\n\n"
                     f"```json\n{json.dumps(m.message, indent=2)}\n```")
    return Markdown("\n\n".join(parts))


def gsp_figure(explorer: DatasetExplorer) -> Figure:
    """Import and export by GSP group [kWh] (latest settlement run)."""
    totals = explorer.gsp_totals()
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax = fig.subplots()
    labels = [f"{g} {GSP_GROUP_NAMES.get(g, '')}".strip() for g in totals.index]
    ax.bar(labels, totals["import_kwh"], label="import", color="tab:blue")
    ax.bar(labels, -totals["export_kwh"], label="export (below 0)", color="tab:orange")
    ax.set_ylabel("energy [kWh]")
    ax.set_title(f"Energy by GSP group (from the {explorer.settlement_table} table)")
    ax.tick_params(axis="x", labelrotation=45)
    ax.legend()
    return fig


def period_figure(explorer: DatasetExplorer, direction: str = "I") -> Figure:
    """Energy per local settlement day and period [kWh], as a heat map."""
    grid = explorer.period_totals(direction)
    fig = Figure(figsize=(10, 0.25 * len(grid) + 2), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(grid.to_numpy(dtype=float), aspect="auto", interpolation="nearest", cmap="viridis")
    ax.set_yticks(range(len(grid)), [str(pd.Timestamp(d).date()) for d in grid.index])
    ax.set_xticks(range(0, grid.shape[1], 4), [str(c) for c in grid.columns[::4]])
    ax.set_xlabel("local settlement period")
    ax.set_ylabel("settlement date")
    what = "import" if direction == "I" else "export"
    ax.set_title(f"{what.capitalize()} per settlement period [kWh] (from the {explorer.settlement_table} table)")
    fig.colorbar(image, ax=ax, label="energy [kWh]")
    return fig


def _note_or_image(made: Figure | str) -> Image | Markdown:

    return Markdown(made) if isinstance(made, str) else figure(made)


def _no_settlement(explorer: DatasetExplorer) -> str | None:
    if explorer.settlement_table is None:
        return f"Note: {explorer.path} has neither a settlement nor an aggregates table: nothing to show here."
    return None


def gsp_view(explorer: DatasetExplorer) -> Image | Markdown:
    """:func:`gsp_figure` as an image, or a note when the data set has no settlement totals."""
    return _note_or_image(_no_settlement(explorer) or gsp_figure(explorer))


def period_view(explorer: DatasetExplorer, direction: str = "I") -> Image | Markdown:
    """:func:`period_figure` as an image, or a note when the data set has no settlement totals."""
    return _note_or_image(_no_settlement(explorer) or period_figure(explorer, direction))


def class_comparison_view(explorer: DatasetExplorer, reference_dir: str | os.PathLike[str] = "") -> Image | Markdown:
    """:func:`class_comparison_figure` as an image, or its note as Markdown."""
    return _note_or_image(class_comparison_figure(explorer, default_reference_dir(reference_dir)))


def class_comparison_figure(explorer: DatasetExplorer, reference_dir: str | os.PathLike[str]) -> Figure | str:
    """Each archetype's mean import against Elexon's class average [kW], or a note why not."""
    note = class_comparison_note(reference_dir)
    if note is not None:
        return note
    table = explorer.class_comparison(reference_dir)
    archetypes = list(dict.fromkeys(table["archetype"]))
    if not archetypes:
        return ("Note: no meter of this data set is of an archetype with an Elexon profile class "
                "(a data set converted from your CSV has your own meters), so there is nothing to "
                "compare with.")
    cols = min(3, len(archetypes))
    rows = -(-len(archetypes) // cols)
    fig = Figure(figsize=(4 * cols, 2.8 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, archetype in zip(axes, archetypes, strict=False):
        part = table[table["archetype"] == archetype]
        ax.plot(part["settlement_period"], part["generated_kw"], label="generated mean")
        ax.plot(part["settlement_period"], part["elexon_kw"], "--", label="Elexon class average")
        ax.set_title(f"{archetype} (class {int(part['profile_class'].iloc[0])})", fontsize="small")
        ax.set_xlabel("settlement period")
        ax.set_ylabel("kW")
    for ax in axes[len(archetypes):]:
        ax.set_visible(False)
    axes[0].legend(fontsize="small")
    return fig


def mpan_picker(explorer: DatasetExplorer, mpan: str = "", day: str = "") -> Any:
    """Widgets to pick an MPAN (type to search) and a day, showing its figure and messages."""
    import ipywidgets as widgets
    from IPython.display import display


    mpans = explorer.mpans()
    first = pick_mpan(explorer, mpan)
    box = widgets.Combobox(value=first, options=mpans, ensure_option=True, placeholder="type an MPAN",
                           description="MPAN")
    days = widgets.Dropdown(description="UTC day")
    out = widgets.Output()

    def show_days(chosen: str) -> None:
        options = [str(d) for d in explorer.days(chosen)]
        days.options = options
        days.value = str(pick_day(explorer, chosen, day if day in options else ""))

    def redraw(*_: Any) -> None:
        if box.value not in mpans or not days.value:
            return
        with out:
            out.clear_output(wait=True)
            display(figure(meter_figure(explorer, box.value, days.value)))
            display(messages_markdown(explorer, box.value, days.value))

    def on_mpan(change: dict[str, Any]) -> None:
        if change["new"] in mpans:
            show_days(change["new"])
            redraw()

    show_days(first)
    box.observe(on_mpan, names="value")
    days.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([box, days]), out])
