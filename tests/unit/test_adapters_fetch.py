"""The shared fetch layer against a real local HTTP server: retries, backoff, Retry-After, errors."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from prometheus_client import CollectorRegistry
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from chainwatch.adapter_settings import HttpSettings
from streaming.adapters.errors import (
    RateLimitedError,
    UpstreamAuthError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)
from streaming.adapters.http import HttpFetcher, install_log_redaction, parse_retry_after, redact
from streaming.adapters.metrics import AdapterMetrics
from tests.fixtures.adapters import FAST_HTTP, SleepRecorder, recorded, serving

NOW = datetime(2024, 1, 9, 21, 40, tzinfo=UTC)
SECRET = "owm-secret-key-123"


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


@pytest.fixture
def sleep() -> SleepRecorder:
    return SleepRecorder()


def fetcher(
    metrics: AdapterMetrics, sleep: SleepRecorder, settings: HttpSettings = FAST_HTTP, key: str | None = None
) -> HttpFetcher:
    return HttpFetcher("test", settings, key_setting=key, metrics=metrics, sleep=sleep, now=lambda: NOW)


def requests_total(metrics: AdapterMetrics, outcome: str) -> float:
    return metrics.value("chainwatch_adapter_requests_total", adapter="test", outcome=outcome)


def test_a_server_error_is_retried_after_a_backoff_and_then_succeeds(
    server: HTTPServer, metrics: AdapterMetrics, sleep: SleepRecorder
) -> None:
    # given: a 500 then the recorded body
    server.expect_ordered_request("/data/2.5/weather").respond_with_data("oops", status=500)
    server.expect_ordered_request("/data/2.5/weather").respond_with_data(
        recorded("openweathermap/current_jfk_rain.json"), content_type="application/json"
    )

    # when
    response = fetcher(metrics, sleep).get(server.url_for("/data/2.5/weather"))

    # then: two requests, one wait of the first backoff step, both counted
    assert response.json()["name"] == "Jamaica"
    assert len(server.log) == 2
    assert sleep.calls == [FAST_HTTP.backoff_initial_s]
    assert requests_total(metrics, "server_error") == 1
    assert requests_total(metrics, "ok") == 1
    assert metrics.value("chainwatch_adapter_retries_total", adapter="test") == 1


def test_backoff_grows_exponentially_with_jitter_and_gives_up_naming_the_endpoint(
    server: HTTPServer, metrics: AdapterMetrics, sleep: SleepRecorder
) -> None:
    # given: a server that always answers 503, and jitter of up to 0.25 s
    server.expect_request("/data/2.5/weather").respond_with_data("maintenance", status=503)
    settings = FAST_HTTP.model_copy(update={"max_attempts": 4, "backoff_jitter_s": 0.25})

    # when
    with pytest.raises(UpstreamUnavailableError) as caught:
        fetcher(metrics, sleep, settings).get(server.url_for("/data/2.5/weather"), params={"appid": SECRET})

    # then: 4 attempts, waits 0.5, 1, 2 (+ jitter), and a message with the endpoint but no key
    assert len(server.log) == 4
    assert [int(wait * 2) / 2 for wait in sleep.calls] == [0.5, 1.0, 2.0]
    assert all(0 <= wait - base <= 0.25 for wait, base in zip(sleep.calls, [0.5, 1.0, 2.0], strict=True))
    message = str(caught.value)
    assert f"GET {server.url_for('/data/2.5/weather')}" in message
    assert "after 4 attempts" in message
    assert "503" in message
    assert SECRET not in message
    assert caught.value.attempts == 4


def test_429_waits_what_retry_after_asks_in_seconds(
    server: HTTPServer, metrics: AdapterMetrics, sleep: SleepRecorder
) -> None:
    # given
    server.expect_ordered_request("/2/tweets/search/recent").respond_with_data(
        recorded("x/error_429.json"), status=429, headers={"Retry-After": "7"}
    )
    server.expect_ordered_request("/2/tweets/search/recent").respond_with_data(recorded("x/search_empty.json"))

    # when
    fetcher(metrics, sleep).get(server.url_for("/2/tweets/search/recent"))

    # then
    assert sleep.calls == [7.0]
    assert len(server.log) == 2
    assert requests_total(metrics, "rate_limited") == 1


def test_429_honours_retry_after_as_an_http_date(
    server: HTTPServer, metrics: AdapterMetrics, sleep: SleepRecorder
) -> None:
    # given: Retry-After 30 s after the injected clock's now
    when = format_datetime(NOW + timedelta(seconds=30), usegmt=True)
    server.expect_ordered_request("/api/v2/doc/doc").respond_with_data(
        "slow down", status=429, headers={"Retry-After": when}
    )
    server.expect_ordered_request("/api/v2/doc/doc").respond_with_data("{}")

    # when
    fetcher(metrics, sleep).get(server.url_for("/api/v2/doc/doc"))

    # then
    assert sleep.calls == [30.0]


def test_429_without_retry_after_uses_x_rate_limit_reset(
    server: HTTPServer, metrics: AdapterMetrics, sleep: SleepRecorder
) -> None:
    # given: X's reset header, an epoch 12 s after now
    reset = str(int(NOW.timestamp()) + 12)
    server.expect_ordered_request("/2/tweets/search/recent").respond_with_data(
        recorded("x/error_429.json"), status=429, headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": reset}
    )
    server.expect_ordered_request("/2/tweets/search/recent").respond_with_data(recorded("x/search_empty.json"))

    # when
    fetcher(metrics, sleep).get(server.url_for("/2/tweets/search/recent"))

    # then
    assert sleep.calls == [12.0]


def test_a_retry_after_beyond_the_cap_is_not_waited_but_raised_for_the_poller(
    server: HTTPServer, metrics: AdapterMetrics, sleep: SleepRecorder
) -> None:
    # given: the API asks for an hour; the cap is 60 s
    server.expect_request("/data/2.5/weather").respond_with_data(
        recorded("openweathermap/error_429.json"), status=429, headers={"Retry-After": "3600"}
    )

    # when
    with pytest.raises(RateLimitedError) as caught:
        fetcher(metrics, sleep).get(server.url_for("/data/2.5/weather"))

    # then: one request, no wait inside the poll, and the wait handed up
    assert len(server.log) == 1
    assert sleep.calls == []
    assert caught.value.retry_after_s == 3600
    assert "3600s" in str(caught.value)


def test_a_429_on_every_attempt_raises_rate_limited(
    server: HTTPServer, metrics: AdapterMetrics, sleep: SleepRecorder
) -> None:
    # given
    server.expect_request("/search.json").respond_with_data("", status=429, headers={"Retry-After": "2"})

    # when
    with pytest.raises(RateLimitedError) as caught:
        fetcher(metrics, sleep).get(server.url_for("/search.json"))

    # then
    assert len(server.log) == FAST_HTTP.max_attempts
    assert sleep.calls == [2.0, 2.0]
    assert caught.value.retry_after_s == 2.0


def test_a_response_slower_than_the_read_timeout_is_retried(
    server: HTTPServer, metrics: AdapterMetrics, sleep: SleepRecorder
) -> None:
    # given: the first answer takes 0.6 s, the read timeout is 0.1 s
    seen: list[str] = []
    lock = threading.Lock()

    def slow(request: Request) -> Response:
        with lock:
            seen.append("slow")
        time.sleep(0.6)
        return Response("{}", content_type="application/json")

    def fast(request: Request) -> Response:
        with lock:
            seen.append("fast")
        return Response('{"ok": true}', content_type="application/json")

    server.expect_ordered_request("/api/v2/doc/doc").respond_with_handler(slow)
    server.expect_ordered_request("/api/v2/doc/doc").respond_with_handler(fast)
    settings = FAST_HTTP.model_copy(update={"read_timeout_s": 0.1})

    # when
    started = time.monotonic()
    response = fetcher(metrics, sleep, settings).get(server.url_for("/api/v2/doc/doc"))
    elapsed = time.monotonic() - started

    # then: it gave up on the slow answer without waiting for it, and the retry succeeded
    assert response.json() == {"ok": True}
    assert seen == ["slow", "fast"]
    assert elapsed < 0.5
    assert requests_total(metrics, "timeout") == 1
    assert sleep.calls == [FAST_HTTP.backoff_initial_s]


def test_connection_errors_are_retried_then_reported(metrics: AdapterMetrics, sleep: SleepRecorder) -> None:
    # given: a port nobody listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    # when
    with pytest.raises(UpstreamUnavailableError) as caught:
        fetcher(metrics, sleep).get(f"http://127.0.0.1:{port}/rss/search")

    # then
    assert requests_total(metrics, "transport_error") == FAST_HTTP.max_attempts
    assert "ConnectError" in str(caught.value)
    assert len(sleep.calls) == FAST_HTTP.max_attempts - 1


def test_401_is_not_retried_and_names_the_key_setting(
    server: HTTPServer, metrics: AdapterMetrics, sleep: SleepRecorder
) -> None:
    # given
    server.expect_request("/data/2.5/weather").respond_with_data(recorded("openweathermap/error_401.json"), status=401)

    # when
    with pytest.raises(UpstreamAuthError) as caught:
        fetcher(metrics, sleep, key="CHAINWATCH_ADAPTERS__OPENWEATHERMAP__API_KEY").get(
            server.url_for("/data/2.5/weather"), params={"appid": SECRET}
        )

    # then
    assert len(server.log) == 1
    assert sleep.calls == []
    message = str(caught.value)
    assert "check the key setting CHAINWATCH_ADAPTERS__OPENWEATHERMAP__API_KEY" in message
    assert "Invalid API key" in message
    assert SECRET not in message
    assert caught.value.status_code == 401


def test_other_4xx_are_rejected_once_with_the_api_message(
    server: HTTPServer, metrics: AdapterMetrics, sleep: SleepRecorder
) -> None:
    # given: X's answer to a since_id older than 7 days
    server.expect_request("/2/tweets/search/recent").respond_with_data(recorded("x/errors_only.json"), status=400)

    # when
    with pytest.raises(UpstreamRejectedError) as caught:
        fetcher(metrics, sleep).get(server.url_for("/2/tweets/search/recent"))

    # then
    assert not isinstance(caught.value, UpstreamAuthError)
    assert len(server.log) == 1
    assert "HTTP 400" in str(caught.value)
    assert "since_id" in str(caught.value)
    assert requests_total(metrics, "client_error") == 1


def test_a_keyless_api_refusing_access_points_at_the_user_agent(
    server: HTTPServer, metrics: AdapterMetrics, sleep: SleepRecorder
) -> None:
    # given
    server.expect_request("/rss/search").respond_with_data("<html>Forbidden</html>", status=403)

    # when
    with pytest.raises(UpstreamAuthError) as caught:
        fetcher(metrics, sleep).get(server.url_for("/rss/search"))

    # then
    assert "CHAINWATCH_ADAPTERS__HTTP__USER_AGENT" in str(caught.value)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("Tue, 09 Jan 2024 21:41:00 GMT", 60.0),
        ("Tue, 09 Jan 2024 21:00:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("inf", None),
    ],
)
def test_retry_after_values(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, NOW) == expected


def test_secret_query_parameters_are_redacted_in_httpx_logs(
    server: HTTPServer, metrics: AdapterMetrics, sleep: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    server.expect_request("/data/2.5/weather").respond_with_data("{}")
    install_log_redaction()

    # when
    with caplog.at_level(logging.INFO, logger="httpx"):
        fetcher(metrics, sleep).get(server.url_for("/data/2.5/weather"), params={"lat": "40.6", "appid": SECRET})

    # then: httpx's own request line (the test server's access log is not ours to redact)
    lines = [record.getMessage() for record in caplog.records if record.name == "httpx"]
    assert any("HTTP Request: GET" in line and "appid=%2A%2A%2A" in line for line in lines)
    assert not any(SECRET in line for line in lines)
    assert redact(httpx.URL("https://h/p?appid=k&lat=1")) == "https://h/p?appid=%2A%2A%2A&lat=1"
