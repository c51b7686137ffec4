"""Overlays a meter may carry on top of its archetype load: rooftop PV, EV charging, heat pump.

* **PV** (``pv_kwp``): clear-sky irradiance on a 35° panel facing south-east, south or south-
  west (a per-meter mix), times a daily cloudiness shared by the GSP group and a half-hourly
  flicker, scaled so that a typical year yields about 930 kWh per kWp in the Midlands (GB range
  850-1,000; more in the south, less in Scotland), with summer (June-August) days giving about
  five times the energy of winter (December-February) days.
* **EV** (``ev_kw`` 3.5 or 7 kW, ``ev_smart``): about three charging sessions a week (each home
  between 1.8 and 4.2 a week), 6-20 kWh each. Unmanaged charging starts when the car is
  plugged in after the evening commute (around 18:30 local, sd 75 minutes, 16:00-22:30);
  smart charging runs in the off-peak window 23:30-05:30 local, at a start chosen so the
  session fits inside it. At a business (``workplace``) cars charge while parked at work:
  on most working days (0.6-1.0 of them), seldom at weekends and bank holidays, plugged in on arrival
  (around 08:30 local, sd 60 minutes, 06:30-11:00); smart charging there is a depot's overnight
  window, as at home.
* **Heat pump** (``heat_pump_kwh``, annual electricity): daily energy follows the outside
  temperature through the relation fitted to the 2013 ASHP reference (a smooth hinge around
  the heating balance point plus a flat hot-water base); the day's energy is spread over the
  local clock by a hot-water shape and a space-heating shape fitted to the same data; each
  home's heating timer is shifted by up to an hour.

Generation is returned in Wh per UTC half hour; EV charging directly as integers (whole
half hours at full power and one part-filled half hour).

Which archetype may carry which overlay is decided here (:func:`overlay_unavailable`): every
metered site may have PV and EV charging; heat pumps are domestic only (their daily and
hourly shapes are fitted to homes); an unmetered supply carries none.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from mhhs_workbench.codes.archetypes import archetype_spec
from mhhs_workbench.codes.identifiers import (
    GSP_GROUPS,
    LATITUDE_BY_GSP_GROUP,
    LONGITUDE_BY_GSP_GROUP,
)
from mhhs_workbench.model.profiles import fourier
from mhhs_workbench.model.profiles.parameters import parameters
from mhhs_workbench.model.profiles.shapes import BASIS_QUANTUM, quantise
from mhhs_workbench.model.profiles.solar import plane_of_array, sun_vector
from mhhs_workbench.model.profiles.timegrid import TimeGrid, local_slot_multiplicity
from mhhs_workbench.model.randomness import (
    Stream,
    hash_counter,
    meter_keys,
    meter_normal,
    meter_uniform,
    mix64,
    uniform,
)
from mhhs_workbench.time.periods import (
    CLOCK_SLOTS_PER_DAY,
    LOCAL_TZ,
    PERIODS_PER_UTC_DAY,
    profile_day_types,
)

#: Overlay names, as the meter table's columns that size them.
OVERLAYS: tuple[str, ...] = ("pv_kwp", "ev_kw", "heat_pump_kwh")


def overlay_unavailable(archetype: str) -> dict[str, str]:
    """Why an archetype cannot carry each overlay ("" where it can).

    Parameters
    ----------
    archetype : str
        Archetype name (one of ``ARCHETYPES``).

    Returns
    -------
    dict of str to str
        For each of :data:`OVERLAYS`, the reason in words, or "" when the overlay is allowed.
    """
    spec = archetype_spec(archetype)
    if spec.connection_types == ("U",):
        reason = ("an unmetered supply has no meter: there is nothing to net PV export, EV "
                  "charging or a heat pump against")
        return dict.fromkeys(OVERLAYS, reason)
    heat_pump = "" if spec.domestic else (
        "heat pumps are modelled for homes only (their daily and hourly shapes are fitted to "
        "domestic air-source heat pumps)")
    return {"pv_kwp": "", "ev_kw": "", "heat_pump_kwh": heat_pump}


# ----------------------------------------------------------------------------- solar PV

PV_TILT_DEG = 35.0
#: Panel azimuths of the orientation basis rows [degrees clockwise from north].
PV_AZIMUTHS_DEG: tuple[float, ...] = (135.0, 180.0, 225.0)
#: Target typical annual yield at the calibration site [kWh/kWp] and that site [deg N, deg E].
PV_TARGET_YIELD_KWH_PER_KWP = 930.0
PV_CALIBRATION_SITE = (52.5, -1.5)
_WEATHER_KEY = mix64(np.array([0xC10D5], dtype=np.uint64))


def cloud_mean(days: np.ndarray) -> np.ndarray:
    """Mean daily clearness (share of clear-sky output reached) by time of year [-].

    GB winters are duller than summers: about 0.35 at midwinter and 0.59 at midsummer.
    """
    d = np.asarray(days, dtype="datetime64[D]")
    doy = (d - d.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.float64)
    return 0.47 + 0.12 * np.cos(2 * np.pi * (doy - 172.0) / 365.25)


def _clearness(mean: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Daily clearness from its mean and a uniform draw: many dull days, some bright ones."""
    return np.minimum(mean * 1.8 * u**0.8, 1.0)


