"""Fit the model's parameters to reference data (run by ``scripts/calibrate_profiles.py``).

What is fitted, and how:

* **Profile class shapes** (classes 1-8): for each of the 15 season x day-type columns, a
  least-squares 8-harmonic Fourier series over the 48 local clock slots (17 coefficients
  against 48 values). Economy 7 classes (2 and 4) are fitted jointly with a night-circuit term:
  a cubic Bernstein polynomial (4 non-negative coefficients, so the storage heating load is
  never negative) over the 14 half hours of the switched window, 00:30-07:30 GMT, i.e. local
  slots 1-14 in winter and 3-16 on the summer clock. The sign constraint is solved exactly by
  trying every set of active coefficients (16 small least-squares problems).
* **Level**: coefficients are divided by the class's mean power over a reference year (2025,
  England & Wales calendar), so a year of the model averages 1; the reference's own mean is
  kept as ``reference_annual_kwh`` for choosing typical non-domestic consumption.
* **Economy 7 night share**: reported as ``reference_night_share`` (share of annual energy in
  the window; about 46 % for the domestic class). ``night_scale`` multiplies the night term; it
  is kept at 1: scaling the domestic night term down to Ofgem's 42 % would need a factor of
  about 0.5, which distorts the summer-time shapes below the required fidelity (r < 0.95).
* **Temperature sensitivity**: half the slope of the weekday level across the five seasons
  against each season's climatological temperature (relative change per °C); the other half of
  the seasonal swing is daylight (lighting), which the seasons already carry.
* **Heat pump**: daily ASHP electricity against daily temperature as a smoothed hinge
  ``base + slope h + curve h^2``, ``h = w log(1 + exp((T0 - T) / w))`` (grid search on
  ``T0, w``, least squares for the rest); a hot-water shape from the warmest days and a space-
  heating shape from the coldest, each a 6-harmonic Fourier series.
* **PV**: the output scale that gives 930 kWh/kWp a year at 52.5° N under the model's expected
  cloudiness (no reference data needed).

Every number is rounded to 6 significant figures (and floating-point noise below 1e-12 to 0) so
the written file is stable.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mhhs_workbench.model.profiles import fourier
from mhhs_workbench.model.profiles.overlays import (
    PV_CALIBRATION_SITE,
    PV_TARGET_YIELD_KWH_PER_KWP,
    cloud_mean,
    expected_clearness,
    pv_clear_sky,
)
from mhhs_workbench.model.profiles.reference import (
    CLASS_FILES,
    HEATING_FILE,
    PROFILE_COLUMNS,
    reference_heat_pump_daily,
    reference_heating,
    reference_profile,
)
from mhhs_workbench.model.profiles.shapes import NIGHT_SLOTS, NIGHT_START_UTC_SLOT, night_basis
from mhhs_workbench.model.profiles.weather import climatology
from mhhs_workbench.time.periods import (
    CLOCK_SLOTS_PER_DAY,
    PERIOD,
    PERIODS_PER_UTC_DAY,
    SEASONS,
    day_range,
    profile_day_types,
    seasons,
)

HARMONICS = 8
NIGHT_TERMS = 4
HP_HARMONICS = 6
REFERENCE_YEAR = 2025
ECONOMY7_CLASSES = (2, 4)
SIGNIFICANT_FIGURES = 6
#: Fitted numbers smaller than this in magnitude are written as 0 (no parameter is that small).
ZERO_BELOW = 1e-12


def column_day_counts(year: int = REFERENCE_YEAR) -> np.ndarray:
    """Number of local days of each of the 15 profile columns in a year (England & Wales)."""
    days = day_range(f"{year}-01-01", f"{year}-12-31")
    col = seasons(days) * 3 + profile_day_types(days, "ENG")
    return np.bincount(col, minlength=len(PROFILE_COLUMNS)).astype(np.float64)


def season_temperatures(year: int = REFERENCE_YEAR) -> np.ndarray:
    """Mean climatological temperature of each Elexon season in a year [°C]."""
    days = day_range(f"{year}-01-01", f"{year}-12-31")
    s = seasons(days)
    t = climatology(days)
    return np.array([t[s == i].mean() for i in range(len(SEASONS))])


def _window_slots(column: str) -> np.ndarray:
    """Local slots of the Economy 7 window for a column (GMT in winter, BST otherwise)."""
    lo = NIGHT_START_UTC_SLOT + (0 if column.startswith("Wtr") else 2)
    return np.arange(lo, lo + NIGHT_SLOTS)


def fit_columns(ref: pd.DataFrame, economy7: bool) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares shape coefficients of each column of a reference profile.

    Returns
    -------
    day : numpy.ndarray, shape ``(15, 2 * HARMONICS + 1)``
        Fourier coefficients [kW].
    night : numpy.ndarray, shape ``(15, NIGHT_TERMS)``
        Non-negative Bernstein coefficients of the night term [kW] (zeros unless ``economy7``).
    """
    theta = fourier.slot_phase(np.arange(CLOCK_SLOTS_PER_DAY))
    xf = fourier.design(theta, HARMONICS)
    # residual-maker of the Fourier part: the night term is fitted to what it cannot explain
    resid = np.eye(CLOCK_SLOTS_PER_DAY) - xf @ np.linalg.pinv(xf)
    day = np.zeros((len(PROFILE_COLUMNS), xf.shape[1]))
    night = np.zeros((len(PROFILE_COLUMNS), NIGHT_TERMS))
    for i, col in enumerate(PROFILE_COLUMNS):
        v = ref[col].to_numpy(dtype=np.float64)
        if economy7:
            xn = np.zeros((CLOCK_SLOTS_PER_DAY, NIGHT_TERMS))
            xn[_window_slots(col)] = night_basis(NIGHT_TERMS)
            night[i] = _nonnegative_lstsq(resid @ xn, resid @ v)
            v = v - xn @ night[i]
        day[i], *_ = np.linalg.lstsq(xf, v, rcond=None)
    return day, night


