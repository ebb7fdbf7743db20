"""The raw archive flow: every topic's messages, untouched, into parquet on S3 (or the local lake).

::

    input (every event topic) -> archive sink (raw/topic=<t>/date=<d>/part-<worker>-<seq>.parquet)

No decoding: bad input is archived too, exactly as it arrived (see :mod:`streaming.features.archive`).
"""

from __future__ import annotations

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import Source
from bytewax.outputs import Sink

from chainwatch.settings import Settings
from streaming.features.archive import RawArchiveSink
from streaming.flows.common import kafka_source
from streaming.sources import Message


def build_flow(
    settings: Settings,
    *,
    source: Source[Message] | None = None,
    sink: Sink[Message] | None = None,
) -> Dataflow:
    """The archive dataflow.

    Args:
        settings: Profile, Kafka and S3 settings.
        source: Messages; default: every event topic on Kafka (services profile only).
        sink: Where messages go; default: :class:`RawArchiveSink` of the profile.
    """
    flow = Dataflow("raw_archive")
    messages = op.input("inp", flow, source if source is not None else kafka_source(settings))
    # messages: Stream[KafkaSourceMessage] (key, value bytes, topic, partition, offset)
    op.output("out", messages, sink if sink is not None else RawArchiveSink(settings))
    return flow
