"""X API v2 recent search as :class:`SocialPost` events (platform and source ``x``).

``GET {base_url}/2/tweets/search/recent`` with an app-only Bearer token, the query, and
``tweet.fields=created_at,lang,author_id`` (plus ``expansions=author_id`` for usernames).
Polling is incremental: the poller's cursor keeps the newest post id and the next poll sends
it as ``since_id``; within a poll up to ``max_pages`` pages are followed via
``meta.next_token``. The query is ``settings.query`` if set, else any keyword together with
any facility code or alias, without retweets, in ``settings.language``.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from typing import Any

from pydantic import AwareDatetime, Field, HttpUrl

from chainwatch.adapter_settings import FacilityConfig, XSettings, env_var
from chainwatch.errors import ChainwatchError, ConfigError
from chainwatch.schemas.events import SocialPost
from streaming.adapters.base import Batch, Cursor, Page
from streaming.adapters.errors import MalformedResponseError
from streaming.adapters.http import HttpFetcher
from streaming.adapters.parsing import Shape, item_failure, load_json, validated
from streaming.adapters.text import FacilityMatcher, keyword_query, language_tag

logger = logging.getLogger(__name__)

SOURCE = "x"
TOPIC = "social.posts.v1"
PATH = "/2/tweets/search/recent"
API = "X recent search"
MAX_TEXT = 10_000


class _Tweet(Shape):
    id: str = Field(pattern=r"^[0-9]{1,20}$")
    text: str = Field(min_length=1)
    created_at: AwareDatetime
    lang: str | None = None
    author_id: str | None = None


class _User(Shape):
    id: str
    username: str


class _Includes(Shape):
    users: list[_User] = Field(default_factory=list)


class _Meta(Shape):
    result_count: int = 0
    newest_id: str | None = None
    next_token: str | None = None


class _Problem(Shape):
    title: str | None = None
    detail: str | None = None
    message: str | None = None


class _SearchResponse(Shape):
    data: list[dict[str, Any]] = Field(default_factory=list)
    includes: _Includes = _Includes()
    meta: _Meta | None = None
    errors: list[_Problem] = Field(default_factory=list)


def newer_id(current: str | None, candidate: str | None) -> str | None:
    """The larger of two post ids (X ids grow with time), either possibly None."""
    if current is None or candidate is None:
        return current or candidate
    return candidate if int(candidate) > int(current) else current


def parse_x_search(body: bytes | str, matcher: FacilityMatcher, source: str = SOURCE) -> Page[SocialPost]:
    """A recent-search response body as social posts.

    Args:
        body: The response body.
        matcher: Detects the facilities each post mentions.
        source: The events' ``source``.

    Returns:
        The posts (ids ``x:<post id>``), one failure per unreadable post, ``meta.next_token``
        and the newest post id.

    Raises:
        MalformedResponseError: Not JSON, truncated, or not a recent-search response (an
            ``errors``-only answer included).
    """
    response = validated(_SearchResponse, load_json(body, API), API)
    if response.meta is None:
        problems = "; ".join(filter(None, (p.detail or p.message or p.title for p in response.errors)))
        msg = f"{API} response has no 'meta'" + (f"; the API reported: {problems}" if problems else "")
        raise MalformedResponseError(msg, payload=body if isinstance(body, bytes) else body.encode())
    usernames = {user.id: user.username for user in response.includes.users}
    posts: list[SocialPost] = []
    failures: list[ChainwatchError] = []
    newest: str | None = response.meta.newest_id
    for index, item in enumerate(response.data):
        try:
            tweet = validated(_Tweet, item, API, what=f"post {index}")
            text = html.unescape(tweet.text)[:MAX_TEXT]
            username = usernames.get(tweet.author_id or "")
            posts.append(
                SocialPost(
                    event_id=f"x:{tweet.id}",
                    source=source,
                    event_time=tweet.created_at,
                    platform="x",
                    author=username or tweet.author_id,
                    text=text,
                    facility_ids=matcher.detect(text),
                    url=HttpUrl(f"https://x.com/{username or 'i/web'}/status/{tweet.id}"),
                    language=language_tag(tweet.lang),
                )
            )
            newest = newer_id(newest, tweet.id)
        except (ChainwatchError, ValueError) as err:
            failures.append(item_failure(err, API, f"post {index}", item))
    return Page(events=posts, failures=failures, next_token=response.meta.next_token, newest_id=newest)


def x_query(settings: XSettings, keywords: Sequence[str], facilities: Sequence[FacilityConfig]) -> str:
    """The search query: ``settings.query``, or keywords AND facility terms, no retweets.

    Raises:
        ConfigError: The query is longer than the account's access level allows.
    """
    if settings.query:
        query = settings.query
    else:
        language = f" lang:{settings.language}" if settings.language else ""
        query = f"{keyword_query(keywords, facilities)} -is:retweet{language}"
    if len(query) > settings.max_query_length:
        msg = (
            f"the X query is {len(query)} characters, over the {settings.max_query_length} allowed: "
            f"shorten {env_var('keywords')} / facility aliases, or set {env_var('x', 'query')}"
        )
        raise ConfigError(msg)
    return query


class XRecentSearchAdapter:
    """Polls X recent search incrementally by ``since_id``.

    Args:
        settings: Base URL, token, paging and query.
        keywords: Disruption terms.
        facilities: Facilities searched for and detected.
        fetcher: The shared fetch layer.

    Raises:
        ConfigError: No Bearer token, or the query is too long.
    """

    name = SOURCE
    topic = TOPIC

    def __init__(
        self,
        settings: XSettings,
        keywords: Sequence[str],
        facilities: Sequence[FacilityConfig],
        fetcher: HttpFetcher,
    ) -> None:
        if settings.bearer_token is None:
            msg = f"{env_var('x', 'bearer_token')} is not set"
            raise ConfigError(msg)
        self._settings = settings
        self._url = str(settings.base_url).rstrip("/") + PATH
        self._query = x_query(settings, keywords, facilities)
        self._matcher = FacilityMatcher(facilities)
        self._fetcher = fetcher

    def fetch(self, cursor: Cursor) -> Batch:
        """Fetch posts newer than ``cursor.since_id``, following up to ``max_pages`` pages.

        Args:
            cursor: ``since_id`` of the newest post delivered so far, if any.

        Returns:
            The posts and the new newest id.
        """
        token = self._settings.bearer_token.get_secret_value() if self._settings.bearer_token else ""
        params: dict[str, str | int] = {
            "query": self._query,
            "max_results": self._settings.max_results,
            "tweet.fields": "created_at,lang,author_id",
            "expansions": "author_id",
            "user.fields": "username",
        }
        if cursor.since_id:
            params["since_id"] = cursor.since_id
        posts: list[SocialPost] = []
        failures: list[ChainwatchError] = []
        newest = cursor.since_id
        for _ in range(self._settings.max_pages):
            response = self._fetcher.get(self._url, params=params, headers={"Authorization": f"Bearer {token}"})
            page = parse_x_search(response.content, self._matcher)
            posts.extend(page.events)
            failures.extend(page.failures)
            newest = newer_id(newest, page.newest_id)
            if not page.next_token:
                break
            params["next_token"] = page.next_token
        else:
            logger.warning(
                "x: more posts than %d pages of %d since the last poll; the oldest were skipped "
                "(poll more often or raise %s)",
                self._settings.max_pages,
                self._settings.max_results,
                env_var("x", "max_pages"),
            )
        return Batch(events=posts, since_id=newest, failures=failures)
