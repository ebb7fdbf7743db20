"""Great-circle geometry on a spherical Earth, vectorised over numpy arrays.

Angles in and out are degrees; distances are kilometres. A sphere of the IUGG mean radius is
within 0.5% of the ellipsoid, far below anything a cargo tracker resolves.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: IUGG mean Earth radius.
EARTH_RADIUS_KM = 6371.0088

FloatArray = npt.NDArray[np.float64]


def _unit(lat: FloatArray | float, lon: FloatArray | float) -> FloatArray:
    """Unit vectors (last axis x, y, z) of latitudes and longitudes."""
    phi, lam = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)], axis=-1)


def central_angle(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The angle (radians) between two points seen from the Earth's centre.

    Args:
        lat1: Latitude of the first point.
        lon1: Longitude of the first point.
        lat2: Latitude of the second point.
        lon2: Longitude of the second point.

    Returns:
        The angle, from 0 to pi (haversine form, accurate for short distances).
    """
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    half = np.sin((phi2 - phi1) / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return float(2 * np.arcsin(np.sqrt(min(1.0, float(half)))))


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points.

    Args:
        lat1: Latitude of the first point.
        lon1: Longitude of the first point.
        lat2: Latitude of the second point.
        lon2: Longitude of the second point.

    Returns:
        The distance in kilometres.
    """
    return EARTH_RADIUS_KM * central_angle(lat1, lon1, lat2, lon2)


def interpolate(
    lat1: float, lon1: float, lat2: float, lon2: float, fractions: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Points at the given fractions of the great circle from the first point to the second.

    Args:
        lat1: Latitude of the start.
        lon1: Longitude of the start.
        lat2: Latitude of the end.
        lon2: Longitude of the end.
        fractions: Fractions of the way, 0 (start) to 1 (end).

    Returns:
        ``(latitudes, longitudes)`` of the points (spherical linear interpolation).
    """
    omega = central_angle(lat1, lon1, lat2, lon2)
    f = np.clip(np.asarray(fractions, dtype=np.float64), 0.0, 1.0)
    if omega < 1e-12:
        return np.full_like(f, lat1), np.full_like(f, lon1)
    a = np.sin((1 - f) * omega) / np.sin(omega)
    b = np.sin(f * omega) / np.sin(omega)
    xyz = a[:, None] * _unit(lat1, lon1) + b[:, None] * _unit(lat2, lon2)
    lat = np.degrees(np.arctan2(xyz[:, 2], np.hypot(xyz[:, 0], xyz[:, 1])))
    lon = np.degrees(np.arctan2(xyz[:, 1], xyz[:, 0]))
    return lat, lon


def initial_bearing(lat1: FloatArray, lon1: FloatArray, lat2: float, lon2: float) -> FloatArray:
    """Initial great-circle bearing from each point towards one destination.

    Args:
        lat1: Latitudes of the points.
        lon1: Longitudes of the points.
        lat2: Latitude of the destination.
        lon2: Longitude of the destination.

    Returns:
        Bearings in degrees clockwise from true north, in ``[0, 360)``.
    """
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dlam = np.radians(lon2 - np.asarray(lon1, dtype=np.float64))
    y = np.sin(dlam) * np.cos(phi2)
    x = np.cos(phi1) * np.sin(phi2) - np.sin(phi1) * np.cos(phi2) * np.cos(dlam)
    return wrap_degrees(np.degrees(np.arctan2(y, x)))


def wrap_degrees(angles: FloatArray) -> FloatArray:
    """Angles folded into ``[0, 360)`` (never exactly 360, even after rounding).

    Args:
        angles: Any angles in degrees.

    Returns:
        The same directions in ``[0, 360)``.
    """
    wrapped = np.mod(np.asarray(angles, dtype=np.float64), 360.0)
    return np.where(wrapped >= 360.0, 0.0, wrapped)