def expected_clearness(mean: np.ndarray, n: int = 400) -> np.ndarray:
    """Mean of :func:`_clearness` over its uniform draw (mid-point quadrature)."""
    u = (np.arange(n) + 0.5) / n
    return _clearness(np.asarray(mean)[..., None], u).mean(axis=-1)


def pv_clear_sky(period_ends: np.ndarray, latitude: float, longitude: float) -> np.ndarray:
    """Clear-sky plane-of-array irradiance per orientation, averaged over each half hour.

    Parameters
    ----------
    period_ends : array of datetime64, shape ``(n,)``
        Period ends [UTC].
    latitude, longitude : float
        Site [degrees].

    Returns
    -------
    numpy.ndarray, shape ``(len(PV_AZIMUTHS_DEG), n)``
        Irradiance [kW/m²] (= output per kWp before losses, clouds and scaling).
    """
    ends = np.asarray(period_ends, dtype="datetime64[s]")
    samples = ends[:, None] - np.array([25, 15, 5], dtype="timedelta64[m]")
    sun = sun_vector(samples, latitude, longitude)
    return np.stack(
        [plane_of_array(sun, PV_TILT_DEG, az).mean(axis=-1) / 1000.0 for az in PV_AZIMUTHS_DEG]
    )


def pv_cloud_factor(grid: TimeGrid, gsp_group: str) -> np.ndarray:
    """Cloudiness multiplier of each half hour in a GSP group [-] (the same for every seed).

    A daily clearness drawn around :func:`cloud_mean`, times a half-hourly flicker that is
    largest on part-cloudy days.
    """
    g = GSP_GROUPS.index(gsp_group)
    day_numbers = grid.days.astype(np.int64)
    key = _WEATHER_KEY ^ np.uint64(g + 1)
    u_day = uniform(hash_counter(key ^ np.uint64(int(Stream.WEATHER_CLOUD)), day_numbers))
    clear = _clearness(cloud_mean(grid.days), u_day)
    per = np.repeat(clear, PERIODS_PER_UTC_DAY)
    hh = np.arange(grid.n_periods, dtype=np.int64) + day_numbers[0] * PERIODS_PER_UTC_DAY
    u_hh = uniform(hash_counter(key ^ np.uint64(int(Stream.WEATHER_CLOUD_HH)), hh))
    flicker = 1.0 + 0.8 * 4.0 * per * (1.0 - per) * (2.0 * u_hh - 1.0)
    return per * flicker


