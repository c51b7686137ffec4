"""Matplotlib figures for the workbench: designed profiles and data set overviews.

Every function returns a :class:`matplotlib.figure.Figure` built without ``pyplot``, so figures
hold no global state, can be made from any thread and are never shown twice by a notebook's
inline backend. :func:`figure_png` turns one into PNG bytes for widgets and evidence.

Power is in kW: a half hour's energy [Wh] divided by 500 is its mean power [kW].
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mhhs_workbench.codes.identifiers import GSP_GROUP_NAMES
from mhhs_workbench.codes.messages import PERIOD_MINUTES
from mhhs_workbench.notebook.message_frames import if021_frame
from mhhs_workbench.time.periods import CLOCK_SLOTS_PER_DAY

__all__ = [
    "SLOT_LABELS",
    "dataset_overview",
    "day_figure",
    "designer_figure",
    "draw_day",
    "draw_shapes",
    "draw_week",
    "draw_year",
    "figure_png",
    "robust_limits",
    "shape_figure",
    "supplier_daily_figure",
    "week_figure",
    "year_figure",
]

#: Text sizes of the designer's figure [points]: legends as large as tick labels.
DESIGNER_FONTS: dict[str, object] = {"font.size": 14, "axes.titlesize": 15, "legend.fontsize": 13,
                                     "xtick.labelsize": 12, "ytick.labelsize": 12}

#: Local clock time at the end of each half hour, ``'00:30'`` ... ``'24:00'``.
SLOT_LABELS: tuple[str, ...] = tuple(f"{(k + 1) // 2:02d}:{30 * ((k + 1) % 2):02d}" for k in range(CLOCK_SLOTS_PER_DAY))

#: Hours of the day at the end of each half hour (0.5 ... 24), the x axis of day plots.
_SLOT_HOURS = np.arange(1, CLOCK_SLOTS_PER_DAY + 1) * 0.5

#: Line styles by a word in a curve's label, so a curve looks the same in every view.
_STYLES: dict[str, dict[str, object]] = {
    "elexon": {"color": "tab:red", "lw": 1.2, "ls": "-."},
    "average": {"color": "tab:green", "lw": 1.5, "ls": "--"},
    "export": {"color": "tab:orange", "lw": 1.5},
    "import": {"color": "tab:blue", "lw": 2.0},
}


def _style(label: str, position: int) -> dict[str, object]:
    """Line style of a curve: by a word of its label, else by its position."""
    for word, style in _STYLES.items():
        if word in label.lower():
            return dict(style)
    return {"color": f"C{(position + 4) % 10}", "lw": 1.2}


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """PNG bytes of a figure.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to render.
    dpi : int
        Resolution [dots per inch].

    Returns
    -------
    bytes
        The PNG file's content.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def _hour_axis(ax: Axes) -> None:
    ax.set_xlim(0, 24)
    ax.set_xticks(np.arange(0, 25, 3))
    ax.set_xticklabels([f"{h:02d}:00" for h in range(0, 25, 3)])
    ax.grid(True, alpha=0.3)


# --------------------------------------------------------------------------- axes-level drawing


