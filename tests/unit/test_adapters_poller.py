"""The poller over real adapters and a real local server: dedup, cursors, failures, stopping."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from pytest_httpserver import HTTPServer

from chainwatch.adapter_settings import DEFAULT_FACILITIES, DEFAULT_KEYWORDS, GdeltSettings, XSettings, env_var
from chainwatch.schemas.events import DeadLetter, Event, NewsArticle
from streaming.adapters.base import Batch, Cursor
from streaming.adapters.dedup import SeenIds
from streaming.adapters.gdelt import GdeltDocAdapter
from streaming.adapters.http import HttpFetcher
from streaming.adapters.metrics import AdapterMetrics
from streaming.adapters.poller import Poller
from streaming.adapters.x import XRecentSearchAdapter
from tests.fixtures.adapters import FAST_HTTP, SleepRecorder, recorded, serving

NOW = datetime(2024, 1, 9, 22, 41, tzinfo=UTC)


@pytest.fixture(scope="module")
def http_server() -> Iterator[HTTPServer]:
    yield from serving()


@pytest.fixture
def server(http_server: HTTPServer) -> HTTPServer:
    http_server.clear()
    return http_server


@pytest.fixture
def metrics() -> AdapterMetrics:
    return AdapterMetrics(CollectorRegistry())


class RecordingWait(threading.Event):
    """A stop event whose waits are recorded and return at once (no real sleeping)."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout if timeout is not None else -1)
        return self.is_set()


def gdelt(server: HTTPServer, metrics: AdapterMetrics) -> GdeltDocAdapter:
    fetcher = HttpFetcher("gdelt", FAST_HTTP, metrics=metrics, sleep=SleepRecorder())
    settings = GdeltSettings(enabled=True, base_url=server.url_for("/"))
    return GdeltDocAdapter(settings, DEFAULT_KEYWORDS, DEFAULT_FACILITIES, fetcher, now=lambda: NOW)


def poller(
    adapter: GdeltDocAdapter,
    sink: list[Event],
    metrics: AdapterMetrics,
    *,
    dead_letters: list[DeadLetter] | None = None,
    stop_event: threading.Event | None = None,
) -> Poller:
    return Poller(
        adapter,
        sink.append,
        interval_s=900,
        metrics=metrics,
        now=lambda: NOW,
        dead_letters=dead_letters.append if dead_letters is not None else None,
        stop_event=stop_event,
    )


def value(metrics: AdapterMetrics, name: str, **labels: str) -> float:
    return metrics.value(f"chainwatch_adapter_{name}", adapter=labels.pop("adapter", "gdelt"), **labels)


def test_no_event_is_emitted_twice_across_overlapping_polls(server: HTTPServer, metrics: AdapterMetrics) -> None:
    # given: two polls whose answers overlap by two articles (one linked with other tracking params)
    server.expect_ordered_request("/api/v2/doc/doc").respond_with_data(recorded("gdelt/artlist_poll1.json"))
    server.expect_ordered_request("/api/v2/doc/doc").respond_with_data(recorded("gdelt/artlist_poll2.json"))
    sink: list[Event] = []
    runner = poller(gdelt(server, metrics), sink, metrics)

    # when
    first = runner.poll_once()
    second = runner.poll_once()

    # then: 4 + 1 events, each once, oldest first within a poll; 2 dedup hits counted
    assert (first.emitted, second.emitted, second.duplicates) == (4, 1, 2)
    ids = [event.event_id for event in sink]
    assert len(ids) == len(set(ids)) == 5
    assert [event.event_time for event in sink[:4]] == sorted(event.event_time for event in sink[:4])
    assert isinstance(sink[4], NewsArticle)
    assert "ground stop lifted" in sink[4].title
    assert value(metrics, "events_emitted_total") == 5
    assert value(metrics, "dedup_hits_total") == 2
    # and the second poll started at the newest seen date of the first
    assert server.log[1][0].args["startdatetime"] == "20240109213000"
    assert runner.cursor.newest == datetime(2024, 1, 9, 22, 15, tzinfo=UTC)


