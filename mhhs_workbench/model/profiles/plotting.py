"""Comparison plot: a generated population's average day against the model and Elexon's data.

Figures are built with :class:`matplotlib.figure.Figure` directly (no ``pyplot`` state), so
they work headless with the Agg backend and never open windows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mhhs_workbench.model.profiles.model import ConsumptionResult
from mhhs_workbench.model.profiles.reference import (
    PROFILE_COLUMNS,
    PROFILE_DAY_TYPES,
    reference_profile,
)
from mhhs_workbench.model.profiles.shapes import model_column_shapes
from mhhs_workbench.model.profiles.timegrid import TimeGrid
from mhhs_workbench.time.periods import CLOCK_SLOTS_PER_DAY, SEASON_NAMES, SEASONS

_DAY_TYPE_NAMES = {"Wd": "weekday", "Sat": "Saturday", "Sun": "Sunday / bank holiday"}


def population_column_means(
    result_or_array: ConsumptionResult | np.ndarray, days, nation: str = "ENG"
) -> np.ndarray:
    """Mean power per local clock slot for each season x day-type column [kW per meter].

    Parameters
    ----------
    result_or_array : ConsumptionResult or numpy.ndarray
        A result (its import is used), an array ``(n_meters, n_days * 48)`` [Wh], or the
        population's mean series ``(n_days * 48,)`` [Wh].
    days : array of datetime64[D]
        The UTC days the data covers.
    nation : str
        Whose bank holidays count as Sundays.

    Returns
    -------
    numpy.ndarray, shape ``(15, 48)``
        Mean kW per meter; NaN for columns the days do not reach.
    """
    data = (
        result_or_array.import_wh
        if isinstance(result_or_array, ConsumptionResult)
        else np.asarray(result_or_array)
    )
    mean_wh = data.mean(axis=0) if data.ndim == 2 else data
    grid = TimeGrid.build(days)
    if mean_wh.shape != (grid.n_periods,):
        raise ValueError(
            f"data has {mean_wh.shape[-1]} half hours but {grid.n_days} days need {grid.n_periods}"
        )
    col = grid.local_columns(nation)
    total = np.zeros((len(PROFILE_COLUMNS), CLOCK_SLOTS_PER_DAY))
    count = np.zeros((len(PROFILE_COLUMNS), CLOCK_SLOTS_PER_DAY))
    np.add.at(total, (col, grid.local_slots), mean_wh / 500.0)  # Wh per half hour -> kW
    np.add.at(count, (col, grid.local_slots), 1.0)
    with np.errstate(invalid="ignore"):
        return total / count


def _normalised(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Scale so the mean over the present columns is 1 (keeps seasonal level differences)."""
    return values / np.nanmean(values[present])


def plot_population_vs_reference(
    result_or_array: ConsumptionResult | np.ndarray,
    days,
    archetype: str,
    reference_folder: str | Path | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Plot a population's mean daily shape per season x day type against the model's own.

    All curves are scaled to a mean of 1 over the columns the days cover, so shapes and the
    seasonal level differences compare directly.

    Parameters
    ----------
    result_or_array : ConsumptionResult or numpy.ndarray
        Generated data (see :func:`population_column_means`) [Wh].
    days : array of datetime64[D]
        UTC days of the data.
    archetype : str
        Archetype of the population (its model shape and profile class are drawn).
    reference_folder : str or pathlib.Path, optional
        Folder with Elexon's ``elexon_profile_class_N.csv``; adds the reference curves.
    ax : matplotlib.axes.Axes, optional
        Draw all 15 columns side by side on this axes; by default a new 5 x 3 grid figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    generated = population_column_means(result_or_array, days)
    present = ~np.isnan(generated).all(axis=1)
    curves = {"generated population": _normalised(generated, present)}
    if archetype != "unmetered_street_lighting":
        model = model_column_shapes(archetype).to_numpy().T
        curves["model average"] = _normalised(model, present)
        if reference_folder is not None:
            ref = reference_profile(archetype, reference_folder).to_numpy().T
            curves["Elexon reference (1997)"] = _normalised(ref, present)
    styles = {
        "generated population": {"color": "tab:blue", "lw": 1.6},
        "model average": {"color": "tab:orange", "lw": 1.2, "ls": "--"},
        "Elexon reference (1997)": {"color": "black", "lw": 1.0, "ls": ":"},
    }
    hours = (np.arange(CLOCK_SLOTS_PER_DAY) + 1) / 2.0  # period end, local clock [h]

    if ax is not None:
        fig = ax.figure
        x = np.arange(len(PROFILE_COLUMNS) * CLOCK_SLOTS_PER_DAY) / CLOCK_SLOTS_PER_DAY
        for label, values in curves.items():
            ax.plot(x, values.ravel(), label=label, **styles[label])
        ax.set_xticks(np.arange(len(PROFILE_COLUMNS)) + 0.5)
        ax.set_xticklabels(PROFILE_COLUMNS, rotation=90, fontsize=7)
        ax.set_ylabel("relative power [-]")
        ax.set_title(f"{archetype}: mean day by season and day type")
        ax.legend(fontsize=7)
        return fig

    fig = Figure(figsize=(11, 13), layout="constrained")
    axes = fig.subplots(len(SEASONS), len(PROFILE_DAY_TYPES), sharex=True, sharey=True)
    for i, column in enumerate(PROFILE_COLUMNS):
        season, day_type = column.split()
        a = axes[i // 3, i % 3]
        for label, values in curves.items():
            a.plot(hours, values[i], label=label, **styles[label])
        a.set_title(f"{SEASON_NAMES[season]}, {_DAY_TYPE_NAMES[day_type]}", fontsize=9)
        a.set_xticks([0, 6, 12, 18, 24])
        if not present[i]:
            a.text(0.5, 0.5, "no days in range", transform=a.transAxes, ha="center")
    for a in axes[-1]:
        a.set_xlabel("local clock, period end [h]")
    for a in axes[:, 0]:
        a.set_ylabel("relative power [-]")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"{archetype}: population mean vs model (and reference), local time")
    return fig
