"""Ingestion and stream processing.

* ``streaming.replay`` — the real 2013 history replayed as shipment and weather events;
* ``streaming.synthetic`` — seeded, clearly labelled synthetic social posts, news and IoT telemetry;
* ``streaming.adapters`` — live API adapters (OpenWeatherMap, X, Reddit, GDELT, Google News);
* ``streaming.mqtt`` — the IoT simulator's MQTT publisher and the MQTT→Kafka bridge;
* ``streaming.kafka`` — keyed, idempotent producing, dead letters, metrics.

Every source is an iterator of validated :class:`chainwatch.schemas.Event` in event-time order,
so the same source feeds Kafka (services profile) or a Bytewax dataflow in-process (local).
"""
