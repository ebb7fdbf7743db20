"""Seeded, deterministic, clearly labelled synthetic streams.

Everything here is made up, and says so: ``source`` is ``synthetic:social``,
``synthetic:news`` or ``synthetic:iot``, URLs live on the reserved ``example.invalid``
domain, outlets are fictional and ids start with ``syn-``.

* **Text signals** (:func:`generate_text_signals`, or the per-topic
  :func:`generate_social_posts` / :func:`generate_news_articles`): an online process over
  the time-ordered stream of known facts (shipment steps and weather observations, as the
  replay emits them). Items follow real weather and delays at the New York hubs and their
  destinations, with injected incidents, background chatter, off-topic items, misses and
  false alarms. An item stamped at ``t`` depends only on facts with ``event_time <= t``.
* **IoT telemetry** (:func:`generate_telemetry`): a tracker per plane along its great-circle
  route, with cargo temperature and humidity and injected stops, temperature excursions and
  signal gaps; lazy, merged across planes in event-time order.
* **Helpers** for standalone runs and tests: :func:`facts_from_dataset` (the fact stream of
  a :class:`~chainwatch.datasets.FlightsDataset`) and :func:`legs_from_dataset`.

Example::

    dataset = load_nycflights()
    for item in generate_text_signals(facts_from_dataset(dataset), TextSignalConfig(seed=7)):
        ...
    for reading in generate_telemetry(legs_from_dataset(dataset), TelemetryConfig()):
        ...
"""

from streaming.synthetic.config import TelemetryConfig, TextSignalConfig
from streaming.synthetic.facts import FACT_SOURCE, Fact, facts_from_dataset
from streaming.synthetic.legs import facility_endpoints, leg_from_event, legs_from_dataset
from streaming.synthetic.news import NEWS_SOURCE, news_articles_at
from streaming.synthetic.observer import WorldView, observe
from streaming.synthetic.social import SOCIAL_SOURCE, social_posts_at
from streaming.synthetic.telemetry import IOT_SOURCE, FlightLeg, generate_telemetry, leg_readings
from streaming.synthetic.text import (
    TextSignal,
    generate_news_articles,
    generate_social_posts,
    generate_text_signals,
    text_signals_at,
)

__all__ = [
    "FACT_SOURCE",
    "IOT_SOURCE",
    "NEWS_SOURCE",
    "SOCIAL_SOURCE",
    "Fact",
    "FlightLeg",
    "TelemetryConfig",
    "TextSignal",
    "TextSignalConfig",
    "WorldView",
    "facility_endpoints",
    "facts_from_dataset",
    "generate_news_articles",
    "generate_social_posts",
    "generate_telemetry",
    "generate_text_signals",
    "leg_from_event",
    "leg_readings",
    "legs_from_dataset",
    "news_articles_at",
    "observe",
    "social_posts_at",
    "text_signals_at",
]
