"""Flight legs for the telemetry simulator, from the dataset or from shipment events."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime

import pandas as pd

from chainwatch.datasets.schema import FlightsDataset
from chainwatch.schemas.events import ShipmentEvent
from streaming.synthetic.flightpath import Endpoint
from streaming.synthetic.telemetry import FlightLeg

_CHUNK = 20_000
_MIN, _MAX = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)


def facility_endpoints(facilities: pd.DataFrame) -> dict[str, Endpoint]:
    """Positions of every facility with coordinates.

    Args:
        facilities: The facilities table (``facility_id, lat, lon, altitude_m``).

    Returns:
        Facility id -> position (missing elevation read as sea level).
    """
    known = facilities.dropna(subset=["lat", "lon"])
    altitude = known["altitude_m"].astype("Float64").fillna(0.0)
    return {
        str(fid): Endpoint(float(lat), float(lon), float(alt))
        for fid, lat, lon, alt in zip(known["facility_id"], known["lat"], known["lon"], altitude, strict=True)
    }


def legs_from_dataset(
    dataset: FlightsDataset, *, start: datetime | None = None, end: datetime | None = None
) -> Iterator[FlightLeg]:
    """Every flown leg of the dataset, in ``(actual_departure, shipment_id)`` order.

    Cancelled and diverted flights, flights without a tail number, and flights between
    facilities without coordinates are skipped (there is no plane, or no path, to simulate).

    Args:
        dataset: The flights dataset.
        start: Keep legs departing at or after this instant; all if ``None``.
        end: Keep legs departing before this instant; all if ``None``.

    Yields:
        Legs, built a chunk at a time.
    """
    places = facility_endpoints(dataset.facilities)
    ships = dataset.shipments
    keep = (
        ships["actual_departure"].notna()
        & ships["actual_arrival"].notna()
        & ships["vehicle_id"].notna()
        & ships["origin_id"].isin(places)
        & ships["destination_id"].isin(places)
        & (ships["actual_arrival"] > ships["actual_departure"])
        & (ships["actual_departure"] >= (start or _MIN))
        & (ships["actual_departure"] < (end or _MAX))
    ).to_numpy(dtype=bool)
    flown = ships.loc[keep].sort_values(["actual_departure", "shipment_id"], kind="stable")
    for begin in range(0, len(flown), _CHUNK):
        part = flown.iloc[begin : begin + _CHUNK]
        departures = _instants(part["actual_departure"])
        arrivals = _instants(part["actual_arrival"])
        rows = zip(
            part["shipment_id"].tolist(), part["vehicle_id"].tolist(), part["origin_id"].tolist(),
            part["destination_id"].tolist(), departures, arrivals, strict=True,
        )  # fmt: skip
        for shipment, vehicle, origin, destination, departure, arrival in rows:
            yield FlightLeg(shipment, vehicle, places[origin], places[destination], departure, arrival)


def _instants(column: pd.Series) -> list[datetime]:
    """A non-null UTC column as Python datetimes."""
    return [stamp.to_pydatetime() for stamp in pd.DatetimeIndex(column.to_numpy(dtype="datetime64[ns]"), tz="UTC")]


def leg_from_event(event: ShipmentEvent, places: Mapping[str, Endpoint]) -> FlightLeg | None:
    """The leg of an ``arrived`` shipment event (the only step that knows both times).

    Args:
        event: A shipment event.
        places: Facility positions (see :func:`facility_endpoints`).

    Returns:
        The leg, or ``None`` for other steps, a missing vehicle or unknown facilities.
    """
    if (
        event.event_type != "arrived"
        or event.vehicle_id is None
        or event.actual_departure is None
        or event.actual_arrival is None
        or event.actual_arrival <= event.actual_departure
        or event.origin_id not in places
        or event.destination_id not in places
    ):
        return None
    return FlightLeg(
        event.shipment_id,
        event.vehicle_id,
        places[event.origin_id],
        places[event.destination_id],
        event.actual_departure,
        event.actual_arrival,
    )
