"""Builds the enabled adapters and their pollers from :class:`AdaptersSettings`.

The entry point owns the pieces with a lifetime: one httpx client, one metrics object, one
stop event, and the threads. Typical wiring::

    with new_http_client(settings.adapters.http) as client:
        metrics = AdapterMetrics(prometheus_client.REGISTRY)
        pollers = build_pollers(settings.adapters, sink, client=client, metrics=metrics, stop_event=stop)
        threads = [poller.start() for poller in pollers]
        ...
        stop.set()
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from chainwatch.adapter_settings import AdaptersSettings, env_var
from streaming.adapters.base import Adapter
from streaming.adapters.dedup import SeenIds
from streaming.adapters.gdelt import GdeltDocAdapter
from streaming.adapters.google_news import GoogleNewsRssAdapter
from streaming.adapters.http import HttpFetcher, install_log_redaction
from streaming.adapters.metrics import AdapterMetrics
from streaming.adapters.openweathermap import OpenWeatherMapAdapter
from streaming.adapters.poller import DeadLetterSink, Poller, Sink
from streaming.adapters.reddit import RedditSearchAdapter
from streaming.adapters.x import XRecentSearchAdapter


def build_adapters(
    settings: AdaptersSettings,
    *,
    client: httpx.Client,
    metrics: AdapterMetrics,
    sleep: Callable[[float], None] = time.sleep,
) -> list[tuple[Adapter, float]]:
    """The enabled adapters, each with its poll interval.

    Args:
        settings: The adapters' settings.
        client: The httpx client all adapters send with.
        metrics: Where requests and retries are counted.
        sleep: Waits between retries.

    Returns:
        ``(adapter, poll_interval_s)`` for each enabled API, in a fixed order.

    Raises:
        ConfigError: An enabled API lacks its key, or its query is too long.
    """
    install_log_redaction()

    def fetcher(name: str, key_setting: str | None) -> HttpFetcher:
        return HttpFetcher(name, settings.http, client=client, key_setting=key_setting, metrics=metrics, sleep=sleep)

    keywords, facilities = settings.keywords, settings.facilities
    adapters: list[tuple[Adapter, float]] = []
    owm, x, reddit, gdelt, news = (
        settings.openweathermap,
        settings.x,
        settings.reddit,
        settings.gdelt,
        settings.google_news,
    )
    if owm.enabled:
        owm_fetcher = fetcher("openweathermap", env_var("openweathermap", "api_key"))
        adapters.append((OpenWeatherMapAdapter(owm, facilities, owm_fetcher), owm.poll_interval_s))
    if x.enabled:
        x_fetcher = fetcher("x", env_var("x", "bearer_token"))
        adapters.append((XRecentSearchAdapter(x, keywords, facilities, x_fetcher), x.poll_interval_s))
    if reddit.enabled:
        reddit_keys = (
            f"{env_var('reddit', 'client_id')} / {env_var('reddit', 'client_secret')} "
            f"(and {env_var('reddit', 'user_agent')})"
        )
        reddit_fetcher = fetcher("reddit", reddit_keys)
        adapters.append((RedditSearchAdapter(reddit, keywords, facilities, reddit_fetcher), reddit.poll_interval_s))
    if gdelt.enabled:
        adapters.append((GdeltDocAdapter(gdelt, keywords, facilities, fetcher("gdelt", None)), gdelt.poll_interval_s))
    if news.enabled:
        news_fetcher = fetcher("google-news", None)
        adapters.append((GoogleNewsRssAdapter(news, keywords, facilities, news_fetcher), news.poll_interval_s))
    return adapters


def build_pollers(
    settings: AdaptersSettings,
    sink: Sink,
    *,
    client: httpx.Client,
    metrics: AdapterMetrics,
    stop_event: threading.Event,
    dead_letters: DeadLetterSink | None = None,
) -> list[Poller]:
    """One :class:`Poller` per enabled adapter, sharing the stop event and metrics.

    Args:
        settings: The adapters' settings.
        sink: Takes every new event of every adapter (it must be thread-safe when the
            pollers run in threads; Kafka producers are).
        client: The httpx client all adapters send with.
        metrics: Where everything is counted.
        stop_event: Set it to stop every poller.
        dead_letters: Takes unreadable input for the ``<topic>.dlq`` topics.

    Returns:
        The pollers, not started (call :meth:`Poller.start` or :meth:`Poller.run`).
    """
    dedup = settings.dedup
    return [
        Poller(
            adapter,
            sink,
            interval_s=interval_s,
            dead_letters=dead_letters,
            seen=SeenIds(dedup.max_ids, dedup.ttl_s),
            max_event_age_s=dedup.max_event_age_s,
            metrics=metrics,
            stop_event=stop_event,
        )
        for adapter, interval_s in build_adapters(settings, client=client, metrics=metrics)
    ]
