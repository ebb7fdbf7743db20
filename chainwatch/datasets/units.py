"""Imperial-to-metric conversions used by the datasets (exact factors, vectorised).

Every factor is exact by definition (international yard and pound, 1959), so conversions
round-trip to floating-point precision.
"""

from __future__ import annotations

import pandas as pd

#: Metres in one international foot.
METRES_PER_FOOT = 0.3048
#: Kilometres in one statute mile.
KILOMETRES_PER_MILE = 1.609344
#: Metres in one statute mile.
METRES_PER_MILE = 1609.344
#: Millimetres in one inch.
MILLIMETRES_PER_INCH = 25.4
#: Metres per second in one mile per hour.
METRES_PER_SECOND_PER_MPH = 0.44704


def fahrenheit_to_celsius(values: pd.Series) -> pd.Series:
    """Degrees Fahrenheit to degrees Celsius.

    Args:
        values: Temperatures in °F.

    Returns:
        Temperatures in °C as ``Float64``.
    """
    return ((values.astype("Float64") - 32.0) * 5.0 / 9.0).astype("Float64")


def scaled(values: pd.Series, factor: float) -> pd.Series:
    """``values`` times a conversion factor, as nullable ``Float64``.

    Args:
        values: Quantities in the source unit.
        factor: Target units per source unit, e.g. :data:`KILOMETRES_PER_MILE`.

    Returns:
        Quantities in the target unit as ``Float64``.
    """
    return (values.astype("Float64") * factor).astype("Float64")