def draw_day(ax: Axes, curves: Mapping[str, Sequence[float] | np.ndarray], *, title: str = "",
             ylabel: str = "kW") -> None:
    """Draw 48 half-hourly values per curve against the local clock.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    curves : mapping of str to array of 48 floats
        Label and value per half hour, period 1 ending 00:30 local [kW unless ``ylabel`` says].
    title, ylabel : str
        Axes title and y label.
    """
    for i, (label, values) in enumerate(curves.items()):
        ax.plot(_SLOT_HOURS, np.asarray(values, dtype=float), label=label, **_style(label, i))
    _hour_axis(ax)
    ax.set_xlabel("local time (period end)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    if title:
        ax.set_title(title)
    if curves:
        ax.legend(loc="upper left")


def draw_week(ax: Axes, series: Mapping[str, pd.Series], *, title: str = "", ylabel: str = "kW") -> None:
    """Draw time series (a week of half hours) against their local-time index.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    series : mapping of str to pandas.Series
        Label and series indexed by (naive, local) period start times [kW].
    title, ylabel : str
        Axes title and y label.
    """
    for i, (label, values) in enumerate(series.items()):
        ax.step(values.index, values.to_numpy(dtype=float), where="post", label=label,
                **{**_style(label, i), "lw": 1.0, "ls": "-"})
    ax.xaxis.set_major_locator(mdates.DayLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%a"))
    ax.tick_params(axis="x", labelsize="small")
    starts = [v.index[0] for v in series.values() if len(v)]
    if starts:  # the dates once, in ISO form, rather than a locale's order on every tick
        ax.set_xlabel(f"local time, days from {pd.Timestamp(min(starts)):%Y-%m-%d}")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    if title:
        ax.set_title(title)
    if len(series) > 1:
        ax.legend(loc="upper left")


def draw_year(ax: Axes, matrix: np.ndarray, first_day: np.datetime64 | str, *, title: str = "",
              label: str = "kW") -> None:
    """Draw a days x 48 matrix as a heat map: date across, time of day up.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    matrix : numpy.ndarray, shape ``(n_days, 48)``
        One row per UTC day, one column per UTC half hour [kW]. Colours run over
        :func:`robust_limits` (1st to 99th percentile), so that rare spikes do not hide the daily
        and seasonal pattern.
    first_day : datetime64 or str
        Date of the first row.
    title, label : str
        Axes title and colour bar label.
    """
    matrix = np.asarray(matrix, dtype=float)
    start = mdates.date2num(pd.Timestamp(str(np.datetime64(first_day, "D"))))
    extent = (start, start + matrix.shape[0], 0.0, 24.0)
    vmin, vmax = robust_limits(matrix)
    image = ax.imshow(matrix.T, aspect="auto", origin="lower", extent=extent, cmap="viridis",
                      interpolation="nearest", vmin=vmin, vmax=vmax)
    ax.xaxis_date()
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=range(1, 13, 2)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    ax.set_yticks(np.arange(0, 25, 6))
    ax.set_ylabel("UTC time of day [h]")
    if title:
        ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, label=label, pad=0.01)


def robust_limits(values: np.ndarray, low: float = 1.0, high: float = 99.0) -> tuple[float, float]:
    """Colour limits that a few spikes cannot set: the ``low`` and ``high`` percentiles.

    Parameters
    ----------
    values : numpy.ndarray
        Values to colour (non-finite ones are ignored).
    low, high : float
        Percentiles of the limits [%].

    Returns
    -------
    tuple of float
        ``(vmin, vmax)``; ``vmax > vmin`` always (a flat or empty input gets a unit range).
    """
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return 0.0, 1.0
    vmin, vmax = (float(v) for v in np.percentile(finite, [low, high]))
    return (vmin, vmax) if vmax > vmin else (vmin, vmin + 1.0)


def draw_shapes(ax: Axes, curves: Mapping[str, Sequence[float] | np.ndarray], *, title: str = "") -> None:
    """Draw day shapes each divided by its own mean, so level differences drop out.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    curves : mapping of str to array of 48 floats
        Label and half-hourly values (any unit; only the shape is drawn).
    title : str
        Axes title.
    """
    normalised = {}
    for label, values in curves.items():
        v = np.asarray(values, dtype=float)
        mean = np.nanmean(v) if v.size else 0.0
        normalised[label] = v / mean if mean > 0 else v
    draw_day(ax, normalised, title=title, ylabel="value / daily mean")


# --------------------------------------------------------------------------- figures


def day_figure(curves: Mapping[str, Sequence[float] | np.ndarray], *, title: str = "") -> Figure:
    """A day of half-hourly power per curve (see :func:`draw_day`)."""
    fig = _new_figure(7, 3.5)
    draw_day(fig.add_subplot(), curves, title=title)
    return fig


def week_figure(series: Mapping[str, pd.Series], *, title: str = "") -> Figure:
    """A week of half-hourly power (see :func:`draw_week`)."""
    fig = _new_figure(9, 3.5)
    draw_week(fig.add_subplot(), series, title=title)
    return fig


def year_figure(matrix: np.ndarray, first_day: np.datetime64 | str, *, title: str = "") -> Figure:
    """A year heat map of half-hourly power (see :func:`draw_year`)."""
    fig = _new_figure(9, 3.5)
    draw_year(fig.add_subplot(), matrix, first_day, title=title)
    return fig


def shape_figure(curves: Mapping[str, Sequence[float] | np.ndarray], *, title: str = "") -> Figure:
    """Day shapes normalised to their mean (see :func:`draw_shapes`)."""
    fig = _new_figure(7, 3.5)
    draw_shapes(fig.add_subplot(), curves, title=title)
    return fig


def designer_figure(data: Mapping[str, object]) -> Figure:
    """The profile designer's four views in one figure: day, shapes, week, year.

    Parameters
    ----------
    data : mapping
        What :meth:`mhhs_workbench.ui.ProfileDesigner.plot_data` returns: ``day`` (mapping of
        label to 48 values [kW]), ``shapes`` (mapping of label to 48 values), ``week`` (mapping of
        label to series [kW]), ``year`` (days x 48 matrix [kW]), ``first_day``, and ``titles``
        (mapping of the four view names to titles).

    Returns
    -------
    matplotlib.figure.Figure
    """
    titles: Mapping[str, str] = data.get("titles", {})  # type: ignore[assignment]
    # 1,200 x 800 px at figure_png's 80 dpi: two plots per row, each about 600 px wide, with
    # text that reads at that size (JupyterLab scales a wider image down to the page)
    with matplotlib.rc_context(DESIGNER_FONTS):
        fig = _new_figure(15, 10)
        grid = fig.add_gridspec(2, 2)
        draw_day(fig.add_subplot(grid[0, 0]), data["day"], title=titles.get("day", ""))  # type: ignore[arg-type]
        draw_shapes(fig.add_subplot(grid[0, 1]), data["shapes"], title=titles.get("shapes", ""))  # type: ignore[arg-type]
        draw_week(fig.add_subplot(grid[1, 0]), data["week"], title=titles.get("week", ""))  # type: ignore[arg-type]
        draw_year(fig.add_subplot(grid[1, 1]), data["year"], data["first_day"],  # type: ignore[arg-type]
                  title=titles.get("year", ""))
    return fig


# --------------------------------------------------------------------------- data set overview


def _settlement(root: Path) -> pd.DataFrame | None:
    """The data set's ``settlement`` table, or None without one."""
    for name in ("settlement.parquet", "settlement.csv"):
        path = root / "tables" / name
        if path.is_file():
            return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    return None


def _aggregates(root: Path) -> pd.DataFrame | None:
    """Active energy by GSP group x local settlement period x MQID, from the first settlement run."""
    table = _settlement(root)
    if table is None:
        return None
    first = table[table["settlement_code"] == table["settlement_code"].iloc[0]] if len(table) else table
    frame = first.assign(mqid=np.where(first["energy_direction"] == "I", "AI", "AE"))
    return frame.groupby(["gsp_group", "settlement_date", "settlement_period", "mqid"], as_index=False)[
        "volume_wh"].sum().rename(columns={"volume_wh": "value_wh"})


def supplier_daily_figure(folder: str | os.PathLike[str], supplier: str | None = None) -> Figure:
    """One Supplier's daily import volume by GSP group, actual vs estimated, per settlement run.

    Reads ``tables/settlement.{parquet,csv}``: the sums REP-002 reports.

    Parameters
    ----------
    folder : path
        The data set folder.
    supplier : str, optional
        Supplier MPID; the one with the most volume by default.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per run (settlement code): per local settlement day, stacked bars of import
        energy [kWh] per GSP group, the part on actual data solid and on estimates hatched.
    """
    table = _settlement(Path(folder))
    if table is None or table.empty:
        fig = _new_figure(8, 3)
        fig.add_subplot().text(0.5, 0.5, "no settlement table in this data set", ha="center")
        return fig
    table = table[table["energy_direction"] == "I"]
    if supplier is None:
        supplier = str(table.groupby("supplier_mpid")["volume_wh"].sum().idxmax())
    mine = table[table["supplier_mpid"] == supplier]
    codes = list(dict.fromkeys(table["settlement_code"]))
    fig = _new_figure(5 + 3 * len(codes), 3.8)
    axes = fig.subplots(1, len(codes), sharey=True, squeeze=False)[0]
    days = sorted(set(table["settlement_date"]))
    groups = sorted(set(mine["gsp_group"]))
    for ax, code in zip(axes, codes, strict=True):
        run = mine[mine["settlement_code"] == code]
        daily = run.groupby(["settlement_date", "gsp_group"])[["actual_wh", "estimated_wh"]].sum() / 1000.0
        x = np.arange(len(days))
        bottom = np.zeros(len(days))
        for k, group in enumerate(groups):
            part = daily.xs(group, level="gsp_group").reindex(days, fill_value=0.0) if group in set(
                run["gsp_group"]) else pd.DataFrame(0.0, index=days, columns=daily.columns)
            colour = f"C{k % 10}"
            # matplotlib hides labels starting "_", as GSP group IDs do: label by name
            ax.bar(x, part["actual_wh"], bottom=bottom, color=colour, width=0.8,
                   label=GSP_GROUP_NAMES.get(group, group))
            bottom += part["actual_wh"].to_numpy()
            ax.bar(x, part["estimated_wh"], bottom=bottom, color=colour, width=0.8, alpha=0.45, hatch="//")
            bottom += part["estimated_wh"].to_numpy()
        ax.set_title(f"{supplier}: run {code}")
        ax.set_xticks(x)
        ax.set_xticklabels([pd.Timestamp(d).strftime("%d %b") for d in days], rotation=90, fontsize="x-small")
        ax.grid(True, axis="y", alpha=0.3)
    axes[0].set_ylabel("import kWh per local settlement day\n(solid: actual, hatched: estimated)")
    if groups:
        axes[-1].legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    return fig


def dataset_overview(folder: str | os.PathLike[str]) -> Figure:
    """Overview of a published data set: total half-hourly power and daily energy by GSP group.

    Reads ``tables/settlement.{parquet,csv}`` (its first run's active energy by GSP group x local
    settlement period); without it, sums the IF-021 messages themselves (reactive too).

    Parameters
    ----------
    folder : path
        The data set folder.

    Returns
    -------
    matplotlib.figure.Figure
        Left: total power per half hour [kW] by measurement quantity; right: daily energy
        [kWh] of import (``AI``) per GSP group, stacked.
    """
    root = Path(folder)
    agg = _aggregates(root)
    if agg is not None:
        frame = agg.rename(columns={"settlement_date": "date"})
        frame["date"] = pd.to_datetime(frame["date"]).dt.date
        # local settlement period k of date D started (k - 1) half hours after local midnight;
        # plotting against that elapsed time keeps the 46- and 50-period days in order
        periods = frame["settlement_period"].astype(np.int64)  # int8 in Parquet: * 30 overflows
        frame["time"] = pd.to_datetime(frame["date"]) + pd.to_timedelta((periods - 1) * PERIOD_MINUTES, unit="min")
        time_label = "local settlement day and period"
    else:

        msgs = if021_frame([root / "messages"] if (root / "messages").is_dir() else [root])
        frame = msgs
        frame["time"] = frame["sp"].dt.tz_convert(None) - pd.Timedelta(minutes=PERIOD_MINUTES)
        frame["date"] = frame["time"].dt.date
        frame["gsp_group"] = "all"
        time_label = "UTC"

    fig = _new_figure(12, 3.8)
    left, right = fig.subplots(1, 2, width_ratios=[3, 2])
    if frame.empty:
        left.text(0.5, 0.5, "no consumption in this data set", ha="center", transform=left.transAxes)
        return fig
    totals = frame.groupby(["mqid", "time"])["value_wh"].sum()
    for mqid in ("AI", "AE", "RI", "RE"):
        if mqid in totals.index.get_level_values(0):
            series = totals.loc[mqid]
            unit = "kvar" if mqid.startswith("R") else "kW"
            left.step(series.index, series.to_numpy() / 500.0, where="post", lw=1.0,
                      label=f"{mqid} [{unit}]")
    left.set_title("All meters together: power per half hour")
    left.set_xlabel(time_label)
    left.set_ylabel("kW / kvar")
    left.grid(True, alpha=0.3)
    left.legend(fontsize="small", loc="upper left")
    locator = mdates.AutoDateLocator()
    left.xaxis.set_major_locator(locator)
    left.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))

    daily = (frame[frame["mqid"] == "AI"].groupby(["date", "gsp_group"])["value_wh"].sum() / 1000.0)
    table = daily.unstack("gsp_group").fillna(0.0).sort_index()
    bottom = np.zeros(len(table))
    x = np.arange(len(table))
    colours = [f"C{i % 10}" for i in range(table.shape[1])]
    for (group, values), colour in zip(table.items(), colours, strict=True):
        # matplotlib hides labels starting "_", as GSP group IDs do: label by name
        right.bar(x, values.to_numpy(), bottom=bottom, color=colour, width=0.8,
                  label=GSP_GROUP_NAMES.get(str(group), str(group).lstrip("_")))
        bottom += values.to_numpy()
    right.set_xticks(x)
    right.set_xticklabels([d.strftime("%d %b") for d in table.index], rotation=90, fontsize="x-small")
    right.set_title("Import (AI) energy per day by GSP group")
    right.set_ylabel("kWh")
    if table.shape[1] > 1:
        right.legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    return fig
