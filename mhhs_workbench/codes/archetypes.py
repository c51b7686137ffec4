"""Consumption archetypes: what kind of site a meter is and what that implies.

Each archetype matches one Elexon profile class (street lighting has none) and fixes the
defaults the model uses for it: how much a typical site consumes in a year, how widely sites
spread around that, how noisy its half hours are and which connection types it is metered on.

Typical annual consumption
--------------------------
* Domestic: Ofgem's typical domestic consumption values. Single rate 2,700 kWh a year (medium,
  lowered from 2,900 in 2023; low 1,800 and high 4,300); Economy 7 4,200 kWh (low 2,400, high
  7,100). Ofgem splits Economy 7 58 % day / 42 % night; the model keeps the calibrated
  reference shape instead, whose night window (seven hours: 00:30-07:30 GMT for about half the
  meters, other times for the rest, see ``economy7``) takes about 46 % of the year's energy
  (forcing 42 % would distort the shape, see ``calibration``).
* Non-domestic and maximum demand: the average consumption per customer implied by the
  calibrated profile class level (the 1997 load research average), rounded to two significant
  figures. They are plausible round figures for a small business (PC3/PC4) and for maximum
  demand sites of rising load factor (PC5-PC8), not tariff benchmarks.
* Street lighting: a small council unmetered supply of about 50 LED lanterns at 100 W burning
  dusk to dawn (about 4,100 hours a year), i.e. 20,000 kWh.

The spread is the standard deviation of the natural logarithm of the annual figure (a
log-normal around the typical value, whose mean equals the typical value). Domestic 0.40 puts
the Ofgem low and high values near the 20th and 90th percentiles.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Noise families; each has its own bank of within-day noise and spikes (see ``individuality``).
NOISE_CLASSES: tuple[str, ...] = ("domestic", "non_domestic", "maximum_demand", "none")


@dataclass(frozen=True)
class ArchetypeSpec:
    """Fixed facts and defaults of one archetype.

    Attributes
    ----------
    name : str
        Archetype name, one of :data:`ARCHETYPES`.
    profile_class : int or None
        Elexon profile class whose shape it follows (None for street lighting).
    economy7 : bool
        Whether part of the load is on a timed night circuit (the meter's switching window,
        :mod:`~mhhs_workbench.model.profiles.economy7`).
    domestic : bool
        Domestic premises (overlays such as PV, EV and heat pumps are typical there).
    typical_annual_kwh : float
        Typical annual consumption [kWh], the mean of the drawn annual figures.
    annual_spread : float
        Standard deviation of log annual consumption between sites [-].
    noise_class : str
        One of :data:`NOISE_CLASSES`.
    connection_types : tuple of str
        IF-021 ``connectionTypeIndicator`` values such a site is metered on, most common first.
    reactive : bool
        Whether the meter records reactive energy (RI/RE), as advanced maximum demand meters do.
    """

    name: str
    profile_class: int | None
    economy7: bool
    domestic: bool
    typical_annual_kwh: float
    annual_spread: float
    noise_class: str
    connection_types: tuple[str, ...]
    reactive: bool


_SPECS: tuple[ArchetypeSpec, ...] = (
    ArchetypeSpec(
        "domestic_unrestricted", 1, False, True, 2_700.0, 0.40, "domestic", ("W",), False
    ),
    ArchetypeSpec("domestic_economy7", 2, True, True, 4_200.0, 0.45, "domestic", ("W",), False),
    ArchetypeSpec(
        "non_domestic_unrestricted", 3, False, False, 13_000.0, 0.60, "non_domestic", ("W",), False
    ),
    ArchetypeSpec(
        "non_domestic_economy7", 4, True, False, 25_000.0, 0.60, "non_domestic", ("W",), False
    ),
    ArchetypeSpec(
        "maximum_demand_pc5", 5, False, False, 65_000.0, 0.50, "maximum_demand", ("L", "H"), True
    ),
    ArchetypeSpec(
        "maximum_demand_pc6", 6, False, False, 110_000.0, 0.50, "maximum_demand", ("L", "H"), True
    ),
    ArchetypeSpec(
        "maximum_demand_pc7", 7, False, False, 140_000.0, 0.50, "maximum_demand", ("L", "H"), True
    ),
    ArchetypeSpec(
        "maximum_demand_pc8", 8, False, False, 190_000.0, 0.50, "maximum_demand", ("H", "L"), True
    ),
    ArchetypeSpec(
        "unmetered_street_lighting", None, False, False, 20_000.0, 0.70, "none", ("U",), False
    ),
)

#: Archetype specifications by name.
ARCHETYPE_SPECS: dict[str, ArchetypeSpec] = {s.name: s for s in _SPECS}

#: Archetype names, in profile class order.
ARCHETYPES: tuple[str, ...] = tuple(s.name for s in _SPECS)

#: Ofgem's typical Economy 7 night share [-] (for reference; the model's follows its shape).
ECONOMY7_NIGHT_SHARE = 0.42


def archetype_spec(archetype: str) -> ArchetypeSpec:
    """The :class:`ArchetypeSpec` of an archetype name.

    Raises
    ------
    ValueError
        If the name is not one of :data:`ARCHETYPES`.
    """
    try:
        return ARCHETYPE_SPECS[archetype]
    except KeyError:
        raise ValueError(
            f"unknown archetype {archetype!r}; expected one of {', '.join(ARCHETYPES)}"
        ) from None


def typical_annual_kwh(archetype: str) -> float:
    """Typical annual consumption of an archetype [kWh] (see the module notes for sources)."""
    return archetype_spec(archetype).typical_annual_kwh


def archetype_for_class(profile_class: int) -> str:
    """Archetype name of an Elexon profile class 1-8."""
    for spec in _SPECS:
        if spec.profile_class == profile_class:
            return spec.name
    raise ValueError(f"profile class must be 1-8, got {profile_class!r}")
