"""The ``carrier_ops`` feature flow (see :mod:`streaming.flows.features_common` for its shape)."""

from __future__ import annotations

from bytewax.dataflow import Dataflow
from bytewax.inputs import Source
from bytewax.outputs import Sink

from chainwatch.schemas.events import DeadLetter
from chainwatch.settings import Settings
from streaming.features.groups import GROUPS
from streaming.features.rolling import Row
from streaming.flows.features_common import Clock, build_feature_flow
from streaming.sources import Message

VIEW = "carrier_ops"


def build_flow(
    settings: Settings,
    *,
    source: Source[Message] | None = None,
    sink: Sink[Row] | None = None,
    dead_letter_sink: Sink[DeadLetter] | None = None,
    now: Clock | None = None,
) -> Dataflow:
    """The ``carrier_ops`` dataflow: events in, one row per key and closed hour out.

    Args:
        settings: Profile and Kafka settings.
        source: Messages; default: the group's Kafka topics (services profile only).
        sink: Where feature rows go; default: logged.
        dead_letter_sink: Where dead letters go; default: ``<topic>.dlq`` (services) or logged (local).
        now: Clock of the watermark and far-future check; default: the system clock.
    """
    return build_feature_flow(
        GROUPS[VIEW], settings, source=source, sink=sink, dead_letter_sink=dead_letter_sink, now=now
    )
