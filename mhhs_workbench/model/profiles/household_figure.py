"""The real-versus-generated homes figure: a week of three homes of each, and the statistics.

Drawn from a :class:`~mhhs_workbench.model.profiles.household_statistics.HomesComparison`; used by
``scripts/homes_report.py`` (``docs/homes.png``) and the profile designer's reference view.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from mhhs_workbench.model.profiles.household_statistics import STATISTICS, HomesComparison
from mhhs_workbench.time.periods import PERIODS_PER_UTC_DAY

#: Short labels of the statistics for the figure's small panels.
SHORT_LABELS: dict[str, str] = {
    "lag1": "lag-1 autocorrelation",
    "p95_over_mean": "95th percentile / mean",
    "above_3x_mean": "share above 3x mean",
    "daily_cv": "CV of daily totals",
    "own_day_r": "r(day, own average day)",
    "cross_home_r": "r(average day, others')",
    "zero_share": "share of zero half hours",
}

REAL_COLOUR = "#1b6ca8"
GENERATED_COLOUR = "#d1495b"
HOMES_SHOWN = 3


def _week_start(comparison: HomesComparison, first_monday: int = 7) -> int:
    """Index of the first half hour of a week (from the given Monday of the year, in weeks)."""
    day0 = comparison.starts[0].astype("datetime64[D]")
    weekday = (day0.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    return int(((7 - weekday) % 7 + 7 * first_monday) * PERIODS_PER_UTC_DAY)


def _typical_homes(kwh: np.ndarray, a: int, b: int, count: int) -> np.ndarray:
    """``count`` homes with every half hour of ``a:b`` present whose annual mean is nearest the
    median home's (typical homes, neither empty nor the largest)."""
    mean = np.nanmean(kwh, axis=1)
    ok = np.isfinite(kwh[:, a:b]).all(axis=1) & (np.nansum(kwh[:, a:b], axis=1) > 0)
    order = np.argsort(np.abs(mean - np.nanmedian(mean)), kind="stable")
    return np.sort(order[ok[order]][:count])


def comparison_figure(comparison: HomesComparison) -> Figure:
    """A week of three real and three generated homes, and each statistic's spread over homes.

    Parameters
    ----------
    comparison : HomesComparison
        Real and generated homes (:func:`~.household_statistics.compare_homes`).

    Returns
    -------
    matplotlib.figure.Figure
        Top: one panel per home, a week of half-hourly energy [kWh] (real left, generated
        right, same scale). Bottom: one panel per statistic, every home as a dot and the
        10th-90th percentile range and median as a bar, real above generated.
    """
    a = _week_start(comparison)
    b = a + 7 * PERIODS_PER_UTC_DAY
    hours = np.arange(b - a) / 2.0
    real_rows = _typical_homes(comparison.real_kwh, a, b, HOMES_SHOWN)
    generated_rows = _typical_homes(comparison.generated_kwh, a, b, HOMES_SHOWN)
    top = max(
        np.nanmax(comparison.real_kwh[real_rows, a:b]),
        comparison.generated_kwh[generated_rows, a:b].max(),
    )

    fig = Figure(figsize=(13, 11), layout="constrained")
    outer = fig.add_gridspec(2, 1, height_ratios=[3.0, 1.3])
    weeks = outer[0].subgridspec(HOMES_SHOWN, 2)
    panels = outer[1].subgridspec(1, len(STATISTICS))
    day0 = str(comparison.starts[a].astype("datetime64[D]"))
    for col, (name, rows, values, colour) in enumerate(
        (
            ("real", real_rows, comparison.real_kwh, REAL_COLOUR),
            ("generated", generated_rows, comparison.generated_kwh, GENERATED_COLOUR),
        )
    ):
        for k, row in enumerate(rows):
            ax = fig.add_subplot(weeks[k, col])
            ax.plot(hours, values[row, a:b], color=colour, lw=0.8)
            ax.set_ylim(0, top * 1.02)
            ax.set_xlim(0, hours[-1] + 0.5)
            ax.set_xticks(np.arange(0, 7 * 24 + 1, 24))
            ax.set_xticklabels([] if k < len(rows) - 1 else [f"day {d}" for d in range(8)])
            if col == 0:
                ax.set_ylabel("kWh")
            ax.set_title(f"{name} home {k + 1}", fontsize=9, loc="left")
            ax.grid(alpha=0.3)
    fig.suptitle(
        f"A week of half hours from {day0} (UTC): typical real London homes (blue) and "
        "generated PC1 homes (red)",
        fontsize=11,
    )

    for j, key in enumerate(STATISTICS):
        ax = fig.add_subplot(panels[0, j])
        for y, stats, colour in (
            (1.0, comparison.real[key], REAL_COLOUR),
            (0.0, comparison.generated[key], GENERATED_COLOUR),
        ):
            v = stats.dropna().to_numpy()
            jitter = np.linspace(-0.15, 0.15, v.size) if v.size else v
            ax.scatter(v, y + jitter, s=6, color=colour, alpha=0.5, lw=0)
            lo, mid, hi = np.percentile(v, [10, 50, 90])
            ax.plot([lo, hi], [y + 0.3, y + 0.3], color=colour, lw=3)
            ax.plot([mid], [y + 0.3], marker="|", ms=12, mew=2, color="k")
        ax.set_yticks([0, 1])
        ax.set_yticklabels(["gen.", "real"] if j == 0 else [])
        ax.set_ylim(-0.5, 1.6)
        ax.set_title(SHORT_LABELS[key], fontsize=8)
        ax.tick_params(labelsize=7)
    fig.supxlabel(
        "Per-home statistics over the year: dots are homes, bars the 10th-90th percentile "
        "range, ticks the medians",
        fontsize=9,
    )
    return fig