def _nonnegative_lstsq(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``argmin ||a x - b||`` subject to ``x >= 0``, by trying every active set (few columns)."""
    n = a.shape[1]
    best_x, best_r = np.zeros(n), float(np.sum(b * b))
    for mask in range(1, 1 << n):
        cols = [j for j in range(n) if mask >> j & 1]
        xs, *_ = np.linalg.lstsq(a[:, cols], b, rcond=None)
        if np.any(xs < 0):
            continue
        x = np.zeros(n)
        x[cols] = xs
        r = float(np.sum((a @ x - b) ** 2))
        if r < best_r - 1e-15:
            best_x, best_r = x, r
    return best_x


def _night_values(night: np.ndarray) -> np.ndarray:
    """Night term over the window, ``(15, 14)``."""
    return night @ night_basis(night.shape[1]).T


def _relative_slope(levels: np.ndarray, temps: np.ndarray) -> float:
    """Slope of ``levels / mean(levels)`` against temperature [1/°C]."""
    rel = levels / levels.mean()
    return float(np.polyfit(temps, rel, 1)[0])


def fit_profile_class(ref: pd.DataFrame, profile_class: int) -> dict[str, Any]:
    """Fit one profile class (see the module notes).

    Parameters
    ----------
    ref : pandas.DataFrame
        Reference profile from :func:`~mhhs_workbench.model.profiles.reference.reference_profile` [kW].
    profile_class : int
        Its class number 1-8.

    Returns
    -------
    dict
        ``columns`` (Fourier coefficients per column, relative power), ``night`` (Economy 7
        only), ``night_scale``, ``reference_annual_kwh``, ``reference_night_share``,
        ``temperature_sensitivity`` and ``night_temperature_sensitivity`` [1/°C].
    """
    economy7 = profile_class in ECONOMY7_CLASSES
    day, night = fit_columns(ref, economy7)
    counts = column_day_counts()
    theta = fourier.slot_phase(np.arange(CLOCK_SLOTS_PER_DAY))
    day_vals = np.clip(fourier.evaluate(day, theta), 0.0, None)  # (15, 48)
    night_vals = _night_values(night)  # (15, 14)
    col_energy = day_vals.sum(axis=1) + night_vals.sum(axis=1)  # kW x half hours per day
    mean_kw = float(counts @ col_energy / counts.sum() / CLOCK_SLOTS_PER_DAY)

    out: dict[str, Any] = {
        "columns": {c: (day[i] / mean_kw).tolist() for i, c in enumerate(PROFILE_COLUMNS)},
        "reference_annual_kwh": mean_kw * 24 * 365.25,
    }
    temps = season_temperatures()
    wd = np.arange(len(SEASONS)) * 3  # weekday column of each season
    out["temperature_sensitivity"] = float(
        np.clip(-0.5 * _relative_slope(day[wd, 0], temps), 0.0, 0.05)
    )
    if economy7:
        window_day = np.array(
            [day_vals[i, _window_slots(c)].sum() for i, c in enumerate(PROFILE_COLUMNS)]
        )
        a_w = float(counts @ window_day)
        n_w = float(counts @ night_vals.sum(axis=1))
        total_day = float(counts @ day_vals.sum(axis=1))
        share = (a_w + n_w) / (total_day + n_w)
        out["night"] = {c: (night[i] / mean_kw).tolist() for i, c in enumerate(PROFILE_COLUMNS)}
        out["night_scale"] = 1.0
        out["reference_night_share"] = share
        out["night_temperature_sensitivity"] = float(
            np.clip(-0.5 * _relative_slope(night_vals[wd].mean(axis=1), temps), 0.0, 0.08)
        )
    return out


def _hinge(t: np.ndarray, balance: float, width: float) -> np.ndarray:
    return width * np.logaddexp(0.0, (balance - t) / width)


def fit_heat_pump(folder: str | Path) -> dict[str, Any]:
    """Fit the heat-pump daily temperature relation and intraday shapes (module notes).

    Parameters
    ----------
    folder : str or pathlib.Path
        Reference folder with the 2013 heating technology file.

    Returns
    -------
    dict
        ``daily`` (``base``, ``slope``, ``curve``, ``balance_c``, ``width_c``, ``coldest_c`` and
        ``cold_slope_per_c`` for linear extrapolation below the coldest reference day, and
        ``fit_r``, the correlation of fitted and reference daily energy), ``hot_water`` and
        ``space_heating`` (Fourier coefficients, mean 1).
    """
    daily = reference_heat_pump_daily(folder)
    t = daily["temperature_c"].to_numpy()
    e = daily["elec"].to_numpy()
    best: tuple[float, float, float, np.ndarray] | None = None
    for balance in np.arange(10.0, 20.001, 0.25):
        for width in np.arange(0.5, 5.001, 0.25):
            h = _hinge(t, balance, width)
            x = np.column_stack([np.ones_like(h), h, h * h])
            coef, *_ = np.linalg.lstsq(x, e, rcond=None)
            sse = float(np.sum((x @ coef - e) ** 2))
            if best is None or sse < best[0]:
                best = (sse, float(balance), float(width), coef)
    assert best is not None
    _, balance, width, coef = best
    fitted = coef @ np.vstack(
        [np.ones_like(t), _hinge(t, balance, width), _hinge(t, balance, width) ** 2]
    )
    base = float(coef[0])
    # below the coldest reference day the quadratic could bend down; continue it linearly with
    # its mean slope over the 10 °C above that day (colder always means more electricity)
    coldest = float(t.min())
    edge = coef @ np.array(
        [
            [1.0, 1.0],
            *[_hinge(np.array([coldest, coldest + 10.0]), balance, width) ** p for p in (1, 2)],
        ]
    )
    cold_slope = float((edge[0] - edge[1]) / 10.0)

    hh = reference_heating(folder)
    slot = hh.index.hour * 2 + hh.index.minute // 30
    day = hh.index.normalize()
    share = hh["Normalised_ASHP_elec"].to_numpy()
    table = pd.DataFrame({"day": day, "slot": slot, "v": share}).pivot(
        index="day", columns="slot", values="v"
    )
    profile = table.to_numpy() / table.to_numpy().sum(axis=1, keepdims=True)  # per-day shape
    temp = daily.reindex(table.index)["temperature_c"].to_numpy()
    energy = daily.reindex(table.index)["elec"].to_numpy()
    warm = temp >= 16.0
    cold = temp <= 5.0
    hot_water = profile[warm].mean(axis=0) * CLOCK_SLOTS_PER_DAY
    f_cold = energy[cold].mean()
    cold_profile = (energy[cold, None] * profile[cold]).sum(axis=0) / energy[cold].sum()
    space = (CLOCK_SLOTS_PER_DAY * f_cold * cold_profile - base * hot_water) / (f_cold - base)
    hw = fourier.fit(hot_water, HP_HARMONICS)
    sh = fourier.fit(space, HP_HARMONICS)
    return {
        "daily": {
            "base": base,
            "slope": float(coef[1]),
            "curve": float(coef[2]),
            "balance_c": balance,
            "width_c": width,
            "coldest_c": coldest,
            "cold_slope_per_c": cold_slope,
            "fit_r": float(np.corrcoef(fitted, e)[0, 1]),
        },
        "hot_water": (hw / hw[0]).tolist(),
        "space_heating": (sh / sh[0]).tolist(),
    }


def fit_pv_scale(year: int = REFERENCE_YEAR) -> dict[str, float]:
    """Output scale [kW per kW/m² per kWp] giving the target yield at the calibration site."""
    days = day_range(f"{year}-01-01", f"{year}-12-31")
    ends = (
        days.astype("datetime64[m]")[:, None] + np.arange(1, PERIODS_PER_UTC_DAY + 1) * PERIOD
    ).ravel()
    lat, lon = PV_CALIBRATION_SITE
    poa = pv_clear_sky(ends, lat, lon)  # (3, n) kW/m²
    mix = np.array([0.25, 0.5, 0.25]) @ poa * 0.95  # mean orientation weights and performance
    clear = np.repeat(expected_clearness(cloud_mean(days)), PERIODS_PER_UTC_DAY)
    kwh_per_unit = float(np.sum(mix * clear) * 0.5)
    return {"kw_per_kw_m2": PV_TARGET_YIELD_KWH_PER_KWP / kwh_per_unit}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_parameters(folder: str | Path) -> dict[str, Any]:
    """Fit everything from a reference folder into the parameter document.

    Parameters
    ----------
    folder : str or pathlib.Path
        Folder with ``elexon_profile_class_1.csv`` ... ``_8.csv`` and the heating file.
    """
    folder = Path(folder)
    inputs = [*CLASS_FILES, HEATING_FILE]
    about = {
        "what": "Calibrated parameters of the mhhs_workbench consumption model. Fitted "
        "coefficients only: the reference data are not reproduced here.",
        "made_by": "scripts/calibrate_profiles.py (mhhs_workbench.model.profiles.calibration); "
        "rerunning it on the same inputs reproduces this file byte for byte",
        "method": [
            f"profile classes: {HARMONICS}-harmonic Fourier series per season x day-type column "
            "over the 48 local clock slots, least squares; Economy 7 classes add a "
            f"{NIGHT_TERMS}-term non-negative Bernstein night term over 00:30-07:30 GMT",
            f"units: relative power, the class's mean over {REFERENCE_YEAR} is 1",
            "night_scale 1: Economy 7 night share as in the reference (reference_night_share)",
            "temperature sensitivity: half the seasonal slope of weekday level vs climatology",
            "heat pump: smoothed heating-degree hinge fitted to 2013 daily ASHP electricity; "
            f"{HP_HARMONICS}-harmonic hot-water and space-heating shapes",
            "pv: scale for 930 kWh/kWp a year at 52.5 N under the model's mean cloudiness",
            f"all numbers rounded to {SIGNIFICANT_FIGURES} significant figures",
        ],
        "inputs_sha256": {name: _sha256(folder / name) for name in inputs},
    }
    classes = {str(pc): fit_profile_class(reference_profile(pc, folder), pc) for pc in range(1, 9)}
    return {
        "about": about,
        "harmonics": HARMONICS,
        "night_terms": NIGHT_TERMS,
        "classes": classes,
        "heat_pump": fit_heat_pump(folder),
        "pv": fit_pv_scale(),
    }


def _rounded(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    if isinstance(value, (float, np.floating)):
        if abs(value) < ZERO_BELOW:
            return 0.0  # rounding noise of an exact zero; its digits vary with the BLAS build
        r = float(f"{float(value):.{SIGNIFICANT_FIGURES}g}")
        return 0.0 if r == 0 else r
    return value


def format_parameters(params: dict[str, Any]) -> str:
    """The parameter document as stable, rounded JSON text."""
    return json.dumps(_rounded(params), indent=1, ensure_ascii=False) + "\n"


def write_parameters(params: dict[str, Any], path: str | Path) -> Path:
    """Write the parameter document to ``path`` (UTF-8, ``\\n`` line ends)."""
    p = Path(path)
    p.write_text(format_parameters(params), encoding="utf-8", newline="\n")
    return p
