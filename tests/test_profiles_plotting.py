"""The population-vs-reference plot renders headless."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from mhhs_workbench.model.profiles import consumption, default_meters  # noqa: E402
from mhhs_workbench.model.profiles.plotting import (
    plot_population_vs_reference,
    population_column_means,
)
from mhhs_workbench.time.periods import day_range  # noqa: E402

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "profiles"


def test_plot_grid_and_single_axes() -> None:
    days = day_range("2025-01-01", "2025-02-28")
    result = consumption(default_meters(40, "domestic_economy7", seed=1), days, seed=2)
    folder = REFERENCE if REFERENCE.is_dir() else None
    fig = plot_population_vs_reference(result, days, "domestic_economy7", reference_folder=folder)
    assert isinstance(fig, Figure) and len(fig.axes) == 15
    lines = len(fig.axes[0].lines)
    assert lines == (3 if folder else 2)
    fig.savefig(io.BytesIO(), format="png", dpi=40)

    other = Figure()
    ax = other.add_subplot()
    same = plot_population_vs_reference(result.import_wh, days, "domestic_economy7", ax=ax)
    assert same is other and len(ax.lines) >= 2


def test_column_means_cover_only_the_days_given() -> None:
    days = day_range("2025-01-06", "2025-01-12")
    means = population_column_means(np.ones((3, days.size * 48)) * 500, days)
    assert np.allclose(means[0:3], 1.0)  # winter columns: 500 Wh per half hour = 1 kW
    assert np.isnan(means[3:]).all()