def pv_basis(grid: TimeGrid, gsp_group: str) -> np.ndarray:
    """PV output per kWp of each orientation row in a GSP group [kW/kWp], quantised.

    Returns
    -------
    numpy.ndarray, shape ``(len(PV_AZIMUTHS_DEG), grid.n_periods)``
    """
    lat, lon = LATITUDE_BY_GSP_GROUP[gsp_group], LONGITUDE_BY_GSP_GROUP[gsp_group]
    scale = float(parameters()["pv"]["kw_per_kw_m2"])
    out = pv_clear_sky(grid.period_ends, lat, lon) * pv_cloud_factor(grid, gsp_group) * scale
    return quantise(out, BASIS_QUANTUM)


def pv_weights(seed: int, meter_index: np.ndarray) -> np.ndarray:
    """Per-meter orientation mix and performance (shading, tilt, inverter) over the PV rows.

    Returns
    -------
    numpy.ndarray, shape ``(n, 3)``
        Weights, multiples of 2**-10; rows sum to the performance factor 0.85-1.05.
    """
    idx = np.asarray(meter_index, dtype=np.int64)
    a = 2 * meter_uniform(seed, idx, Stream.PV_ORIENTATION) - 1  # -1 SE ... 0 S ... +1 SW
    perf = 0.85 + 0.2 * meter_uniform(seed, idx, Stream.PV_ORIENTATION, 1)
    w = np.stack([np.clip(-a, 0, None), 1 - np.abs(a), np.clip(a, 0, None)], axis=1)
    return np.round(w * perf[:, None] * 1024) / 1024


# ----------------------------------------------------------------------------- EV charging

EV_SESSIONS_PER_WEEK = 3.0
EV_SESSION_KWH = (6.0, 20.0)
#: Smart charging window: starts at this local clock minute and lasts this many half hours.
EV_SMART_START_MIN = 23 * 60 + 30
EV_SMART_SLOTS = 12
#: Workplace charging: chance of a session on a Monday-Friday and at a weekend (before each
#: site's own factor of 0.75-1.25), and the plug-in time on arrival [local minutes].
WORKPLACE_SESSION_CHANCE = (0.8, 0.1)
WORKPLACE_PLUG_MIN = (8 * 60 + 30, 60.0, 6 * 60 + 30, 11 * 60)  # mean, sd, earliest, latest


def _noon_offsets_min(days: np.ndarray) -> np.ndarray:
    """Local clock minus UTC at noon of each local day [minutes] (0 GMT, 60 BST)."""
    noon = pd.DatetimeIndex((days.astype("datetime64[m]") + 720).astype("datetime64[ns]"))
    local = noon.tz_localize("UTC").tz_convert(LOCAL_TZ).tz_localize(None)
    return (local.values.astype("datetime64[m]") - noon.values.astype("datetime64[m]")).astype(
        np.int64
    )