def test_a_malformed_body_is_counted_dead_lettered_and_the_poller_goes_on(
    server: HTTPServer, metrics: AdapterMetrics
) -> None:
    # given: a truncated body, then a good one
    truncated = recorded("gdelt/artlist_poll1.json")[:700]
    server.expect_ordered_request("/api/v2/doc/doc").respond_with_data(truncated)
    server.expect_ordered_request("/api/v2/doc/doc").respond_with_data(recorded("gdelt/artlist_poll1.json"))
    sink: list[Event] = []
    letters: list[DeadLetter] = []
    stop = RecordingWait()
    runner = poller(gdelt(server, metrics), sink, metrics, dead_letters=letters, stop_event=stop)

    # when
    runner.run(max_polls=2)

    # then
    assert len(sink) == 4
    assert value(metrics, "failures_total", reason="malformed") == 1
    assert value(metrics, "polls_total", outcome="failed") == 1
    assert value(metrics, "polls_total", outcome="ok") == 1
    [letter] = letters
    assert letter.topic == "news.articles.v1"
    assert letter.source == "gdelt"
    assert letter.reason == "invalid_json"
    assert "not valid JSON" in letter.detail
    assert base64.b64decode(letter.payload_b64) == truncated
    assert stop.waits == [900]
    # the failed poll did not move the cursor: the good one still looked back the whole timespan
    assert server.log[1][0].args["timespan"] == "1d"


def test_a_failing_sink_keeps_the_cursor_and_nothing_is_lost_or_repeated(
    server: HTTPServer, metrics: AdapterMetrics
) -> None:
    # given: the same answer twice, and a sink that fails on the third event once
    server.expect_request("/api/v2/doc/doc").respond_with_data(recorded("gdelt/artlist_poll1.json"))
    taken: list[Event] = []
    failed = False

    def flaky(event: Event) -> None:
        nonlocal failed
        if len(taken) == 2 and not failed:
            failed = True
            msg = "broker unavailable"
            raise RuntimeError(msg)
        taken.append(event)

    runner = Poller(gdelt(server, metrics), flaky, interval_s=900, metrics=metrics, now=lambda: NOW)

    # when
    first = runner.poll_once()
    cursor_after_failure = runner.cursor
    second = runner.poll_once()

    # then
    assert first.outcome == "failed"
    assert first.failures == ("sink",)
    assert cursor_after_failure == Cursor()
    assert (second.emitted, second.duplicates) == (2, 2)
    assert len({event.event_id for event in taken}) == len(taken) == 4
    assert runner.cursor.newest is not None


def test_events_older_than_the_maximum_age_are_skipped(server: HTTPServer, metrics: AdapterMetrics) -> None:
    # given: it is now a week after the articles
    server.expect_request("/api/v2/doc/doc").respond_with_data(recorded("gdelt/artlist_poll1.json"))
    sink: list[Event] = []
    later = NOW + timedelta(days=7)
    runner = Poller(gdelt(server, metrics), sink.append, interval_s=900, metrics=metrics, now=lambda: later)

    # when
    report = runner.poll_once()

    # then
    assert (report.stale, report.emitted) == (4, 0)
    assert value(metrics, "events_stale_total") == 4


