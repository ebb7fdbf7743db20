"""Entity id conventions."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainwatch.entities import (
    facility_id,
    parse_route_id,
    parse_shipment_id,
    route_id,
    shipment_id,
    vehicle_id,
)
from chainwatch.errors import InvalidInputError

codes = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=3, max_size=4)
carriers = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=2, max_size=2)


def test_ids_are_normalised_to_upper_case() -> None:
    assert facility_id(" jfk ") == "JFK"
    assert route_id("jfk", "lax") == "JFK-LAX"
    assert vehicle_id("n14228") == "N14228"


@pytest.mark.parametrize("bad", ["", "J", "JFK!", "TOOLONG", "J K"])
def test_bad_facility_codes_are_rejected(bad: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid facility id"):
        facility_id(bad)


@given(carrier=carriers, flight=st.integers(1, 9999), day=st.dates(date(2000, 1, 1), date(2099, 12, 31)), origin=codes)
def test_shipment_ids_round_trip(carrier: str, flight: int, day: date, origin: str) -> None:
    key = parse_shipment_id(shipment_id(carrier, flight, day, origin))

    assert (key.carrier, key.flight, key.scheduled_local_date, key.origin) == (carrier, flight, day, origin)


@given(origin=codes, destination=codes)
def test_route_ids_round_trip(origin: str, destination: str) -> None:
    assert parse_route_id(route_id(origin, destination)) == (origin, destination)


@pytest.mark.parametrize("bad", ["UA1545-2013010-EWR", "UA-20130101-EWR", "UA1545-20131301-EWR", "x"])
def test_malformed_shipment_ids_are_rejected(bad: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_shipment_id(bad)


def test_flight_numbers_outside_range_are_rejected() -> None:
    with pytest.raises(InvalidInputError, match="flight number"):
        shipment_id("UA", 0, date(2013, 1, 1), "EWR")
