"""Datasets: real history as typed tables, with expectations, summaries and a local store.

The one dataset today is nycflights13 (every flight from New York in 2013), read as
shipments, facilities, carriers, vehicles and hourly weather::

    from chainwatch.datasets import load_nycflights, validate, write_local_store

    dataset = load_nycflights()
    validate(dataset)
    write_local_store(dataset, settings.lake_dir)

Importing this package reads nothing; :func:`load_nycflights` does the work.
"""

from chainwatch.datasets.nycflights import load_nycflights, read_raw_nycflights
from chainwatch.datasets.schema import (
    LABEL_COLUMN,
    POST_DEPARTURE_COLUMNS,
    SCHEMAS,
    SHIPMENT_FEATURE_COLUMNS,
    FlightsDataset,
    feature_columns_are_safe,
)
from chainwatch.datasets.store import read_local_store, write_local_store
from chainwatch.datasets.summary import DatasetSummary, summarize
from chainwatch.datasets.validation import validate

__all__ = [
    "LABEL_COLUMN",
    "POST_DEPARTURE_COLUMNS",
    "SCHEMAS",
    "SHIPMENT_FEATURE_COLUMNS",
    "DatasetSummary",
    "FlightsDataset",
    "feature_columns_are_safe",
    "load_nycflights",
    "read_local_store",
    "read_raw_nycflights",
    "summarize",
    "validate",
    "write_local_store",
]
