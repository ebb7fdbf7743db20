"""Live API adapters: OpenWeatherMap, X, Reddit, GDELT and Google News as validated events.

Layers, from pure to I/O:

* ``parse_*`` / :func:`normalize_current_weather` — pure: a response body in, validated
  events out (or a :class:`MalformedResponseError` that says what is wrong);
* :class:`HttpFetcher` — the one fetch layer: timeouts, retries with backoff and jitter,
  ``Retry-After``, errors that name the endpoint and the key setting;
* one adapter class per API — ``fetch(cursor) -> Batch`` using both;
* :class:`Poller` — runs an adapter at an interval, dedups across polls, advances the cursor,
  hands new events to a sink, counts everything in Prometheus.

Settings: :class:`AdaptersSettings`, nested as ``Settings.adapters``
(``CHAINWATCH_ADAPTERS__...``). See ``docs/adapters.md``.
"""

from chainwatch.adapter_settings import AdaptersSettings, FacilityConfig
from streaming.adapters.base import Adapter, Batch, Cursor, Page
from streaming.adapters.dedup import SeenIds
from streaming.adapters.errors import (
    MalformedResponseError,
    RateLimitedError,
    UpstreamAuthError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)
from streaming.adapters.factory import build_adapters, build_pollers
from streaming.adapters.gdelt import GdeltDocAdapter, parse_gdelt_artlist
from streaming.adapters.google_news import GoogleNewsRssAdapter, parse_google_news_rss
from streaming.adapters.http import HttpFetcher, new_http_client
from streaming.adapters.metrics import AdapterMetrics
from streaming.adapters.openweathermap import (
    OpenWeatherMapAdapter,
    normalize_current_weather,
    parse_current_weather,
    to_owm_document,
)
from streaming.adapters.poller import Poller, PollReport
from streaming.adapters.reddit import RedditSearchAdapter, parse_reddit_search
from streaming.adapters.text import FacilityMatcher
from streaming.adapters.x import XRecentSearchAdapter, parse_x_search

__all__ = [
    "Adapter",
    "AdapterMetrics",
    "AdaptersSettings",
    "Batch",
    "Cursor",
    "FacilityConfig",
    "FacilityMatcher",
    "GdeltDocAdapter",
    "GoogleNewsRssAdapter",
    "HttpFetcher",
    "MalformedResponseError",
    "OpenWeatherMapAdapter",
    "Page",
    "PollReport",
    "Poller",
    "RateLimitedError",
    "RedditSearchAdapter",
    "SeenIds",
    "UpstreamAuthError",
    "UpstreamRejectedError",
    "UpstreamUnavailableError",
    "XRecentSearchAdapter",
    "build_adapters",
    "build_pollers",
    "new_http_client",
    "normalize_current_weather",
    "parse_current_weather",
    "parse_gdelt_artlist",
    "parse_google_news_rss",
    "parse_reddit_search",
    "parse_x_search",
    "to_owm_document",
]
