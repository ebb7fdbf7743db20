"""X recent search and Reddit search: recorded responses to posts, paging, cursors, auth."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from pytest_httpserver import HTTPServer

from chainwatch.adapter_settings import (
    DEFAULT_FACILITIES,
    DEFAULT_KEYWORDS,
    FacilityConfig,
    RedditSettings,
    XSettings,
    env_var,
)
from chainwatch.errors import ConfigError
from chainwatch.schemas.events import SocialPost
from streaming.adapters.base import Batch, Cursor
from streaming.adapters.errors import MalformedResponseError, UpstreamAuthError
from streaming.adapters.http import HttpFetcher
from streaming.adapters.metrics import AdapterMetrics
from streaming.adapters.reddit import RedditSearchAdapter, parse_reddit_search
from streaming.adapters.text import FacilityMatcher, keyword_query
from streaming.adapters.x import XRecentSearchAdapter, parse_x_search, x_query
from tests.fixtures.adapters import FAST_HTTP, SleepRecorder, recorded, recorded_json, serving

TOKEN = "x-test-bearer"
MATCHER = FacilityMatcher(DEFAULT_FACILITIES)
REDDIT_UA = "python:org.example.chainwatch:v0.1 (by /u/chainwatch_test)"


@pytest.fixture(scope="module")
def http_server() -> Iterator[HTTPServer]:
    yield from serving()


@pytest.fixture
def server(http_server: HTTPServer) -> HTTPServer:
    http_server.clear()
    return http_server


def fetcher(name: str, key: str) -> HttpFetcher:
    return HttpFetcher(
        name, FAST_HTTP, key_setting=key, metrics=AdapterMetrics(CollectorRegistry()), sleep=SleepRecorder()
    )


def posts(batch: Batch) -> list[SocialPost]:
    assert all(isinstance(event, SocialPost) for event in batch.events)
    return [event for event in batch.events if isinstance(event, SocialPost)]


# --- facility detection -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ground stop at #LGA until 5:30pm", ["LGA"]),
        ("stuck at Newark Airport and then JFK", ["EWR", "JFK"]),
        ("laguardia is a mess", ["LGA"]),
        ("Kennedy airport delays", ["JFK"]),
        ("jfk in lower case is not a code", []),
        ("JFKX and XJFK are not JFK-adjacent words", ["JFK"]),
        ("Newark (the city) has no airport mention", []),
        ("John F. Kennedy International Airport", ["JFK"]),
    ],
)
def test_facilities_are_detected_by_code_name_and_alias(text: str, expected: list[str]) -> None:
    assert MATCHER.detect(text) == expected


def test_codes_that_are_words_match_only_in_capitals() -> None:
    matcher = FacilityMatcher(
        [FacilityConfig(facility_id="SEA", name="Seattle-Tacoma International", lat=47.4, lon=-122.3)]
    )

    assert matcher.detect("rough sea today") == []
    assert matcher.detect("SEA ground stop") == ["SEA"]


def test_the_built_query_pairs_any_keyword_with_any_facility() -> None:
    query = keyword_query(("ground stop", "delay"), DEFAULT_FACILITIES[:2])

    assert query == (
        '("ground stop" OR delay) '
        '(EWR OR "Newark Airport" OR "Newark Liberty" OR KEWR OR JFK OR "JFK Airport" OR "Kennedy Airport" OR KJFK)'
    )


# --- X ------------------------------------------------------------------------------------


def test_an_x_page_becomes_posts_with_ids_utc_times_authors_and_facilities() -> None:
    # when
    page = parse_x_search(recorded("x/search_page1.json"), MATCHER)

    # then
    first, second, third = page.events
    assert first.event_id == "x:1744834206757818369"
    assert first.source == "x"
    assert first.platform == "x"
    assert first.event_time == datetime(2024, 1, 9, 21, 31, 7, tzinfo=UTC)
    assert first.event_time.tzinfo is UTC
    assert first.author == "airportstatus"
    assert str(first.url) == "https://x.com/airportstatus/status/1744834206757818369"
    assert first.facility_ids == ["LGA"]
    assert "delays & diversions" in first.text  # HTML entities decoded
    assert first.language == "en"
    assert second.facility_ids == ["EWR"]
    assert third.facility_ids == ["JFK"]
    assert third.language is None  # 'und'
    assert page.next_token == "b26v89c19zqg8o3fr5qdnt0kx3h4v3z5w1sgkxk4tbxw5"
    assert page.newest_id == "1744834206757818369"
    assert page.failures == []


def test_an_empty_x_result_has_no_posts_and_no_next_page() -> None:
    page = parse_x_search(recorded("x/search_empty.json"), MATCHER)

    assert page.events == []
    assert page.next_token is None


def test_one_bad_x_post_is_a_failure_and_the_rest_still_count() -> None:
    # given: the second post lost its created_at
    doc = recorded_json("x/search_page1.json")
    del doc["data"][1]["created_at"]

    # when
    page = parse_x_search(json.dumps(doc), MATCHER)

    # then
    assert len(page.events) == 2
    [failure] = page.failures
    assert isinstance(failure, MalformedResponseError)
    assert "post 1" in str(failure)
    assert "created_at" in str(failure)
    assert b"1744830117311418880" in failure.payload


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (recorded("x/search_page1.json")[:300], "not valid JSON"),
        (recorded("x/errors_only.json"), "since_id"),
        (recorded("common/proxy_error.html"), "502 Bad Gateway"),
        (b'{"data": "nope", "meta": {}}', "data"),
    ],
    ids=["truncated", "errors-only", "html-page", "wrong-shape"],
)
def test_malformed_x_bodies_raise_a_clear_error(body: bytes, expected: str) -> None:
    with pytest.raises(MalformedResponseError, match="X recent search") as caught:
        parse_x_search(body, MATCHER)

    assert expected in str(caught.value)


def x_adapter(server: HTTPServer, **overrides: object) -> XRecentSearchAdapter:
    settings = XSettings.model_validate(
        {"enabled": True, "bearer_token": TOKEN, "base_url": server.url_for("/"), **overrides}
    )
    return XRecentSearchAdapter(
        settings, DEFAULT_KEYWORDS, DEFAULT_FACILITIES, fetcher("x", env_var("x", "bearer_token"))
    )


def test_x_follows_next_token_and_returns_the_newest_id_as_the_cursor(server: HTTPServer) -> None:
    # given: two pages, served only with the Bearer token
    headers = {"Authorization": f"Bearer {TOKEN}"}
    server.expect_ordered_request("/2/tweets/search/recent", headers=headers).respond_with_data(
        recorded("x/search_page1.json")
    )
    server.expect_ordered_request("/2/tweets/search/recent", headers=headers).respond_with_data(
        recorded("x/search_page2.json")
    )

    # when
    batch = x_adapter(server).fetch(Cursor())

    # then: both pages read, the second asked for by next_token, with the documented fields
    assert len(posts(batch)) == 5
    assert batch.since_id == "1744834206757818369"
    first, second = (request.args for request, _ in server.log)
    assert first["tweet.fields"] == "created_at,lang,author_id"
    assert first["max_results"] == "100"
    assert "-is:retweet" in first["query"]
    assert "since_id" not in first
    assert "next_token" not in first
    assert second["next_token"] == "b26v89c19zqg8o3fr5qdnt0kx3h4v3z5w1sgkxk4tbxw5"
    server.check_assertions()


def test_x_polls_incrementally_from_since_id(server: HTTPServer) -> None:
    # given
    server.expect_request("/2/tweets/search/recent").respond_with_data(recorded("x/search_empty.json"))

    # when
    batch = x_adapter(server).fetch(Cursor(since_id="1744834206757818369"))

    # then: nothing new, and the cursor stays where it was
    assert batch.events == []
    assert batch.since_id == "1744834206757818369"
    assert server.log[0][0].args["since_id"] == "1744834206757818369"


def test_x_stops_at_max_pages(server: HTTPServer) -> None:
    server.expect_request("/2/tweets/search/recent").respond_with_data(recorded("x/search_page1.json"))

    batch = x_adapter(server, max_pages=1).fetch(Cursor())

    assert len(server.log) == 1
    assert len(batch.events) == 3


def test_x_401_names_the_bearer_token_setting(server: HTTPServer) -> None:
    server.expect_request("/2/tweets/search/recent").respond_with_data(recorded("x/error_401.json"), status=401)

    with pytest.raises(UpstreamAuthError, match="check the key setting CHAINWATCH_ADAPTERS__X__BEARER_TOKEN"):
        x_adapter(server).fetch(Cursor())


def test_the_x_query_excludes_retweets_and_fits_the_access_level() -> None:
    query = x_query(XSettings(), ("ground stop",), DEFAULT_FACILITIES[:1])

    assert query == '"ground stop" (EWR OR "Newark Airport" OR "Newark Liberty" OR KEWR) -is:retweet lang:en'
    with pytest.raises(ConfigError, match="CHAINWATCH_ADAPTERS__X__QUERY"):
        x_query(XSettings(max_query_length=64), DEFAULT_KEYWORDS, DEFAULT_FACILITIES)


def test_x_needs_a_bearer_token() -> None:
    with pytest.raises(ConfigError, match="CHAINWATCH_ADAPTERS__X__BEARER_TOKEN"):
        XRecentSearchAdapter(XSettings(), DEFAULT_KEYWORDS, DEFAULT_FACILITIES, fetcher("x", "k"))


# --- Reddit -------------------------------------------------------------------------------


def test_a_reddit_listing_becomes_posts() -> None:
    # when
    page = parse_reddit_search(recorded("reddit/search_new.json"), MATCHER)

    # then
    first, second, third = page.events
    assert first.event_id == "reddit:t3_192rx3z"
    assert first.source == "reddit"
    assert first.platform == "reddit"
    assert first.event_time == datetime(2024, 1, 9, 21, 35, 3, tzinfo=UTC)
    assert first.author == "queens_commuter"
    assert first.text.startswith("LaGuardia ground stop right now?\n\nAnyone else stuck?")
    assert str(first.url) == "https://www.reddit.com/r/nyc/comments/192rx3z/laguardia_ground_stop_right_now/"
    assert first.facility_ids == ["LGA"]
    assert second.author is None  # [deleted]
    assert second.facility_ids == ["EWR", "JFK"]
    assert third.facility_ids == []
    assert page.next_token == "t3_192r7kq"


def test_an_empty_reddit_listing_has_no_posts() -> None:
    assert parse_reddit_search(recorded("reddit/search_empty.json"), MATCHER).events == []


@pytest.mark.parametrize(
    "body",
    [recorded("reddit/blocked_whoa.html"), recorded("reddit/search_new.json")[:-40], b'{"kind": "t3", "data": {}}'],
    ids=["html-page", "truncated", "not-a-listing"],
)
def test_malformed_reddit_bodies_raise_a_clear_error(body: bytes) -> None:
    with pytest.raises(MalformedResponseError, match="Reddit search"):
        parse_reddit_search(body, MATCHER)


def reddit_adapter(server: HTTPServer, **overrides: object) -> RedditSearchAdapter:
    settings = RedditSettings.model_validate(
        {
            "enabled": True,
            "base_url": server.url_for("/"),
            "oauth_base_url": server.url_for("/oauth/"),
            "user_agent": REDDIT_UA,
            **overrides,
        }
    )
    return RedditSearchAdapter(settings, DEFAULT_KEYWORDS, DEFAULT_FACILITIES, fetcher("reddit", "REDDIT_KEYS"))


def test_reddit_searches_newest_first_with_its_own_user_agent(server: HTTPServer) -> None:
    # given
    server.expect_request("/search.json", headers={"User-Agent": REDDIT_UA}).respond_with_data(
        recorded("reddit/search_new.json")
    )

    # when
    batch = reddit_adapter(server).fetch(Cursor())

    # then
    assert len(posts(batch)) == 3
    [(request, _)] = server.log
    assert {key: request.args[key] for key in ("sort", "type", "t", "limit", "raw_json")} == {
        "sort": "new",
        "type": "link",
        "t": "day",
        "limit": "100",
        "raw_json": "1",
    }
    assert " AND " in request.args["q"]
    assert "restrict_sr" not in request.args
    assert "Authorization" not in request.headers


def test_reddit_restricts_to_subreddits(server: HTTPServer) -> None:
    server.expect_request("/r/aviation+nyc/search.json").respond_with_data(recorded("reddit/search_empty.json"))

    batch = reddit_adapter(server, subreddits=("aviation", "nyc")).fetch(Cursor())

    assert batch.events == []
    [(request, _)] = server.log
    assert request.args["restrict_sr"] == "1"


def test_reddit_oauth_gets_an_app_only_token_once_and_searches_with_it(server: HTTPServer) -> None:
    # given: the token endpoint wants HTTP basic auth with the client id and secret
    basic = base64.b64encode(b"client-id:client-secret").decode()
    server.expect_request(
        "/api/v1/access_token", method="POST", headers={"Authorization": f"Basic {basic}"}
    ).respond_with_data(recorded("reddit/access_token.json"))
    token = recorded_json("reddit/access_token.json")["access_token"]
    server.expect_request("/oauth/search.json", headers={"Authorization": f"bearer {token}"}).respond_with_data(
        recorded("reddit/search_new.json")
    )
    adapter = reddit_adapter(server, client_id="client-id", client_secret=SecretStr("client-secret"))

    # when: two polls
    first = adapter.fetch(Cursor())
    second = adapter.fetch(Cursor())

    # then: one token request, two searches
    assert len(first.events) == len(second.events) == 3
    paths = [request.path for request, _ in server.log]
    assert paths == ["/api/v1/access_token", "/oauth/search.json", "/oauth/search.json"]
    assert server.log[0][0].form["grant_type"] == "client_credentials"


def test_reddit_blocking_the_user_agent_is_an_auth_error_naming_the_settings(server: HTTPServer) -> None:
    server.expect_request("/search.json").respond_with_data(
        recorded("reddit/blocked_whoa.html"), status=403, content_type="text/html"
    )

    with pytest.raises(UpstreamAuthError, match="whoa there, pardner") as caught:
        RedditSearchAdapter(
            RedditSettings(enabled=True, base_url=server.url_for("/"), user_agent=REDDIT_UA),
            DEFAULT_KEYWORDS,
            DEFAULT_FACILITIES,
            fetcher("reddit", "CHAINWATCH_ADAPTERS__REDDIT__USER_AGENT"),
        ).fetch(Cursor())

    assert "CHAINWATCH_ADAPTERS__REDDIT__USER_AGENT" in str(caught.value)
