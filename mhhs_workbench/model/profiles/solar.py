"""Sun position and clear-sky irradiance, for rooftop PV and dusk-to-dawn street lighting.

The formulas are the NOAA "general solar position" Fourier series (declination and equation of
time, accurate to a few arc-minutes, plenty for half-hourly energy) and the Kasten-Young air
mass with Meinel's clear-sky beam attenuation. All functions are vectorised over instants.
"""

from __future__ import annotations

import numpy as np

#: Solar constant used for clear-sky beam irradiance [W/m²].
SOLAR_CONSTANT_W_M2 = 1353.0


def sun_vector(instants: np.ndarray, latitude: float, longitude: float) -> np.ndarray:
    """Unit vector pointing at the sun in local east-north-up coordinates.

    Parameters
    ----------
    instants : array of datetime64
        Instants [UTC].
    latitude, longitude : float
        Site position [degrees north, degrees east].

    Returns
    -------
    numpy.ndarray of float, shape ``instants.shape + (3,)``
        ``(east, north, up)`` components; ``up`` is the sine of the solar elevation.
    """
    t = np.asarray(instants, dtype="datetime64[s]")
    year_start = t.astype("datetime64[Y]").astype("datetime64[s]")
    year_len = ((t.astype("datetime64[Y]") + 1).astype("datetime64[s]") - year_start).astype(
        np.float64
    )
    seconds = (t - year_start).astype(np.float64)
    gamma = 2 * np.pi * (seconds / 86400.0 - 0.5) / (year_len / 86400.0)
    decl = (
        0.006918
        - 0.399912 * np.cos(gamma)
        + 0.070257 * np.sin(gamma)
        - 0.006758 * np.cos(2 * gamma)
        + 0.000907 * np.sin(2 * gamma)
        - 0.002697 * np.cos(3 * gamma)
        + 0.00148 * np.sin(3 * gamma)
    )
    eqtime_min = 229.18 * (
        0.000075
        + 0.001868 * np.cos(gamma)
        - 0.032077 * np.sin(gamma)
        - 0.014615 * np.cos(2 * gamma)
        - 0.040849 * np.sin(2 * gamma)
    )
    minutes_utc = (seconds % 86400.0) / 60.0
    true_solar_min = minutes_utc + eqtime_min + 4.0 * longitude
    hour_angle = np.deg2rad(true_solar_min / 4.0 - 180.0)
    phi = np.deg2rad(latitude)
    cd, sd = np.cos(decl), np.sin(decl)
    east = -cd * np.sin(hour_angle)
    north = sd * np.cos(phi) - cd * np.sin(phi) * np.cos(hour_angle)
    up = sd * np.sin(phi) + cd * np.cos(phi) * np.cos(hour_angle)
    return np.stack([east, north, up], axis=-1)


def clear_sky_beam(sin_elevation: np.ndarray) -> np.ndarray:
    """Clear-sky direct normal irradiance [W/m²] for a solar elevation (zero below the horizon).

    Parameters
    ----------
    sin_elevation : array of float
        Sine of the solar elevation [-].
    """
    s = np.asarray(sin_elevation, dtype=np.float64)
    up = s > 0.0
    elev_deg = np.rad2deg(np.arcsin(np.clip(s, 1e-6, 1.0)))
    air_mass = 1.0 / (np.clip(s, 1e-6, 1.0) + 0.50572 * (elev_deg + 6.07995) ** -1.6364)
    dni = SOLAR_CONSTANT_W_M2 * 0.7 ** (air_mass**0.678)
    return np.where(up, dni, 0.0)


def plane_of_array(
    sun: np.ndarray, tilt_deg: float, azimuth_deg: float, diffuse_fraction: float = 0.15
) -> np.ndarray:
    """Clear-sky irradiance on a tilted plane [W/m²].

    Parameters
    ----------
    sun : array of float, shape ``(..., 3)``
        Sun vectors from :func:`sun_vector`.
    tilt_deg : float
        Panel tilt from horizontal [degrees].
    azimuth_deg : float
        Direction the panel faces, clockwise from north [degrees] (180 = south).
    diffuse_fraction : float
        Sky diffuse irradiance as a fraction of the beam [-] (isotropic sky).

    Returns
    -------
    numpy.ndarray of float
        Beam on the plane plus isotropic diffuse [W/m²].
    """
    beta, az = np.deg2rad(tilt_deg), np.deg2rad(azimuth_deg)
    normal = np.array([np.sin(beta) * np.sin(az), np.sin(beta) * np.cos(az), np.cos(beta)])
    up = sun[..., 2]
    dni = clear_sky_beam(up)
    cos_incidence = np.clip(sun @ normal, 0.0, None)
    diffuse = diffuse_fraction * dni * np.clip(up, 0.0, None) ** 0.5 * (1 + np.cos(beta)) / 2
    return dni * cos_incidence + diffuse


def dark_fraction(
    period_ends: np.ndarray, latitude: float, longitude: float, threshold_deg: float
) -> np.ndarray:
    """Fraction of each half hour with the sun below an elevation threshold.

    Sampled every 5 minutes (six samples a period), which resolves dusk and dawn to 1/6 of a
    period.

    Parameters
    ----------
    period_ends : array of datetime64
        Half-hour period ends [UTC].
    latitude, longitude : float
        Site position [degrees].
    threshold_deg : float
        Solar elevation at which lights switch [degrees]; photocells act around sunset, about
        -1 to +1 degrees.

    Returns
    -------
    numpy.ndarray of float, same shape as ``period_ends``
        Dark fraction [-] in 0, 1/6, ..., 1.
    """
    ends = np.asarray(period_ends, dtype="datetime64[s]")
    offsets = np.arange(6) * np.timedelta64(300, "s") + np.timedelta64(150, "s")
    samples = ends[..., None] - np.timedelta64(1800, "s") + offsets
    up = sun_vector(samples, latitude, longitude)[..., 2]
    return (up < np.sin(np.deg2rad(threshold_deg))).mean(axis=-1)
