"""Smooth passage through the year: Elexon's five season averages blended by day of year.

Elexon's profile class tables give one average day per season (Winter, Spring, Summer, High
Summer, Autumn) and day type. Switching from one table to the next overnight would make a
fleet's demand jump at every season boundary (about a quarter more on the day of the October
clock change, when Autumn becomes Winter), whereas real demand follows temperature and daylight,
which change by small steps from day to day.

The model therefore treats each table as the **mean** of a shape that moves smoothly through the
year. Each season has an *anchor* shape placed at the middle day of the season; a day between two
anchors takes a linear blend of them (weights from its distance to each anchor, so heating and
lighting load rise gradually through autumn as the days cool and the sunset comes earlier). The
anchors are solved so that averaging the blended days over each season gives back exactly
Elexon's season table: with ``W[S, s]`` the mean blend weight of anchor ``s`` over the days of
season ``S`` (per day type, over the reference year's calendar), the anchors are
``W^-1 @ tables``. Because the solution is linear, it is applied to the Fourier coefficients of
the shapes directly.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from mhhs_workbench.time.periods import (
    SEASONS,
    as_days,
    profile_day_types,
    season_boundaries,
    seasons,
)

#: Calendar year (England & Wales) whose season and day-type calendar fixes the anchors; the
#: calibration's reference year.
BLEND_REFERENCE_YEAR = 2025
N_SEASONS = len(SEASONS)
N_DAY_TYPES = 3
_WTR, _SPR, _SMR, _HSR, _AUT = range(N_SEASONS)


def _anchors(year: int) -> list[tuple[float, int]]:
    """(day number of the middle of the season, season index) of the seasons ending in ``year``.

    Winter straddles the new year; the winter listed for ``year`` is the one that ends in it.
    """
    b = {k: int(v.astype(np.int64)) for k, v in season_boundaries(year).items()}
    prev_winter = int(season_boundaries(year - 1)["Wtr"].astype(np.int64))
    spans = (
        (_WTR, prev_winter, b["Spr"]),
        (_SPR, b["Spr"], b["Smr"]),
        (_SMR, b["Smr"], b["Hsr"]),
        (_HSR, b["Hsr"], b["Aut"]),
        (_AUT, b["Aut"], b["Wtr"]),
    )
    # the middle of a season of days first .. last - 1
    return [((first + last - 1) / 2.0, s) for s, first, last in spans]


def season_weights(days: np.ndarray) -> np.ndarray:
    """Blend weight of each season's anchor shape on each local day.

    Parameters
    ----------
    days : array of datetime64[D]
        Local days.

    Returns
    -------
    numpy.ndarray, shape ``(n_days, 5)``
        Non-negative weights summing to 1 per day, at most two non-zero (the anchors either side
        of the day), in season order Wtr, Spr, Smr, Hsr, Aut.
    """
    d = as_days(days)
    out = np.zeros((d.size, N_SEASONS))
    if not d.size:
        return out
    years = d.astype("datetime64[Y]").astype(np.int64) + 1970
    anchors = [a for y in range(int(years.min()) - 1, int(years.max()) + 2) for a in _anchors(y)]
    at = np.array([a for a, _ in anchors])
    which = np.array([s for _, s in anchors])
    x = d.astype(np.int64).astype(np.float64)
    right = np.searchsorted(at, x, side="right")  # first anchor after the day
    left = right - 1
    frac = (x - at[left]) / (at[right] - at[left])
    rows = np.arange(d.size)
    np.add.at(out, (rows, which[left]), 1.0 - frac)
    np.add.at(out, (rows, which[right]), frac)
    return out


@lru_cache(maxsize=1)
def blend_matrices() -> np.ndarray:
    """Mean anchor weights over the days of each season, per day type.

    Returns
    -------
    numpy.ndarray, shape ``(3, 5, 5)``
        ``[day type, season S, anchor s]``: mean weight of anchor ``s`` over the reference
        year's days of season ``S`` and that day type (0 weekday, 1 Saturday, 2 Sunday or bank
        holiday, England & Wales).
    """
    y = BLEND_REFERENCE_YEAR
    days = np.arange(np.datetime64(f"{y}-01-01"), np.datetime64(f"{y + 1}-01-01"))
    w = season_weights(days)
    s = seasons(days)
    dt = profile_day_types(days, "ENG")
    out = np.zeros((N_DAY_TYPES, N_SEASONS, N_SEASONS))
    for t in range(N_DAY_TYPES):
        for season in range(N_SEASONS):
            out[t, season] = w[(dt == t) & (s == season)].mean(axis=0)
    return out


def anchor_values(season_values: np.ndarray) -> np.ndarray:
    """Anchor shapes whose blend averages to the given season tables over each season.

    Parameters
    ----------
    season_values : numpy.ndarray, shape ``(15, ...)``
        One entry per profile column (season * 3 + day type): e.g. Fourier coefficients or
        values over the half hours of a column.

    Returns
    -------
    numpy.ndarray, same shape
        Anchor entries, column order unchanged.
    """
    v = np.asarray(season_values, dtype=np.float64)
    out = np.empty_like(v)
    m = blend_matrices()
    for t in range(N_DAY_TYPES):
        cols = np.arange(N_SEASONS) * N_DAY_TYPES + t
        flat = v[cols].reshape(N_SEASONS, -1)
        out[cols] = np.linalg.solve(m[t], flat).reshape(v[cols].shape)
    return out

