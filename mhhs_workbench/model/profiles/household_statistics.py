"""How individual homes behave: statistics of half-hourly series, for real and generated homes.

Each statistic is computed per home from a year of half-hourly energy; a set of homes is then
summarised by the median and the 10th-90th percentile range over its homes. The same functions
read the real household sample (``households/lcl_2013_50_homes.parquet`` in the reference
folder) and generated meters, so the two are compared on equal terms:

* ``lag1``: lag-one autocorrelation of the half-hourly energy (persistence of appliance,
  heating and cooking states);
* ``p95_over_mean``: 95th percentile of the half hours over their mean (peakiness);
* ``above_3x_mean``: share of half hours above three times the home's mean (spikes);
* ``daily_cv``: coefficient of variation of the daily totals (busy and quiet days);
* ``own_day_r``: median correlation of a day's 48 half hours with the home's average day
  (how routine a home is);
* ``cross_home_r``: mean correlation of the home's average day with every other home's
  (how alike homes are);
* ``zero_share``: share of half hours reading exactly zero.

Missing half hours are NaN: pairs and days with a gap are left out of the statistics that need
them. Days are UTC days (the settlement day of the generated data; the sample is in UTC).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mhhs_workbench.model.profiles.model import consumption, default_meters
from mhhs_workbench.time.periods import PERIOD, PERIODS_PER_UTC_DAY, day_range

#: Location of the real household sample inside a reference folder.
SAMPLE_FILE = Path("households") / "lcl_2013_50_homes.parquet"

#: Statistic columns, in table order, with a short description.
STATISTICS: dict[str, str] = {
    "lag1": "lag-1 autocorrelation of half-hourly kWh",
    "p95_over_mean": "95th percentile / mean",
    "above_3x_mean": "share of half hours above 3x the home's mean",
    "daily_cv": "coefficient of variation of daily totals",
    "own_day_r": "correlation of a day with the home's average day (median over days)",
    "cross_home_r": "correlation of the home's average day with other homes'",
    "zero_share": "share of zero half hours",
}

#: Homes with fewer complete days than this are left out of a sample (too short to judge).
MIN_COMPLETE_DAYS = 60


def read_sample(reference_dir: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The real household sample as a homes x half hours matrix [kWh], NaN where missing.

    Parameters
    ----------
    reference_dir : str or pathlib.Path
        Reference folder holding :data:`SAMPLE_FILE`.

    Returns
    -------
    homes : numpy.ndarray of str, shape ``(n,)``
        Household identifiers.
    starts : numpy.ndarray of datetime64[m], shape ``(n_days * 48,)``
        Half-hour starts [UTC], whole UTC days.
    kwh : numpy.ndarray of float, shape ``(n, n_days * 48)``
        Energy per half hour [kWh].
    """
    df = pd.read_parquet(Path(reference_dir) / SAMPLE_FILE)
    t = df["utc_period_start"].dt.tz_convert("UTC").dt.tz_localize(None)
    t = t.to_numpy().astype("datetime64[m]")
    first = t.min().astype("datetime64[D]")
    days = int((t.max().astype("datetime64[D]") - first).astype(int)) + 1
    starts = first.astype("datetime64[m]") + np.arange(days * PERIODS_PER_UTC_DAY) * PERIOD
    homes, row = np.unique(df["household"].to_numpy(dtype=str), return_inverse=True)
    col = ((t - starts[0]) // PERIOD).astype(np.int64)
    kwh = np.full((homes.size, starts.size), np.nan)
    kwh[row, col] = df["kwh"].to_numpy(dtype=np.float64)
    return homes, starts, kwh


def _row_corr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of matching rows of ``a`` and ``b`` (NaN for a constant row)."""
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=-1) * (b * b).sum(axis=-1))
    num = (a * b).sum(axis=-1)
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0)


def _lag1(x: np.ndarray) -> float:
    a, b = x[:-1], x[1:]
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 2:
        return float("nan")
    return float(_row_corr(a[ok], b[ok]))


def home_statistics(values: np.ndarray) -> pd.DataFrame:
    """Per-home statistics (see the module notes) of half-hourly series.

    Parameters
    ----------
    values : array of float, shape ``(n_homes, n_days * 48)``
        Energy per half hour [kWh or Wh: every statistic is scale-free], starting at a UTC
        midnight; NaN where missing.

    Returns
    -------
    pandas.DataFrame
        One row per home kept (at least :data:`MIN_COMPLETE_DAYS` complete days), one column
        per :data:`STATISTICS` key.
    """
    # a constant day or home has no correlation: NaN, left out of the medians without a warning
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return _home_statistics(values)


def _home_statistics(values: np.ndarray) -> pd.DataFrame:
    x = np.asarray(values, dtype=np.float64)
    n = x.shape[0]
    days = x.reshape(n, -1, PERIODS_PER_UTC_DAY)
    complete = np.isfinite(days).all(axis=2)
    keep = complete.sum(axis=1) >= MIN_COMPLETE_DAYS
    mean = np.nanmean(x, axis=1)
    finite = np.isfinite(x)
    out = {
        "lag1": np.array([_lag1(row) for row in x]),
        "p95_over_mean": np.nanpercentile(x, 95, axis=1) / mean,
        "above_3x_mean": np.sum(x > 3 * mean[:, None], axis=1) / finite.sum(axis=1),
        "zero_share": np.sum(x == 0, axis=1) / finite.sum(axis=1),
    }
    totals = np.where(complete, np.nansum(days, axis=2), np.nan)
    out["daily_cv"] = np.nanstd(totals, axis=1) / np.nanmean(totals, axis=1)
    clean = np.where(complete[:, :, None], days, np.nan)
    average = np.nanmean(clean, axis=1)  # (n, 48): the home's average day
    own = _row_corr(np.nan_to_num(clean), average[:, None, :])
    own[~complete] = np.nan
    out["own_day_r"] = np.nanmedian(own, axis=1)
    avg = average[keep]
    cross = np.corrcoef(avg) if avg.shape[0] > 1 else np.full((1, 1), np.nan)
    np.fill_diagonal(cross, np.nan)
    cross_r = np.full(n, np.nan)
    cross_r[keep] = np.nanmean(cross, axis=1)
    out["cross_home_r"] = cross_r
    frame = pd.DataFrame({k: out[k] for k in STATISTICS})
    return frame[keep].reset_index(drop=True)


def summarise(stats: pd.DataFrame) -> pd.DataFrame:
    """Median and 10th / 90th percentiles over homes of each statistic.

    Returns
    -------
    pandas.DataFrame
        Index: the statistics; columns ``p10``, ``median``, ``p90``.
    """
    q = stats.quantile([0.1, 0.5, 0.9]).T
    q.columns = ["p10", "median", "p90"]
    return q


def comparison_table(generated: pd.DataFrame, real: pd.DataFrame) -> pd.DataFrame:
    """Generated beside real homes: medians and 10th-90th ranges, and whether each fits.

    A statistic fits when the generated median lies inside the real 10th-90th range and
    within 20 % of the real median (exactly equal when the real median is zero).

    Parameters
    ----------
    generated, real : pandas.DataFrame
        Per-home statistics from :func:`home_statistics`.
    """
    g, r = summarise(generated), summarise(real)
    table = pd.DataFrame(
        {
            "generated_median": g["median"],
            "generated_p10": g["p10"],
            "generated_p90": g["p90"],
            "real_median": r["median"],
            "real_p10": r["p10"],
            "real_p90": r["p90"],
        }
    )
    inside = (g["median"] >= r["p10"]) & (g["median"] <= r["p90"])
    close = (g["median"] - r["median"]).abs() <= 0.2 * r["median"].abs()
    table["fits"] = inside & close
    return table


def markdown_table(table: pd.DataFrame) -> str:
    """A :func:`comparison_table` as a Markdown table (3 significant figures)."""

    def rng(lo: float, hi: float) -> str:
        return f"{lo:.3g} - {hi:.3g}"

    lines = [
        "| statistic | generated median | generated 10-90 % | real median | real 10-90 % | fits |",
        "|---|---|---|---|---|---|",
    ]
    for key, row in table.iterrows():
        lines.append(
            f"| {STATISTICS[str(key)]} | {row.generated_median:.3g} | "
            f"{rng(row.generated_p10, row.generated_p90)} | {row.real_median:.3g} | "
            f"{rng(row.real_p10, row.real_p90)} | {'yes' if row.fits else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def generated_homes(n: int = 80, year: int = 2013, seed: int = 13) -> np.ndarray:
    """A year of generated PC1 homes without PV, EV or heat pump [Wh].

    Parameters
    ----------
    n : int
        Number of homes (meter indices 0 ... n-1).
    year : int
        Calendar year (UTC days).
    seed : int
        Data-set seed.

    Returns
    -------
    numpy.ndarray of float, shape ``(n, n_days * 48)``
    """
    days = day_range(f"{year}-01-01", f"{year}-12-31")
    meters = default_meters(n, "domestic_unrestricted", seed=seed)
    return consumption(meters, days, seed).import_wh.astype(np.float64)


@dataclass(frozen=True)
class HomesComparison:
    """Real and generated homes side by side (what the docs table and figure show).

    Attributes
    ----------
    real_kwh : numpy.ndarray, shape ``(n_real, n_days * 48)``
        The sample's half-hourly energy [kWh], NaN where missing.
    starts : numpy.ndarray of datetime64[m]
        Half-hour starts of ``real_kwh`` and ``generated_kwh`` [UTC].
    generated_kwh : numpy.ndarray, shape ``(n_generated, n_days * 48)``
        Generated PC1 homes over the same UTC days [kWh].
    real, generated : pandas.DataFrame
        Per-home statistics (:func:`home_statistics`).
    table : pandas.DataFrame
        :func:`comparison_table` of the two.
    """

    real_kwh: np.ndarray
    starts: np.ndarray
    generated_kwh: np.ndarray
    real: pd.DataFrame
    generated: pd.DataFrame
    table: pd.DataFrame


def compare_homes(reference_dir: str | Path, n: int = 80, seed: int = 13) -> HomesComparison:
    """Read the household sample and generate a year of PC1 homes over the same year.

    Parameters
    ----------
    reference_dir : str or pathlib.Path
        Reference folder holding :data:`SAMPLE_FILE`.
    n : int
        Number of generated homes.
    seed : int
        Data-set seed of the generated homes.
    """
    _, starts, real_kwh = read_sample(reference_dir)
    year = int(starts[0].astype("datetime64[Y]").astype(np.int64)) + 1970
    generated = generated_homes(n, year, seed) / 1000.0
    if generated.shape[1] != real_kwh.shape[1]:
        raise ValueError(
            f"{SAMPLE_FILE}: expected one calendar year of half hours, got {real_kwh.shape[1]}"
        )
    real, gen = home_statistics(real_kwh), home_statistics(generated)
    return HomesComparison(real_kwh, starts, generated, real, gen, comparison_table(gen, real))


def find_sample(folder: str | Path) -> Path | None:
    """The household sample in a reference folder or beside it (its ``profiles`` sub-folder).

    Returns
    -------
    pathlib.Path or None
        The reference folder that holds :data:`SAMPLE_FILE`, or None.
    """
    folder = Path(folder).expanduser()
    for candidate in (folder, folder.parent):
        if (candidate / SAMPLE_FILE).is_file():
            return candidate
    return None
