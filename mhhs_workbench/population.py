"""Population: the fleet of meters a scenario describes, with valid identifiers and attributes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .identifiers import (
    DISTRIBUTOR_BY_GSP_GROUP,
    GSP_GROUPS,
    NATION_BY_GSP_GROUP,
    random_meter_serials,
    random_mpans,
)
from .profiles import ARCHETYPE_SPECS
from .profiles.individuality import annual_kwh as draw_annual_kwh
from .scenario import Scenario
from .settlement_time import format_utc

# Kinds of archetype, from the model's own facts about each (one source of truth)
DOMESTIC = tuple(a for a, s in ARCHETYPE_SPECS.items() if s.domestic)
TIME_OF_USE = tuple(a for a, s in ARCHETYPE_SPECS.items() if s.economy7)
ADVANCED = tuple(a for a, s in ARCHETYPE_SPECS.items() if s.reactive)
UNMETERED = tuple(a for a, s in ARCHETYPE_SPECS.items() if s.connection_types == ("U",))

#: Stream numbers keep each kind of random draw independent of the others.
STREAM_POPULATION = 0

#: Columns of the meter register, in order.
METER_COLUMNS = (
    "meter_index",
    "mpan",
    "gsp_group",
    "nation",
    "distributor_dip_id",
    "archetype",
    "connection_type",
    "connection_effective_from",
    "data_service_dip_id",
    "data_service_role",
    "meter_id",
    "time_of_use",
    "annual_kwh",
    "pv_kwp",
    "ev_kw",
    "ev_smart",
    "heat_pump_kwh",
    "register_digits",
    "initial_register_wh",
    "supplier_dip_id",
    "change_of_supplier_date",
)


def apportion(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Split ``total`` items by relative ``shares`` with the largest-remainder method."""
    names = list(shares)
    weights = np.array([shares[n] for n in names], dtype=float)
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return dict(zip(names, counts.tolist(), strict=True))


def distributor_dip_id(prefix: str, gsp_group: str) -> str:
    """Test DIP ID of the distributor hosting a GSP group: prefix, zeros, distributor ID."""
    return f"{prefix}000000{DISTRIBUTOR_BY_GSP_GROUP[gsp_group]}"


def build_population(scenario: Scenario) -> pd.DataFrame:
    """Draw the fleet of meters for a scenario.

    Parameters
    ----------
    scenario : Scenario
        The data set description; ``scenario.meters`` says how many meters of which kinds.

    Returns
    -------
    pandas.DataFrame
        One row per meter with the columns in :data:`METER_COLUMNS`: identifiers (MPAN with a
        valid check digit in its GSP group's distributor area, meter serial), archetype and
        overlays, data service, register size and install reading [Wh], and supplier events.
    """
    mix = scenario.meters
    n = mix.count
    rng = np.random.default_rng([scenario.seed, STREAM_POPULATION])

    counts = apportion(n, {k: v for k, v in mix.archetypes.items() if v > 0})
    archetype = np.repeat(np.array(list(counts), dtype=object), list(counts.values()))
    archetype = archetype[rng.permutation(n)]

    groups = list(mix.gsp_groups) or list(GSP_GROUPS)
    gsp = np.array(groups, dtype=object)[np.arange(n) % len(groups)]
    mpan = np.empty(n, dtype="U13")
    for g in groups:
        sel = gsp == g
        mpan[sel] = random_mpans(rng, g, int(sel.sum()))

    domestic = np.isin(archetype, DOMESTIC)
    advanced = np.isin(archetype, ADVANCED)
    unmetered = np.isin(archetype, UNMETERED)

    pv = domestic & (rng.random(n) < mix.pv_share)
    pv_kwp = np.where(pv, np.round(rng.uniform(mix.pv_kwp[0], mix.pv_kwp[1], n), 1), 0.0)
    ev = domestic & (rng.random(n) < mix.ev_share)
    ev_kw = np.where(ev, np.array(mix.ev_kw)[rng.integers(0, len(mix.ev_kw), n)], 0.0)
    ev_smart = ev & (rng.random(n) < mix.ev_smart_share)
    hp = domestic & (rng.random(n) < mix.heat_pump_share)
    hp_kwh = np.where(hp, np.round(mix.heat_pump_kwh * rng.lognormal(0.0, 0.25, n)), 0.0)

    # the archetype's usual connection type, or its second one for 30 % of sites that have two
    second = rng.random(n) < 0.3
    connection = np.array(
        [ARCHETYPE_SPECS[a].connection_types[int(s) % len(ARCHETYPE_SPECS[a].connection_types)]
         for a, s in zip(archetype, second, strict=True)],
        dtype=object,
    )

    p = scenario.participants
    data_service = np.where(
        advanced, p.advanced_data_service, np.where(unmetered, p.unmetered_data_service, p.smart_data_service)
    )
    role = np.where(advanced, "ADS", np.where(unmetered, "UMSDS", "SDS"))
    serial = random_meter_serials(rng, n).astype(object)
    serial[unmetered] = ""

    # Connection type held since a date before the data set starts: midnight UTC, 30-720 days back
    start = np.datetime64(scenario.start_date, "D")
    since = start - rng.integers(30, 720, n).astype("timedelta64[D]")

    capacity_wh = 10 ** (scenario.readings.register_digits + 3)
    initial = rng.integers(0, capacity_wh // 2, n)
    near_wrap = rng.random(n) < scenario.readings.near_wrap_share
    # near the top: a few days of heavy use away from rolling over
    initial = np.where(near_wrap, capacity_wh - rng.integers(1_000, 200_000, n), initial)
    initial = np.where(unmetered, 0, initial)

    # each meter's annual consumption, drawn as the model would draw it, so the register says it
    annual = np.empty(n)
    for name in np.unique(archetype):
        sel = archetype == name
        annual[sel] = draw_annual_kwh(ARCHETYPE_SPECS[name], scenario.seed, np.flatnonzero(sel), np.full(sel.sum(), np.nan))

    cos_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    for ev_spec in scenario.events:
        if ev_spec.type == "change_of_supplier":
            hit = ~unmetered & np.isnat(cos_date) & (rng.random(n) < ev_spec.share)
            cos_date[hit] = np.datetime64(ev_spec.date, "D")

    return pd.DataFrame(
        {
            "meter_index": np.arange(n, dtype=np.int64),
            "mpan": mpan.astype(object),
            "gsp_group": gsp,
            "nation": [NATION_BY_GSP_GROUP[g] for g in gsp],
            "distributor_dip_id": [distributor_dip_id(p.distributor_prefix, g) for g in gsp],
            "archetype": archetype,
            "connection_type": connection,
            "connection_effective_from": format_utc(since).astype(object),
            "data_service_dip_id": data_service.astype(object),
            "data_service_role": role.astype(object),
            "meter_id": serial,
            "time_of_use": np.isin(archetype, TIME_OF_USE),
            "annual_kwh": np.round(annual, 3),
            "pv_kwp": pv_kwp,
            "ev_kw": ev_kw,
            "ev_smart": ev_smart,
            "heat_pump_kwh": hp_kwh,
            "register_digits": np.full(n, scenario.readings.register_digits, dtype=np.int64),
            "initial_register_wh": initial.astype(np.int64),
            "supplier_dip_id": np.full(n, p.supplier, dtype=object),
            "change_of_supplier_date": cos_date,
        },
        columns=list(METER_COLUMNS),
    )
