"""Realistic half-hourly consumption for GB settlement test data.

A vectorised, seeded model of meters x UTC half hours in integer Wh, calibrated to Elexon's
profile classes: archetype shapes in local clock time by season and day type (bank holidays
as Sundays), per-meter individuality and noise, daily temperature, and overlays for rooftop
PV, EV charging and heat pumps. See :mod:`.model` for the pipeline and the meaning of annual
consumption.

Main entry point::

    from mhhs_workbench.model.profiles import consumption, default_meters
    result = consumption(default_meters(1000), days, seed=42)
    result.import_wh   # int64 (1000, n_days * 48), Wh per UTC half hour
"""

from mhhs_workbench.codes.archetypes import (
    ARCHETYPE_SPECS,
    ARCHETYPES,
    ArchetypeSpec,
    archetype_spec,
    typical_annual_kwh,
)
from mhhs_workbench.model.profiles.model import (
    ConsumptionComponents,
    ConsumptionResult,
    consumption,
    consumption_components,
    default_meters,
)
from mhhs_workbench.model.profiles.reference import PROFILE_COLUMNS, reference_profile
from mhhs_workbench.model.profiles.shapes import economy7_night_mask, model_column_shapes
from mhhs_workbench.model.profiles.weather import (
    TemperatureDataError,
    daily_temperature,
    load_temperature_csv,
    synthetic_temperature,
)

__all__ = [
    "ARCHETYPES",
    "ARCHETYPE_SPECS",
    "PROFILE_COLUMNS",
    "ArchetypeSpec",
    "ConsumptionComponents",
    "ConsumptionResult",
    "TemperatureDataError",
    "archetype_spec",
    "consumption",
    "consumption_components",
    "daily_temperature",
    "default_meters",
    "economy7_night_mask",
    "load_temperature_csv",
    "model_column_shapes",
    "reference_profile",
    "synthetic_temperature",
    "typical_annual_kwh",
]
