"""The consumption engine: meters x UTC half hours of integer Wh, from a seed.

Pipeline for each group of meters sharing an archetype and a nation (or, for street lighting, a
GSP group), in blocks of a few hundred meters:

1. evaluate the archetype's basis rows (:mod:`.shapes`, :mod:`.lighting`) over the **whole
   calendar years** containing the requested days, once for the group;
2. each meter's expected day energy is its weights (:mod:`.individuality`) times the rows'
   daily sums, times its day-level noise; the meter's scale is set so that those day energies
   add up to its annual consumption over each calendar year;
3. the half-hourly shape (weights times rows) is multiplied by the meter's half-hourly noise,
   then each UTC day is rescaled to exactly its target energy, and rounded to integer Wh
   (:mod:`.rounding`);
4. overlays (:mod:`.overlays`) are added, PV self-use is netted off, and maximum demand sites
   get reactive energy (:mod:`.reactive`).

Annual consumption (``annual_kwh``) is the meter's **archetype load**: its import before PV
self-use and excluding EV charging and heat-pump electricity (which have their own sizes).
Over one calendar year of UTC days (1 January to 31 December, 365 or 366 days) a meter's
archetype load sums to ``annual_kwh`` to the Wh (``round(annual_kwh * 1000)``); a meter's level
does not depend on the date range requested, because its scale always comes from the whole
year. For a meter with overlays::

    demand      = archetype load + EV charging + heat-pump electricity
    self-use    = min(demand, PV generation)           (per half hour)
    import (AI) = demand - self-use
    export (AE) = PV generation - self-use

Temperature: a daily series supplied by the user replaces the built-in synthetic series on the
days it covers (:func:`~.weather.daily_temperature`), for the requested days and for the rest of
their years (which fix the annual scale).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mhhs_workbench.codes.archetypes import ARCHETYPES, ArchetypeSpec, archetype_spec
from mhhs_workbench.codes.identifiers import GSP_GROUPS, NATION_BY_GSP_GROUP
from mhhs_workbench.model.profiles import individuality as ind
from mhhs_workbench.model.profiles.context import RangeContext, run_context
from mhhs_workbench.model.profiles.economy7 import economy7_windows
from mhhs_workbench.model.profiles.lighting import lighting_weights
from mhhs_workbench.model.profiles.operating import operated_rows, site_operation
from mhhs_workbench.model.profiles.overlays import (
    ev_charging_wh,
    heat_pump_weights,
    overlay_unavailable,
    pv_weights,
)
from mhhs_workbench.model.profiles.reactive import reactive_varh
from mhhs_workbench.model.profiles.rounding import cumulative_round
from mhhs_workbench.model.profiles.shapes import window_weights
from mhhs_workbench.model.randomness import Stream, meter_normal, meter_uniform
from mhhs_workbench.time.periods import PERIODS_PER_UTC_DAY

#: Meters processed together; small enough that a block's arrays stay in cache.
BLOCK_METERS = 256

#: Lowest expected load of a half hour (relative power, class mean 1) after shape variation.
LOAD_FLOOR = 0.03

REQUIRED_COLUMNS: tuple[str, ...] = ("meter_index", "archetype", "gsp_group")
OPTIONAL_COLUMNS: dict[str, object] = {
    "annual_kwh": np.nan,
    "pv_kwp": 0.0,
    "ev_kw": 0.0,
    "ev_smart": False,
    "heat_pump_kwh": 0.0,
}


@dataclass(frozen=True)
class ConsumptionResult:
    """Half-hourly energy of a set of meters over consecutive UTC settlement days.

    Attributes
    ----------
    import_wh : numpy.ndarray of int64, shape ``(n_meters, n_days * 48)``
        Active import AI per UTC half hour [Wh], >= 0.
    export_wh : numpy.ndarray of int64, same shape
        Active export AE (PV surplus) [Wh]; zeros without PV.
    reactive_import_varh : numpy.ndarray of int64, same shape
        Reactive import RI [varh]; non-zero only for maximum demand archetypes.
    reactive_export_varh : numpy.ndarray of int64, same shape
        Reactive export RE [varh]; small, maximum demand sites with correction capacitors only.
    period_ends : numpy.ndarray of datetime64[m], shape ``(n_days * 48,)``
        Period ends [UTC].
    """

    import_wh: np.ndarray
    export_wh: np.ndarray
    reactive_import_varh: np.ndarray
    reactive_export_varh: np.ndarray
    period_ends: np.ndarray


@dataclass(frozen=True)
class ConsumptionComponents:
    """A :class:`ConsumptionResult` with the parts it was made of (for checks and plots).

    Attributes
    ----------
    result : ConsumptionResult
        What :func:`consumption` returns.
    base_wh, ev_wh, heat_pump_wh, generation_wh : numpy.ndarray of int64
        Archetype load, EV charging, heat-pump electricity and PV generation per half hour
        [Wh], each ``(n_meters, n_days * 48)``.
    annual_kwh : numpy.ndarray of float, shape ``(n_meters,)``
        Annual archetype load of each meter [kWh] (given or drawn).
    """

    result: ConsumptionResult
    base_wh: np.ndarray
    ev_wh: np.ndarray
    heat_pump_wh: np.ndarray
    generation_wh: np.ndarray
    annual_kwh: np.ndarray

    @property
    def demand_wh(self) -> np.ndarray:
        """Import before PV self-use [Wh]: archetype load + EV + heat pump."""
        return self.base_wh + self.ev_wh + self.heat_pump_wh

    @property
    def self_use_wh(self) -> np.ndarray:
        """PV generation used on site [Wh]."""
        return self.demand_wh - self.result.import_wh


def consumption(
    meters: pd.DataFrame, days, seed: int, *, temperature: pd.Series | None = None
) -> ConsumptionResult:
    """Generate half-hourly consumption for meters over consecutive UTC settlement days.

    Parameters
    ----------
    meters : pandas.DataFrame
        One row per meter: ``meter_index`` (int, the meter's global index; all its randomness
        derives from ``(seed, meter_index)``), ``archetype`` (one of :data:`ARCHETYPES`),
        ``gsp_group`` (``'_A'`` ... ``'_P'``), and optionally ``annual_kwh`` (float [kWh]; NaN =
        draw around the archetype's typical value), ``pv_kwp`` [kWp], ``ev_kw`` [kW],
        ``ev_smart`` (bool), ``heat_pump_kwh`` (annual heat-pump electricity [kWh]); missing
        optional columns (or NaN in them) mean none.
    days : array of datetime64[D] or anything :func:`~mhhs_workbench.time.periods.as_days`
        takes
        Consecutive UTC settlement days.
    seed : int
        Data-set seed.
    temperature : pandas.Series, optional
        Daily mean outside temperature [°C] indexed by date; the built-in synthetic series is
        used for days it does not cover.

    Returns
    -------
    ConsumptionResult
        Integer Wh / varh arrays ``(n_meters, n_days * 48)`` in the order of ``meters``.

    Raises
    ------
    ValueError
        If a column is missing or holds an invalid value (the message names row and value), or
        the days are not consecutive.
    """
    return _generate(meters, days, seed, temperature, keep_components=False).result


def consumption_components(
    meters: pd.DataFrame, days, seed: int, *, temperature: pd.Series | None = None
) -> ConsumptionComponents:
    """As :func:`consumption`, also returning the components (more memory)."""
    return _generate(meters, days, seed, temperature, keep_components=True)


# ----------------------------------------------------------------------------- inputs


def _show(value: object) -> str:
    """A value as the user wrote it (numpy scalars as plain Python values)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _validate_meters(meters: pd.DataFrame) -> pd.DataFrame:
    """Check the meter table and fill optional columns; returns a clean copy."""
    if not isinstance(meters, pd.DataFrame):
        raise TypeError(f"meters must be a pandas DataFrame, got {type(meters).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in meters.columns]
    if missing:
        raise ValueError(f"meters table lacks column(s) {', '.join(missing)}")
    df = meters.reset_index(drop=True)
    out = pd.DataFrame(index=df.index)

    idx = pd.to_numeric(df["meter_index"], errors="coerce")
    bad = idx.isna() | (idx < 0) | (idx != np.floor(idx))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(
            f"meters row {i}: meter_index {_show(df['meter_index'].iloc[i])} "
            "is not a non-negative integer"
        )
    out["meter_index"] = idx.astype(np.int64)
    dup = out["meter_index"].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise ValueError(f"meters row {i}: meter_index {out['meter_index'].iloc[i]} is repeated")

    for col, allowed in (("archetype", ARCHETYPES), ("gsp_group", GSP_GROUPS)):
        values = df[col].astype(str)
        bad = ~values.isin(allowed)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"meters row {i}: {col} {_show(df[col].iloc[i])} is not one of {', '.join(allowed)}"
            )
        out[col] = values

    for col, default in OPTIONAL_COLUMNS.items():
        if col == "ev_smart":
            raw = df[col] if col in df.columns else pd.Series(False, index=df.index)
            out[col] = raw.fillna(False).astype(bool)
            continue
        raw = df[col] if col in df.columns else pd.Series(default, index=df.index)
        values = pd.to_numeric(raw, errors="coerce").astype(np.float64)
        text_bad = values.isna() & raw.notna()
        if text_bad.any():
            i = int(np.flatnonzero(text_bad.to_numpy())[0])
            raise ValueError(f"meters row {i}: {col} {_show(raw.iloc[i])} is not a number")
        if col != "annual_kwh":
            values = values.fillna(0.0)
        arr = values.to_numpy()
        bad = np.isinf(arr) | (arr < 0) | ((arr == 0) & (col == "annual_kwh"))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            rule = "positive" if col == "annual_kwh" else "zero or positive"
            raise ValueError(f"meters row {i}: {col} {_show(arr[i])} must be finite and {rule}")
        out[col] = arr

    # the overlays an archetype cannot carry, with the reason (one rule for model and designer)
    for archetype in out["archetype"].unique():
        rows = (out["archetype"] == archetype).to_numpy()
        for col, reason in overlay_unavailable(archetype).items():
            carried = rows & (out[col].to_numpy() > 0)
            if reason and carried.any():
                i = int(np.flatnonzero(carried)[0])
                raise ValueError(f"meters row {i}: {archetype} cannot carry {col} "
                                 f"{_show(out[col].iloc[i])}: {reason}")
    return out


def _blocks(rows: np.ndarray) -> Iterator[slice | np.ndarray]:
    """Blocks of at most :data:`BLOCK_METERS` rows; slices when the rows are contiguous."""
    for a in range(0, rows.size, BLOCK_METERS):
        r = rows[a : a + BLOCK_METERS]
        if r[-1] - r[0] == r.size - 1:
            yield slice(int(r[0]), int(r[-1]) + 1)
        else:
            yield r


def _year_totals(values: np.ndarray, year_bounds: list[tuple[int, int]]) -> np.ndarray:
    """Row sums of ``values`` (meters x days) over each calendar year's columns."""
    return np.stack([values[:, a:b].sum(axis=1) for a, b in year_bounds], axis=1)


# ----------------------------------------------------------------------------- engine


def _generate(
    meters: pd.DataFrame,
    days,
    seed: int,
    temperature: pd.Series | None,
    keep_components: bool,
) -> ConsumptionComponents:
    table = _validate_meters(meters)
    seed = int(seed)
    ctx = run_context(days, temperature)
    n, t = len(table), ctx.grid.n_periods

    ai = np.empty((n, t), dtype=np.int64)
    ae = np.zeros((n, t), dtype=np.int64)
    ri = np.zeros((n, t), dtype=np.int64)
    re = np.zeros((n, t), dtype=np.int64)
    parts = ("base", "ev", "hp", "gen")
    comp = {k: np.zeros((n, t), dtype=np.int64) for k in parts} if keep_components else None
    annual_out = np.zeros(n)

    if n:
        archetype = table["archetype"].to_numpy()
        gsp = table["gsp_group"].to_numpy()
        nation = np.array([NATION_BY_GSP_GROUP[g] for g in gsp])
        # street lighting depends on latitude (GSP group); other archetypes on bank holidays
        place = np.where(archetype == "unmetered_street_lighting", gsp, nation)
        keys = pd.MultiIndex.from_arrays([archetype, place])
        for (arch, where), rows in pd.Series(np.arange(n)).groupby(keys, sort=True):
            spec = archetype_spec(arch)
            for sel in _blocks(np.sort(rows.to_numpy())):
                idx = table["meter_index"].to_numpy()[sel]
                annual = ind.annual_kwh(spec, seed, idx, table["annual_kwh"].to_numpy()[sel])
                annual_out[sel] = annual
                gsp_block = table["gsp_group"].to_numpy()[sel]
                base_int = _archetype_load(spec, seed, idx, annual, ctx, where, gsp_block)
                _finish_block(
                    sel, spec, seed, idx, annual, base_int, table, ctx, ai, ae, ri, re, comp, where
                )

    if comp is None:
        comp = {k: np.zeros((0, t), dtype=np.int64) for k in parts}
    result = ConsumptionResult(ai, ae, ri, re, ctx.grid.period_ends.copy())
    return ConsumptionComponents(
        result, comp["base"], comp["ev"], comp["hp"], comp["gen"], annual_out
    )


def _archetype_load(
    spec: ArchetypeSpec,
    seed: int,
    idx: np.ndarray,
    annual_kwh: np.ndarray,
    ctx: RangeContext,
    where: str,
    gsp_group: np.ndarray | None = None,
) -> np.ndarray:
    """Archetype load of a block of meters [Wh], integers ``(n, n_days * 48)``.

    ``where`` is the nation (bank holidays) or, for street lighting, the GSP group;
    ``gsp_group`` each meter's GSP group (chooses Economy 7 switching windows).
    """
    noisy = spec.noise_class != "none"
    years = ctx.years
    _, day_sums = years.archetype_basis(spec, where)
    basis = ctx.basis(spec, where)
    weights = ind.base_weights(spec, seed, idx) if noisy else lighting_weights(seed, idx)
    if spec.economy7 and gsp_group is not None:  # without groups: the standard window
        weights = window_weights(weights, economy7_windows(seed, idx, gsp_group))
    operation = site_operation(spec, seed, idx, ctx, where)  # None unless non-domestic
    # expected energy of every day of the years (exact: weights and rows are quantised)
    if operation is None:
        day_energy = weights @ day_sums
    else:
        day_energy = operated_rows(weights, day_sums, operation[0])
    if noisy:
        day_energy *= ind.day_noise(spec.noise_class, seed, idx, years.grid.days.astype(np.int64))
    totals = _year_totals(day_energy, years.year_bounds)
    d0, nd = ctx.d0, ctx.n_days
    target = (
        (annual_kwh * 1000.0)[:, None] * day_energy[:, d0 : d0 + nd] / totals[:, ctx.year_index]
    )

    if operation is None:
        load = weights @ basis  # (n, t) relative power
    else:
        load = operated_rows(weights, basis, operation[1])
    shaped = load.reshape(idx.size, nd, PERIODS_PER_UTC_DAY)
    if noisy:
        np.maximum(load, LOAD_FLOOR, out=load)
        # energy-neutral within each day, with the meter's routines and base load
        ind.apply_half_hour_noise(
            spec.noise_class, seed, idx, ctx.day_numbers, ctx.grid.local_slots, shaped
        )
    realised = shaped.sum(axis=2)
    factor = np.divide(target, realised, out=np.zeros_like(target), where=realised > 0)
    shaped *= factor[:, :, None]
    return cumulative_round(load)


def _finish_block(
    sel: slice | np.ndarray,
    spec: ArchetypeSpec,
    seed: int,
    idx: np.ndarray,
    annual_kwh: np.ndarray,
    base_int: np.ndarray,
    table: pd.DataFrame,
    ctx: RangeContext,
    ai: np.ndarray,
    ae: np.ndarray,
    ri: np.ndarray,
    re: np.ndarray,
    comp: dict[str, np.ndarray] | None,
    where: str,
) -> None:
    """Add overlays, net off PV, add reactive energy and store a block's rows (``where``: the
    block's nation, or GSP group for street lighting)."""
    pv_kwp = table["pv_kwp"].to_numpy()[sel]
    ev_kw = table["ev_kw"].to_numpy()[sel]
    hp_kwh = table["heat_pump_kwh"].to_numpy()[sel]
    if comp is not None:
        comp["base"][sel] = base_int
    ev_rows = np.flatnonzero(ev_kw > 0)
    hp_rows = np.flatnonzero(hp_kwh > 0)
    pv_rows = np.flatnonzero(pv_kwp > 0)
    demand = base_int  # owned by this block: safe to add to in place
    if ev_rows.size:
        smart = table["ev_smart"].to_numpy()[sel][ev_rows]
        ev = ev_charging_wh(seed, idx[ev_rows], ev_kw[ev_rows], smart, ctx.grid,
                            workplace=None if spec.domestic else where)
        demand[ev_rows] += ev
        if comp is not None:
            _store_rows(comp["ev"], sel, ev_rows, ev)
    if hp_rows.size:
        basis, norm = ctx.heat_pump()
        w = heat_pump_weights(seed, idx[hp_rows])
        hp_int = cumulative_round((hp_kwh[hp_rows] * 1000.0)[:, None] * (w @ basis) / norm)
        demand[hp_rows] += hp_int
        if comp is not None:
            _store_rows(comp["hp"], sel, hp_rows, hp_int)
    if pv_rows.size:
        gsp = table["gsp_group"].to_numpy()[sel][pv_rows]
        w = pv_weights(seed, idx[pv_rows])
        gen = np.empty((pv_rows.size, ctx.grid.n_periods))
        for g in np.unique(gsp):
            r = np.flatnonzero(gsp == g)
            gen[r] = (pv_kwp[pv_rows][r] * 500.0)[:, None] * (w[r] @ ctx.pv(g))
        gen_int = cumulative_round(gen)
        use = np.minimum(demand[pv_rows], gen_int)
        _store_rows(ae, sel, pv_rows, gen_int - use)
        if comp is not None:
            _store_rows(comp["gen"], sel, pv_rows, gen_int)
        demand[pv_rows] -= use
    ai[sel] = demand
    if spec.reactive:
        mean_wh = annual_kwh * 1000.0 / 17520.0
        ri[sel], re[sel] = reactive_varh(demand, seed, idx, mean_wh, ctx.day_numbers)


def _store_rows(
    target: np.ndarray, sel: slice | np.ndarray, rows: np.ndarray, values: np.ndarray
) -> None:
    """``target[sel][rows] = values``, writing through to ``target``."""
    if isinstance(sel, slice):
        target[sel.start + rows] = values
    else:
        target[sel[rows]] = values


# ----------------------------------------------------------------------------- convenience


def default_meters(
    n: int,
    archetype: str = "domestic_unrestricted",
    seed: int = 0,
    *,
    start_index: int = 0,
    pv_share: float = 0.0,
    ev_share: float = 0.0,
    heat_pump_share: float = 0.0,
    gsp_groups: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """A quick meter table for :func:`consumption`.

    Parameters
    ----------
    n : int
        Number of meters.
    archetype : str
        Archetype of every meter.
    seed : int
        Seed for the table's own draws (GSP groups and overlay sizes).
    start_index : int
        ``meter_index`` of the first meter (the rest follow consecutively).
    pv_share, ev_share, heat_pump_share : float
        Share of meters with rooftop PV (2-6 kWp), an EV charger (7 kW for three in four,
        otherwise 3.5 kW; half on smart tariffs) and an air-source heat pump (annual
        electricity log-normal around 3,500 kWh) [-].
    gsp_groups : tuple of str, optional
        GSP groups to spread meters over uniformly (default: all 14).

    Returns
    -------
    pandas.DataFrame
        Columns ``meter_index, archetype, gsp_group, annual_kwh`` (NaN: drawn), ``pv_kwp,
        ev_kw, ev_smart, heat_pump_kwh``.
    """
    archetype_spec(archetype)
    groups = tuple(gsp_groups) if gsp_groups else GSP_GROUPS
    idx = np.arange(start_index, start_index + n, dtype=np.int64)

    def u(c: int) -> np.ndarray:
        return meter_uniform(seed, idx, Stream.DEFAULT_METERS, c)

    overlays_ok = archetype != "unmetered_street_lighting"
    has_pv = overlays_ok & (u(1) < pv_share)
    has_ev = overlays_ok & (u(2) < ev_share)
    has_hp = overlays_ok & (u(3) < heat_pump_share)
    return pd.DataFrame(
        {
            "meter_index": idx,
            "archetype": archetype,
            "gsp_group": np.array(groups)[
                np.minimum((u(0) * len(groups)).astype(int), len(groups) - 1)
            ],
            "annual_kwh": np.nan,
            "pv_kwp": np.where(has_pv, np.round(2.0 + 4.0 * u(4), 2), 0.0),
            "ev_kw": np.where(has_ev, np.where(u(5) < 0.75, 7.0, 3.5), 0.0),
            "ev_smart": has_ev & (u(6) < 0.5),
            "heat_pump_kwh": np.where(
                has_hp,
                np.round(
                    3500.0 * np.exp(0.3 * meter_normal(seed, idx, Stream.DEFAULT_METERS, 7) - 0.045)
                ),
                0.0,
            ),
        }
    )
