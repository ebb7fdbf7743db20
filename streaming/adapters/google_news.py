"""Google News RSS search as :class:`NewsArticle` events (source ``google-news``).

``GET {base_url}/rss/search?q=<query> when:1d&hl=en-US&gl=US&ceid=US:en``, parsed with
feedparser. An item's title is ``<headline> - <outlet>``; the outlet also comes as
``<source url=..>``; ``pubDate`` is RFC 822. Ids hash the item's ``guid`` (Google's article
id), else its canonical link. The item description is only a link list (the headline and
the outlet, or a cluster of related headlines), not a summary, so ``summary`` stays empty and
facilities are detected in the headline. The feed has no cursor: each poll reads it whole and the
poller's dedup set and maximum age keep old items from being emitted again.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import feedparser
from pydantic import HttpUrl

from chainwatch.adapter_settings import FacilityConfig, GoogleNewsSettings
from chainwatch.errors import ChainwatchError
from chainwatch.schemas.events import NewsArticle
from streaming.adapters.base import Batch, Cursor, Page
from streaming.adapters.errors import MalformedResponseError
from streaming.adapters.http import HttpFetcher
from streaming.adapters.parsing import as_bytes, item_failure
from streaming.adapters.text import (
    FacilityMatcher,
    canonical_url,
    keyword_query,
    language_tag,
    snippet,
    stable_id,
)

SOURCE = "google-news"
TOPIC = "news.articles.v1"
PATH = "/rss/search"
API = "Google News RSS"


def _feed_problem(parsed: Any) -> str | None:
    """Why a feedparser result is not a usable feed, or None if it is."""
    if not parsed.get("version"):
        return "not an RSS or Atom feed"
    error = parsed.get("bozo_exception") if parsed.get("bozo") else None
    # An encoding declared one way and sent another is harmless; anything else (truncated
    # XML, broken markup) means items may be missing or cut short.
    if error is not None and not isinstance(error, feedparser.CharacterEncodingOverride):
        return f"broken XML ({error})"
    return None


def _published(entry: Mapping[str, Any]) -> datetime:
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    if stamp is None:
        msg = "no readable pubDate"
        raise ValueError(msg)
    # feedparser gives a UTC struct_time; timegm reads it as UTC.
    return datetime.fromtimestamp(calendar.timegm(stamp), tz=UTC)


def _headline_and_outlet(entry: Mapping[str, Any]) -> tuple[str, str]:
    title = str(entry.get("title") or "").strip()
    source = entry.get("source") or {}
    outlet = str(source.get("title") or "").strip()
    if outlet and title.endswith(f" - {outlet}"):
        title = title.removesuffix(f" - {outlet}").strip()
    elif not outlet and " - " in title:
        title, _, outlet = title.rpartition(" - ")
    return title, outlet or "Google News"


def parse_google_news_rss(body: bytes | str, matcher: FacilityMatcher, source: str = SOURCE) -> Page[NewsArticle]:
    """A Google News RSS body as news articles.

    Args:
        body: The response body.
        matcher: Detects the facilities each headline mentions.
        source: The events' ``source``.

    Returns:
        The articles (ids ``google-news:<hash of the guid>``, time = ``pubDate`` in UTC), and
        one failure per unreadable item.

    Raises:
        MalformedResponseError: Empty, not a feed (an HTML page), or truncated/broken XML.
    """
    raw = as_bytes(body)
    parsed = feedparser.parse(raw)
    problem = "empty body" if not raw.strip() else _feed_problem(parsed)
    if problem:
        msg = f"{API} response is unusable: {problem}; body starts {snippet(raw)!r}"
        raise MalformedResponseError(msg, payload=raw, reason="schema_violation")
    language = language_tag(parsed.feed.get("language"))
    articles: list[NewsArticle] = []
    failures: list[ChainwatchError] = []
    for index, entry in enumerate(parsed.entries):
        try:
            link = str(entry.get("link") or "")
            title, outlet = _headline_and_outlet(entry)
            key = str(entry.get("id") or canonical_url(link))
            articles.append(
                NewsArticle(
                    event_id=stable_id(SOURCE, key),
                    source=source,
                    event_time=_published(entry),
                    title=title,
                    url=HttpUrl(link),
                    outlet=outlet,
                    facility_ids=matcher.detect(title),
                    language=language,
                )
            )
        except (ChainwatchError, ValueError) as err:
            failures.append(item_failure(err, API, f"item {index}", dict(entry)))
    return Page(events=articles, failures=failures)


class GoogleNewsRssAdapter:
    """Polls a Google News RSS search.

    Args:
        settings: Base URL, edition, window, query.
        keywords: Disruption terms.
        facilities: Facilities searched for and detected.
        fetcher: The shared fetch layer.
    """

    name = SOURCE
    topic = TOPIC

    def __init__(
        self,
        settings: GoogleNewsSettings,
        keywords: Sequence[str],
        facilities: Sequence[FacilityConfig],
        fetcher: HttpFetcher,
    ) -> None:
        self._settings = settings
        self._url = str(settings.base_url).rstrip("/") + PATH
        self._query = f"{settings.query or keyword_query(keywords, facilities)} when:{settings.window}"
        self._matcher = FacilityMatcher(facilities)
        self._fetcher = fetcher

    def fetch(self, cursor: Cursor) -> Batch:
        """Fetch the feed.

        Args:
            cursor: Unused: the feed cannot start after an item.

        Returns:
            The feed's articles.
        """
        language = self._settings.language.split("-")[0]
        params = {
            "q": self._query,
            "hl": self._settings.language,
            "gl": self._settings.country,
            "ceid": f"{self._settings.country}:{language}",
        }
        response = self._fetcher.get(self._url, params=params)
        page = parse_google_news_rss(response.content, self._matcher)
        return Batch(events=page.events, failures=page.failures)