def ev_charging_wh(
    seed: int,
    meter_index: np.ndarray,
    ev_kw: np.ndarray,
    ev_smart: np.ndarray,
    grid: TimeGrid,
    *,
    workplace: str | None = None,
) -> np.ndarray:
    """EV charging energy of each meter per UTC half hour [Wh], as integers.

    Sessions are drawn per (meter, local date) from the hash, including the local day before
    the grid so that a session still running at the grid's start is included.

    Parameters
    ----------
    seed : int
        Data-set seed.
    meter_index : array of int, shape ``(n,)``
        Global meter indices.
    ev_kw : array of float, shape ``(n,)``
        Charger power [kW] (> 0).
    ev_smart : array of bool, shape ``(n,)``
        Smart (off-peak) charging.
    grid : TimeGrid
        Half hours to fill.
    workplace : str, optional
        Nation (``ENG``, ``WAL``, ``SCO``) of a business charging its cars at work: sessions on
        its working days (not weekends or bank holidays), plugged in on arrival in the morning;
        None for a home's evening sessions.

    Returns
    -------
    numpy.ndarray of int64, shape ``(n, grid.n_periods)``
    """
    idx = np.asarray(meter_index, dtype=np.int64)
    days = np.arange(grid.days[0] - 1, grid.days[-1] + 1, dtype="datetime64[D]")
    day_numbers = days.astype(np.int64)
    # energy of a full half hour at the charger's power [Wh]
    power_wh = np.round(np.asarray(ev_kw, dtype=np.float64) * 500.0).astype(np.int64)
    smart = np.asarray(ev_smart, dtype=bool)

    rate = _ev_session_rate(seed, idx, days, workplace)
    u_session = uniform(
        hash_counter(meter_keys(seed, idx, Stream.EV_SESSION)[:, None], day_numbers)
    )
    h_start = hash_counter(meter_keys(seed, idx, Stream.EV_START)[:, None], day_numbers)
    u_energy = uniform(hash_counter(meter_keys(seed, idx, Stream.EV_ENERGY)[:, None], day_numbers))
    on = u_session < rate
    full, rest = _ev_session_slots(u_energy, power_wh, smart)
    start_min = _ev_start_local_min(h_start, full + (rest > 0), smart, workplace)

    offsets = _noon_offsets_min(days)
    grid_start = (grid.days[0].astype("datetime64[m]")).astype(np.int64)
    start_utc = day_numbers[None, :] * 1440 + start_min - offsets[None, :]
    i0 = (start_utc - grid_start) // 30  # period index where the session starts
    return _ev_sessions_per_period(on, i0, full, rest, power_wh, grid.n_periods)


def _ev_session_rate(seed: int, idx: np.ndarray, days: np.ndarray, workplace: str | None) -> np.ndarray:
    """Chance of a charging session per meter and local day.

    Parameters
    ----------
    seed : int
        Data-set seed.
    idx : array of int, shape ``(n,)``
        Global meter indices.
    days : array of datetime64[D], shape ``(d,)``
        Local dates sessions are drawn for.
    workplace : str or None
        Nation of a business charging at work (sessions on its working days), or None for a home.

    Returns
    -------
    numpy.ndarray of float, shape ``(n, d)`` for a workplace, ``(n, 1)`` for a home
        Probability of a session on each day.
    """
    if workplace is not None:
        working = profile_day_types(days, workplace) == 0  # weekdays that are no bank holiday
        chance = np.where(working, *WORKPLACE_SESSION_CHANCE)
        own = 0.75 + 0.5 * meter_uniform(seed, idx, Stream.EV_RATE)
        return np.minimum(own[:, None] * chance[None, :], 0.98)
    return (EV_SESSIONS_PER_WEEK / 7.0 * (0.6 + 0.8 * meter_uniform(seed, idx, Stream.EV_RATE)))[:, None]


