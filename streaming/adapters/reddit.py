"""Reddit search as :class:`SocialPost` events (platform and source ``reddit``).

``GET {base_url}/search.json?q=..&sort=new&type=link&t=day&limit=100&raw_json=1`` — or
``/r/<a>+<b>/search.json`` with ``restrict_sr=1`` when subreddits are configured — with the
User-Agent Reddit's API rules require. With a client id and secret the adapter first gets an
app-only OAuth token (``POST {base_url}/api/v1/access_token``,
``grant_type=client_credentials``), keeps it until shortly before it expires, and searches
``{oauth_base_url}`` with it, which raises the rate limit. Reddit search has no ``since``
parameter: each poll reads the newest page and the poller's dedup set drops what it emitted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, HttpUrl

from chainwatch.adapter_settings import FacilityConfig, RedditSettings, env_var
from chainwatch.errors import ChainwatchError
from chainwatch.schemas.events import SocialPost
from streaming.adapters.base import Batch, Cursor, Page
from streaming.adapters.errors import UpstreamAuthError
from streaming.adapters.http import HttpFetcher, endpoint_of
from streaming.adapters.parsing import Shape, item_failure, load_json, validated
from streaming.adapters.text import FacilityMatcher, keyword_query

SOURCE = "reddit"
TOPIC = "social.posts.v1"
API = "Reddit search"
MAX_TEXT = 10_000
#: Renew the OAuth token this long before Reddit says it expires.
TOKEN_MARGIN_S = 60.0


class _Post(Shape):
    name: str = Field(pattern=r"^t3_[a-z0-9]+$")
    title: str = Field(min_length=1)
    selftext: str = ""
    author: str | None = None
    created_utc: float
    permalink: str = Field(pattern=r"^/")


class _Child(Shape):
    kind: str
    data: dict[str, Any]


class _ListingData(Shape):
    children: list[_Child]
    after: str | None = None


class _Listing(Shape):
    kind: str = Field(pattern=r"^Listing$")
    data: _ListingData


class _Token(Shape):
    access_token: str = Field(min_length=1)
    expires_in: float = Field(gt=0)


def parse_reddit_search(body: bytes | str, matcher: FacilityMatcher, source: str = SOURCE) -> Page[SocialPost]:
    """A search listing body as social posts.

    Args:
        body: The response body (requested with ``raw_json=1``, so text is not HTML-escaped).
        matcher: Detects the facilities each post mentions.
        source: The events' ``source``.

    Returns:
        The posts (ids ``reddit:<fullname>``, e.g. ``reddit:t3_18x9k2p``), one failure per
        unreadable post, and the listing's ``after`` token. Children that are not posts
        (``t3``) are not asked for (``type=link``) and are skipped.

    Raises:
        MalformedResponseError: Not JSON, truncated, or not a listing.
    """
    listing = validated(_Listing, load_json(body, API), API)
    posts: list[SocialPost] = []
    failures: list[ChainwatchError] = []
    for index, child in enumerate(listing.data.children):
        if child.kind != "t3":
            continue
        try:
            post = validated(_Post, child.data, API, what=f"post {index}")
            text = f"{post.title}\n\n{post.selftext}".strip()[:MAX_TEXT]
            posts.append(
                SocialPost(
                    event_id=f"reddit:{post.name}",
                    source=source,
                    event_time=datetime.fromtimestamp(post.created_utc, tz=UTC),
                    platform="reddit",
                    author=None if post.author in (None, "[deleted]") else post.author,
                    text=text,
                    facility_ids=matcher.detect(text),
                    url=HttpUrl(f"https://www.reddit.com{post.permalink}"),
                )
            )
        except (ChainwatchError, ValueError) as err:
            failures.append(item_failure(err, API, f"post {index}", child.data))
    return Page(events=posts, failures=failures, next_token=listing.data.after)


class RedditSearchAdapter:
    """Polls Reddit search for the newest matching posts, anonymously or with OAuth.

    Args:
        settings: Base URLs, credentials, User-Agent, subreddits, query.
        keywords: Disruption terms.
        facilities: Facilities searched for and detected.
        fetcher: The shared fetch layer.
        clock: Monotonic clock for the token's lifetime.
    """

    name = SOURCE
    topic = TOPIC

    def __init__(
        self,
        settings: RedditSettings,
        keywords: Sequence[str],
        facilities: Sequence[FacilityConfig],
        fetcher: HttpFetcher,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._query = settings.query or keyword_query(keywords, facilities, joiner=" AND ")
        self._matcher = FacilityMatcher(facilities)
        self._fetcher = fetcher
        self._clock = clock
        self._token: str | None = None
        self._token_expires = 0.0

    def fetch(self, cursor: Cursor) -> Batch:
        """Fetch the newest page of matching posts.

        Args:
            cursor: Unused: Reddit search cannot start after a post.

        Returns:
            The posts of the newest page.
        """
        headers = {"User-Agent": self._settings.user_agent}
        base = self._settings.base_url
        token = self._oauth_token()
        if token:
            headers["Authorization"] = f"bearer {token}"
            base = self._settings.oauth_base_url
        params: dict[str, str | int] = {
            "q": self._query,
            "sort": "new",
            "type": "link",
            "t": self._settings.time_filter,
            "limit": self._settings.limit,
            "raw_json": 1,
        }
        path = "/search.json"
        if self._settings.subreddits:
            path = f"/r/{'+'.join(self._settings.subreddits)}/search.json"
            params["restrict_sr"] = 1
        try:
            response = self._fetcher.get(str(base).rstrip("/") + path, params=params, headers=headers)
        except UpstreamAuthError:
            self._token = None  # revoked or expired early: get a new one next poll
            raise
        page = parse_reddit_search(response.content, self._matcher)
        return Batch(events=page.events, failures=page.failures)

    def _oauth_token(self) -> str | None:
        settings = self._settings
        if settings.client_id is None or settings.client_secret is None:
            return None
        if self._token and self._clock() < self._token_expires:
            return self._token
        url = str(settings.base_url).rstrip("/") + "/api/v1/access_token"
        response = self._fetcher.request(
            "POST",
            url,
            data={"grant_type": "client_credentials"},
            auth=(settings.client_id, settings.client_secret.get_secret_value()),
            headers={"User-Agent": settings.user_agent},
        )
        doc = load_json(response.content, "Reddit OAuth")
        if isinstance(doc, dict) and "error" in doc:
            # Some refusals come as HTTP 200 with {"error": ...} instead of a 401.
            msg = (
                f"{endpoint_of('POST', url)} refused the credentials ({doc['error']}); "
                f"check the key settings {env_var('reddit', 'client_id')} and {env_var('reddit', 'client_secret')}"
            )
            raise UpstreamAuthError(msg, endpoint=endpoint_of("POST", url), status_code=response.status_code)
        grant = validated(_Token, doc, "Reddit OAuth", what="token response")
        self._token = grant.access_token
        self._token_expires = self._clock() + max(grant.expires_in - TOKEN_MARGIN_S, 0.0)
        return self._token
