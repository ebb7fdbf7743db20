"""GDELT DOC 2.0 and Google News RSS: recorded responses to articles, stable ids, cursors."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry
from pytest_httpserver import HTTPServer

from chainwatch.adapter_settings import DEFAULT_FACILITIES, DEFAULT_KEYWORDS, GdeltSettings, GoogleNewsSettings
from streaming.adapters.base import Cursor
from streaming.adapters.errors import MalformedResponseError
from streaming.adapters.gdelt import GdeltDocAdapter, parse_gdelt_artlist
from streaming.adapters.google_news import GoogleNewsRssAdapter, parse_google_news_rss
from streaming.adapters.http import HttpFetcher
from streaming.adapters.metrics import AdapterMetrics
from streaming.adapters.text import FacilityMatcher, canonical_url
from tests.fixtures.adapters import FAST_HTTP, SleepRecorder, recorded, serving

MATCHER = FacilityMatcher(DEFAULT_FACILITIES)
NOW = datetime(2024, 1, 9, 22, 41, 7, tzinfo=UTC)


@pytest.fixture(scope="module")
def http_server() -> Iterator[HTTPServer]:
    yield from serving()


@pytest.fixture
def server(http_server: HTTPServer) -> HTTPServer:
    http_server.clear()
    return http_server


def fetcher(name: str) -> HttpFetcher:
    return HttpFetcher(name, FAST_HTTP, metrics=AdapterMetrics(CollectorRegistry()), sleep=SleepRecorder())


# --- GDELT --------------------------------------------------------------------------------


def test_a_gdelt_article_list_becomes_articles_with_stable_ids() -> None:
    # when
    page = parse_gdelt_artlist(recorded("gdelt/artlist_poll1.json"), MATCHER)

    # then
    first, second, third, fourth = page.events
    url = "https://www.nbcnewyork.com/news/local/faa-ground-stop-laguardia-airport-wind-storm/5043187"
    assert first.event_id == "gdelt:" + hashlib.sha256(url.encode()).hexdigest()[:32]
    assert first.source == "gdelt"
    assert first.event_time == datetime(2024, 1, 9, 21, 30, tzinfo=UTC)
    assert first.title == "FAA issues ground stop at LaGuardia Airport as powerful storm slams NYC"
    assert first.outlet == "nbcnewyork.com"
    assert first.language == "en"
    assert first.facility_ids == ["LGA"]
    assert second.facility_ids == ["EWR"]
    assert third.facility_ids == ["JFK"]
    assert fourth.language == "es"
    assert fourth.facility_ids == []
    assert page.failures == []


def test_tracking_parameters_do_not_change_an_articles_id() -> None:
    # given: the same nj.com article, linked from two campaigns in two polls
    first = parse_gdelt_artlist(recorded("gdelt/artlist_poll1.json"), MATCHER).events[1]
    again = parse_gdelt_artlist(recorded("gdelt/artlist_poll2.json"), MATCHER).events[2]

    # then
    assert str(first.url) != str(again.url)
    assert first.event_id == again.event_id


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://WWW.Example.com/a/b/?utm_source=x&id=3#top", "https://www.example.com/a/b?id=3"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/x?fbclid=abc", "https://example.com/x"),
    ],
)
def test_canonical_urls(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_gdelt_no_matches_is_an_empty_object() -> None:
    assert parse_gdelt_artlist(recorded("gdelt/artlist_empty.json"), MATCHER).events == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (recorded("gdelt/rate_limit_notice.txt"), "Please limit requests to one every 5 seconds"),
        (recorded("gdelt/artlist_poll1.json")[:500], "not valid JSON"),
        (recorded("common/proxy_error.html"), "HTML page: 502 Bad Gateway"),
        (b'{"articles": {"url": "x"}}', "articles"),
        (b"[]", "expected a JSON object"),
    ],
    ids=["plain-text-notice", "truncated", "html-page", "wrong-shape", "array"],
)
def test_malformed_gdelt_bodies_raise_a_clear_error(body: bytes, expected: str) -> None:
    with pytest.raises(MalformedResponseError, match=r"GDELT DOC 2\.0") as caught:
        parse_gdelt_artlist(body, MATCHER)

    assert expected in str(caught.value)


def test_one_bad_gdelt_article_is_a_failure_the_others_still_count() -> None:
    body = b"""{"articles": [
      {"url": "notaurl", "title": "t", "seendate": "20240109T213000Z", "domain": "x.com", "language": "English"},
      {"url": "https://x.com/a", "title": "LGA closed", "seendate": "20240109T213000Z", "domain": "x.com"},
      {"url": "https://x.com/b", "title": "b", "seendate": "2024-01-09", "domain": "x.com"}]}"""

    page = parse_gdelt_artlist(body, MATCHER)

    assert [article.facility_ids for article in page.events] == [["LGA"]]
    assert len(page.failures) == 2
    assert "article 0" in str(page.failures[0])
    assert "article 2" in str(page.failures[1])
    assert "seendate" in str(page.failures[1])


def gdelt_adapter(server: HTTPServer) -> GdeltDocAdapter:
    settings = GdeltSettings(enabled=True, base_url=server.url_for("/"))
    return GdeltDocAdapter(settings, DEFAULT_KEYWORDS, DEFAULT_FACILITIES, fetcher("gdelt"), now=lambda: NOW)


def test_gdelt_first_poll_looks_back_the_initial_timespan(server: HTTPServer) -> None:
    server.expect_request("/api/v2/doc/doc").respond_with_data(recorded("gdelt/artlist_poll1.json"))

    batch = gdelt_adapter(server).fetch(Cursor())

    assert len(batch.events) == 4
    [(request, _)] = server.log
    assert request.args["mode"] == "artlist"
    assert request.args["format"] == "json"
    assert request.args["sort"] == "datedesc"
    assert request.args["maxrecords"] == "75"
    assert request.args["timespan"] == "1d"
    assert request.args["query"].endswith(" sourcelang:english")
    assert "startdatetime" not in request.args


def test_gdelt_later_polls_start_at_the_newest_seen_date(server: HTTPServer) -> None:
    server.expect_request("/api/v2/doc/doc").respond_with_data(recorded("gdelt/artlist_poll2.json"))

    gdelt_adapter(server).fetch(Cursor(newest=datetime(2024, 1, 9, 21, 30, tzinfo=UTC)))

    [(request, _)] = server.log
    assert request.args["startdatetime"] == "20240109213000"
    assert request.args["enddatetime"] == "20240109224107"
    assert "timespan" not in request.args


# --- Google News --------------------------------------------------------------------------


def test_a_google_news_feed_becomes_articles() -> None:
    # when
    page = parse_google_news_rss(recorded("google_news/search.rss"), MATCHER)

    # then
    first, second, third = page.events
    guid = (
        "CBMiYWh0dHBzOi8vd3d3Lm5iY25ld3lvcmsuY29tL25ld3MvbG9jYWwvZmFhLWdyb3VuZC1zdG9w"
        "LWxhZ3VhcmRpYS1haXJwb3J0LXdpbmQtc3Rvcm0vNTA0MzE4Ny_SAQA"
    )
    assert first.event_id == "google-news:" + hashlib.sha256(guid.encode()).hexdigest()[:32]
    assert first.source == "google-news"
    assert first.event_time == datetime(2024, 1, 9, 21, 40, tzinfo=UTC)
    assert first.title == "FAA issues ground stop at LaGuardia as wind gusts top 60 mph"
    assert first.outlet == "NBC New York"
    assert str(first.url).startswith("https://news.google.com/rss/articles/CBMiYWh0")
    assert first.language == "en-US"
    assert first.summary is None
    assert first.facility_ids == ["LGA"]
    assert second.facility_ids == ["JFK"]  # "Newark," alone names the city, not the airport
    assert third.outlet == "FreightWaves"
    assert page.failures == []


def test_an_empty_google_news_feed_has_no_articles() -> None:
    assert parse_google_news_rss(recorded("google_news/search_empty.rss"), MATCHER).events == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (recorded("google_news/search.rss")[:1800], "broken XML"),
        (recorded("common/proxy_error.html"), "not an RSS or Atom feed"),
        (recorded("x/search_page1.json"), "not an RSS or Atom feed"),
        (b"", "empty body"),
    ],
    ids=["truncated", "html-page", "json", "empty"],
)
def test_malformed_feeds_raise_a_clear_error(body: bytes, expected: str) -> None:
    with pytest.raises(MalformedResponseError, match="Google News RSS") as caught:
        parse_google_news_rss(body, MATCHER)

    assert expected in str(caught.value)
    assert caught.value.payload == body


def test_an_item_without_a_date_is_a_failure() -> None:
    body = recorded("google_news/search.rss").replace(b"<pubDate>Tue, 09 Jan 2024 20:05:31 GMT</pubDate>", b"")

    page = parse_google_news_rss(body, MATCHER)

    assert len(page.events) == 2
    [failure] = page.failures
    assert "item 1" in str(failure)
    assert "pubDate" in str(failure)


def test_google_news_asks_for_the_edition_and_window(server: HTTPServer) -> None:
    server.expect_request("/rss/search").respond_with_data(
        recorded("google_news/search.rss"), content_type="application/rss+xml; charset=utf-8"
    )
    settings = GoogleNewsSettings(enabled=True, base_url=server.url_for("/"))

    batch = GoogleNewsRssAdapter(settings, DEFAULT_KEYWORDS, DEFAULT_FACILITIES, fetcher("google-news")).fetch(Cursor())

    assert len(batch.events) == 3
    [(request, _)] = server.log
    assert request.args["hl"] == "en-US"
    assert request.args["gl"] == "US"
    assert request.args["ceid"] == "US:en"
    assert request.args["q"].endswith(" when:1d")
