"""A one-screen summary of the flights dataset, ready for a CLI table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from chainwatch.datasets.schema import LABEL_COLUMN, FlightsDataset


@dataclass(frozen=True, slots=True)
class DatasetSummary:
    """Headline numbers of a :class:`~chainwatch.datasets.schema.FlightsDataset`.

    Attributes:
        row_counts: Rows per table, in schema order.
        first_departure: Earliest scheduled departure (UTC).
        last_departure: Latest scheduled departure (UTC).
        first_observation: Earliest weather observation (UTC), ``None`` without weather.
        last_observation: Latest weather observation (UTC), ``None`` without weather.
        label_prevalence: Share of shipments that are disrupted (0-1).
        disrupted: Disrupted shipments.
        cancelled: Cancelled shipments.
        diverted: Diverted shipments.
        per_origin: Shipments per origin facility, by facility id.
        quality: Correction counts made while building the dataset.
    """

    row_counts: Mapping[str, int]
    first_departure: pd.Timestamp
    last_departure: pd.Timestamp
    first_observation: pd.Timestamp | None
    last_observation: pd.Timestamp | None
    label_prevalence: float
    disrupted: int
    cancelled: int
    diverted: int
    per_origin: Mapping[str, int]
    quality: Mapping[str, int]

    def to_table_rows(self) -> list[tuple[str, str]]:
        """``(metric, value)`` text pairs in display order, e.g. for a ``rich`` table.

        Returns:
            One pair per row of the summary; non-zero correction counts last, as
            ``data note <key>`` (zero counts say nothing and are left out).
        """
        rows = [(f"rows {name}", f"{count:,}") for name, count in self.row_counts.items()]
        rows += [
            (
                "scheduled departures",
                f"{self.first_departure:%Y-%m-%d %H:%M} .. {self.last_departure:%Y-%m-%d %H:%M} UTC",
            ),
            ("weather observations", _span(self.first_observation, self.last_observation)),
            (f"{LABEL_COLUMN} (label)", f"{self.disrupted:,} ({self.label_prevalence:.1%})"),
            ("cancelled", f"{self.cancelled:,}"),
            ("diverted", f"{self.diverted:,}"),
        ]
        rows += [(f"shipments from {origin}", f"{n:,}") for origin, n in self.per_origin.items()]
        rows += [(f"data note {key}", f"{n:,}") for key, n in self.quality.items() if n]
        return rows


def summarize(dataset: FlightsDataset) -> DatasetSummary:
    """Summarise ``dataset``.

    Args:
        dataset: A built or loaded dataset.

    Returns:
        Its summary.
    """
    shipments, weather = dataset.shipments, dataset.weather
    departures = shipments["scheduled_departure"]
    observed = weather["observed_at"]
    disrupted = int(shipments[LABEL_COLUMN].sum())
    per_origin = shipments["origin_id"].value_counts().sort_index()
    return DatasetSummary(
        row_counts={name: len(frame) for name, frame in dataset.tables().items()},
        first_departure=departures.min(),
        last_departure=departures.max(),
        first_observation=observed.min() if len(observed) else None,
        last_observation=observed.max() if len(observed) else None,
        label_prevalence=disrupted / len(shipments) if len(shipments) else 0.0,
        disrupted=disrupted,
        cancelled=int(shipments["cancelled"].sum()),
        diverted=int(shipments["diverted"].sum()),
        per_origin={str(origin): int(n) for origin, n in per_origin.items()},
        quality=dict(dataset.quality),
    )


def _span(first: pd.Timestamp | None, last: pd.Timestamp | None) -> str:
    if first is None or last is None:
        return "none"
    return f"{first:%Y-%m-%d %H:%M} .. {last:%Y-%m-%d %H:%M} UTC"