def _ev_session_slots(
    u_energy: np.ndarray, power_wh: np.ndarray, smart: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each session's energy as whole half hours at full power plus a remainder.

    Parameters
    ----------
    u_energy : array of float, shape ``(n, d)``
        Uniform variates that pick each session's energy in :data:`EV_SESSION_KWH`.
    power_wh : array of int, shape ``(n,)``
        Energy of a full half hour at the charger's power [Wh].
    smart : array of bool, shape ``(n,)``
        Smart charging: a session is capped at what fits in the off-peak window.

    Returns
    -------
    full : numpy.ndarray of int, shape ``(n, d)``
        Whole half hours at full power.
    rest : numpy.ndarray of int, shape ``(n, d)``
        Energy of the part-filled half hour after them [Wh].
    """
    lo, hi = EV_SESSION_KWH
    energy_wh = np.round((lo + (hi - lo) * u_energy) * 1000.0).astype(np.int64)
    smart_cap = (EV_SMART_SLOTS * power_wh)[:, None]
    energy_wh = np.where(smart[:, None], np.minimum(energy_wh, smart_cap), energy_wh)
    full = energy_wh // power_wh[:, None]
    return full, energy_wh - full * power_wh[:, None]


def _ev_start_local_min(
    h_start: np.ndarray, slots_needed: np.ndarray, smart: np.ndarray, workplace: str | None
) -> np.ndarray:
    """Local start of each session [minutes after local midnight].

    Unmanaged: plug-in around 18:30 local (a workplace: on arrival, around 08:30), on a half
    hour; smart: somewhere the session fits in the off-peak window.

    Parameters
    ----------
    h_start : array of uint64, shape ``(n, d)``
        Hashes the start is drawn from.
    slots_needed : array of int, shape ``(n, d)``
        Half hours each session charges in.
    smart : array of bool, shape ``(n,)``
        Smart (off-peak) charging.
    workplace : str or None
        Nation of a business charging at work, or None for a home.

    Returns
    -------
    numpy.ndarray of int, shape ``(n, d)``
        Start [local minutes].
    """
    home = (18 * 60 + 30, 75.0, 16 * 60, 22 * 60 + 30)
    mean, sd, earliest, latest = WORKPLACE_PLUG_MIN if workplace is not None else home
    plug = mean + sd * _normal_from(h_start)
    plug_min = np.clip(np.round(plug / 30.0) * 30, earliest, latest).astype(np.int64)
    spare = np.clip(EV_SMART_SLOTS - slots_needed, 0, None)
    k = ((h_start & np.uint64(0xFFFF)).astype(np.int64) * (spare + 1)) >> 16
    smart_min = EV_SMART_START_MIN + 30 * k
    return np.where(smart[:, None], smart_min, plug_min)


def _ev_sessions_per_period(
    on: np.ndarray, i0: np.ndarray, full: np.ndarray, rest: np.ndarray, power_wh: np.ndarray, t: int
) -> np.ndarray:
    """Charging energy per half hour from sessions: full power, then one part-filled half hour.

    Parameters
    ----------
    on : array of bool, shape ``(n, d)``
        Whether each meter charges on each day.
    i0 : array of int, shape ``(n, d)``
        Grid period each session starts in (may lie outside ``0 .. t - 1``).
    full, rest : array of int, shape ``(n, d)``
        Whole half hours at full power, and the remainder after them [Wh].
    power_wh : array of int, shape ``(n,)``
        Energy of a full half hour [Wh].
    t : int
        Half hours in the grid.

    Returns
    -------
    numpy.ndarray of int64, shape ``(n, t)``
        Energy per half hour [Wh].
    """
    n = on.shape[0]
    diff = np.zeros((n, t + 2), dtype=np.int64)
    rows = np.broadcast_to(np.arange(n)[:, None], on.shape)[on]
    a = i0[on]
    f = full[on]
    r = rest[on]
    p = np.broadcast_to(power_wh[:, None], on.shape)[on]
    flat = diff.reshape(-1)
    width = t + 2
    for pos, val in (
        (a, p),
        (a + f, -p),
        (a + f, r),
        (a + f + 1, -r),
    ):
        np.add.at(flat, rows * width + np.clip(pos, 0, t + 1), val)
    return np.cumsum(diff, axis=1)[:, :t]


def _normal_from(h: np.ndarray) -> np.ndarray:
    """Near-normal variate (logistic, unit variance) from the upper 32 bits of a hash."""
    u = ((h >> np.uint64(32)).astype(np.float64) + 0.5) / 4294967296.0
    return np.log(u / (1 - u)) * (np.sqrt(3) / np.pi)


# ----------------------------------------------------------------------------- heat pump

#: Heating timer shifts of the heat pump basis rows [half hours].
HP_SHIFT_STEPS: tuple[int, ...] = (-2, 0, 2)


def heat_pump_daily(temperature_c: np.ndarray) -> np.ndarray:
    """Heat-pump electricity of a day relative to an average 2013 day, by temperature [-].

    ``base + slope * h + curve * h**2`` with ``h = width * log(1 + exp((balance - T) / width))``
    (a smoothed heating-degree hinge), fitted to the 2013 ASHP reference; below the coldest
    reference day (about -1 °C) it continues linearly, so colder days always take more.

    Parameters
    ----------
    temperature_c : array of float
        Daily mean outside temperature [°C].
    """
    p = parameters()["heat_pump"]["daily"]
    t = np.asarray(temperature_c, dtype=np.float64)
    w = p["width_c"]
    coldest = p["coldest_c"]
    tc = np.maximum(t, coldest)
    h = w * np.logaddexp(0.0, (p["balance_c"] - tc) / w)
    f = p["base"] + p["slope"] * h + p["curve"] * h * h
    f += p["cold_slope_per_c"] * (tc - t)
    return np.maximum(f, 0.5 * p["base"])


@lru_cache(maxsize=1)
def _hp_slot_shapes() -> tuple[np.ndarray, np.ndarray]:
    """Hot-water and space-heating shapes per shift, ``(len(HP_SHIFT_STEPS), 48)`` each."""
    p = parameters()["heat_pump"]
    slots = np.arange(CLOCK_SLOTS_PER_DAY)
    out = []
    for key in ("hot_water", "space_heating"):
        c = np.asarray(p[key], dtype=np.float64)
        rows = [
            np.clip(fourier.evaluate(c, fourier.slot_phase(slots, s)), 0.05, None)
            for s in HP_SHIFT_STEPS
        ]
        out.append(np.stack(rows))
    return out[0], out[1]


def heat_pump_basis(grid: TimeGrid, temperature_c: np.ndarray) -> np.ndarray:
    """Heat-pump electricity per half hour for each timer-shift row (relative units).

    Each row holds, on every local day, exactly :func:`heat_pump_daily` of that day: the
    shapes are normalised over the clock slots the day really has (46, 48 or 50 periods).

    Parameters
    ----------
    grid : TimeGrid
        Half hours.
    temperature_c : array of float
        Daily mean temperature [°C] of each of ``grid.local_day_list``.

    Returns
    -------
    numpy.ndarray, shape ``(len(HP_SHIFT_STEPS), grid.n_periods)``, quantised
    """
    base = parameters()["heat_pump"]["daily"]["base"]
    daily = heat_pump_daily(temperature_c)
    hot = np.minimum(base, daily)  # hot water first; the rest is space heating
    heat = daily - hot
    mult = local_slot_multiplicity(grid.local_day_list)  # (n_local_days, 48)
    hw, sh = _hp_slot_shapes()
    d, s = grid.local_day_index, grid.local_slots
    out = np.empty((len(HP_SHIFT_STEPS), grid.n_periods))
    for k in range(len(HP_SHIFT_STEPS)):
        hw_norm = mult @ hw[k]  # each local day's sum over the slots it has
        sh_norm = mult @ sh[k]
        out[k] = hot[d] * hw[k, s] / hw_norm[d] + heat[d] * sh[k, s] / sh_norm[d]
    return quantise(out, BASIS_QUANTUM)


def heat_pump_weights(seed: int, meter_index: np.ndarray) -> np.ndarray:
    """Per-meter heating timer shift as interpolation weights over the heat-pump rows."""
    idx = np.asarray(meter_index, dtype=np.int64)
    shift = np.clip(1.0 * meter_normal(seed, idx, Stream.HP_SHIFT), -2.0, 2.0)  # half hours
    x = shift / 2.0  # -1 ... 1 across the three rows
    w = (
        np.round(
            np.stack([np.clip(-x, 0, None), np.zeros_like(x), np.clip(x, 0, None)], axis=1) * 1024
        )
        / 1024
    )
    w[:, 1] = 1.0 - w[:, 0] - w[:, 2]  # rows sum to exactly 1: the annual total is kept
    return w