def test_a_long_rate_limit_defers_the_next_poll(server: HTTPServer, metrics: AdapterMetrics) -> None:
    # given: X says come back in 15 minutes (beyond the 60 s cap), then answers
    server.expect_ordered_request("/2/tweets/search/recent").respond_with_data(
        recorded("x/error_429.json"), status=429, headers={"Retry-After": "1500"}
    )
    server.expect_ordered_request("/2/tweets/search/recent").respond_with_data(recorded("x/search_empty.json"))
    fetcher = HttpFetcher("x", FAST_HTTP, metrics=metrics, sleep=SleepRecorder())
    settings = XSettings(enabled=True, bearer_token=SecretStr("t"), base_url=server.url_for("/"), poll_interval_s=60)
    adapter = XRecentSearchAdapter(settings, DEFAULT_KEYWORDS, DEFAULT_FACILITIES, fetcher)
    stop = RecordingWait()
    runner = Poller(adapter, lambda event: None, interval_s=60, metrics=metrics, stop_event=stop, now=lambda: NOW)

    # when
    runner.run(max_polls=3)

    # then: waited what X asked after the 429, the normal interval after the good poll
    assert stop.waits == [1500, 60]
    assert value(metrics, "failures_total", adapter="x", reason="rate_limited") == 1


def test_an_unexpected_error_is_counted_and_the_loop_goes_on(metrics: AdapterMetrics) -> None:
    # given: an adapter with a bug on its first poll
    calls = 0

    class Buggy:
        name = "buggy"
        topic = "news.articles.v1"

        def fetch(self, cursor: Cursor) -> Batch:
            nonlocal calls
            calls += 1
            if calls == 1:
                msg = "bug"
                raise KeyError(msg)
            return Batch()

    runner = Poller(Buggy(), lambda event: None, interval_s=1, metrics=metrics, stop_event=RecordingWait())

    # when
    runner.run(max_polls=2)

    # then
    assert calls == 2
    assert metrics.value("chainwatch_adapter_failures_total", adapter="buggy", reason="unexpected") == 1
    assert metrics.value("chainwatch_adapter_polls_total", adapter="buggy", outcome="ok") == 1


def test_stopping_ends_the_wait_between_polls_at_once(metrics: AdapterMetrics) -> None:
    # given: a poller with an hour between polls, running in its thread
    class Quiet:
        name = "quiet"
        topic = "news.articles.v1"

        def fetch(self, cursor: Cursor) -> Batch:
            return Batch()

    runner = Poller(Quiet(), lambda event: None, interval_s=3600, metrics=metrics)
    thread = runner.start()
    time.sleep(0.05)

    # when
    started = time.monotonic()
    runner.stop()
    thread.join(timeout=5)

    # then
    assert not thread.is_alive()
    assert time.monotonic() - started < 1
    assert metrics.value("chainwatch_adapter_polls_total", adapter="quiet", outcome="ok") == 1


def test_a_401_is_counted_as_auth_and_names_the_setting(
    server: HTTPServer, metrics: AdapterMetrics, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    server.expect_request("/2/tweets/search/recent").respond_with_data(recorded("x/error_401.json"), status=401)
    fetcher = HttpFetcher("x", FAST_HTTP, key_setting=env_var("x", "bearer_token"), metrics=metrics)
    settings = XSettings(enabled=True, bearer_token=SecretStr("bad"), base_url=server.url_for("/"))
    adapter = XRecentSearchAdapter(settings, DEFAULT_KEYWORDS, DEFAULT_FACILITIES, fetcher)

    # when
    report = Poller(adapter, lambda event: None, interval_s=60, metrics=metrics).poll_once()

    # then
    assert report.failures == ("auth",)
    assert "CHAINWATCH_ADAPTERS__X__BEARER_TOKEN" in caplog.text


# --- the seen-id set ----------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_seen_ids_expire_after_the_ttl() -> None:
    clock = FakeClock()
    seen = SeenIds(max_size=10, ttl_s=60, clock=clock)
    seen.add("a")

    clock.now = 59
    assert seen.seen("a")  # and this sighting restarts its TTL
    clock.now = 118
    assert seen.seen("a")
    clock.now = 179
    assert not seen.seen("a")


def test_seen_ids_forget_the_least_recently_used_past_the_bound() -> None:
    seen = SeenIds(max_size=2, ttl_s=60)
    seen.add("a")
    seen.add("b")
    assert seen.seen("a")

    seen.add("c")

    assert len(seen) == 2
    assert seen.seen("a")
    assert seen.seen("c")
    assert not seen.seen("b")
