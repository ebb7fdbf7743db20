"""GDELT DOC 2.0 article lists as :class:`NewsArticle` events (source ``gdelt``).

``GET {base_url}/api/v2/doc/doc?query=..&mode=artlist&format=json&maxrecords=..&sort=datedesc``.
The first poll looks back ``initial_timespan``; later polls ask from the newest ``seendate``
delivered (``startdatetime``, inclusive: the boundary article comes back and is deduplicated).
GDELT answers some problems with HTTP 200 and a plain-text notice ("Please limit requests to
one every 5 seconds", "Your search contained a keyword that was too short"); the parser turns
those into a malformed-response error quoting the notice. No matches is ``{}``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, HttpUrl

from chainwatch.adapter_settings import FacilityConfig, GdeltSettings
from chainwatch.errors import ChainwatchError
from chainwatch.schemas.events import NewsArticle
from streaming.adapters.base import Batch, Cursor, Page, utc_now
from streaming.adapters.errors import MalformedResponseError
from streaming.adapters.http import HttpFetcher
from streaming.adapters.parsing import Shape, item_failure, load_json, to_payload, validated
from streaming.adapters.text import FacilityMatcher, canonical_url, keyword_query, stable_id

SOURCE = "gdelt"
TOPIC = "news.articles.v1"
PATH = "/api/v2/doc/doc"
API = "GDELT DOC 2.0"
SEENDATE_FORMAT = "%Y%m%dT%H%M%SZ"
QUERY_TIME_FORMAT = "%Y%m%d%H%M%S"

#: GDELT names languages in English; the events carry ISO 639-1 codes.
LANGUAGES: dict[str, str] = {
    "arabic": "ar",
    "chinese": "zh",
    "dutch": "nl",
    "english": "en",
    "french": "fr",
    "german": "de",
    "hindi": "hi",
    "indonesian": "id",
    "italian": "it",
    "japanese": "ja",
    "korean": "ko",
    "polish": "pl",
    "portuguese": "pt",
    "russian": "ru",
    "spanish": "es",
    "turkish": "tr",
    "ukrainian": "uk",
    "vietnamese": "vi",
}


class _Article(Shape):
    url: str = Field(min_length=8)
    title: str = Field(min_length=1)
    seendate: str = Field(pattern=r"^[0-9]{8}T[0-9]{6}Z$")
    domain: str = Field(min_length=1)
    language: str | None = None


class _ArticleList(Shape):
    articles: list[dict[str, Any]] = Field(default_factory=list)


def parse_seendate(value: str) -> datetime:
    """A GDELT ``seendate`` (``20240101T120000Z``) as a UTC datetime."""
    return datetime.strptime(value, SEENDATE_FORMAT).replace(tzinfo=UTC)


def parse_gdelt_artlist(body: bytes | str, matcher: FacilityMatcher, source: str = SOURCE) -> Page[NewsArticle]:
    """An ``artlist`` JSON body as news articles.

    Args:
        body: The response body.
        matcher: Detects the facilities each title mentions.
        source: The events' ``source``.

    Returns:
        The articles (ids ``gdelt:<hash of the canonical URL>``, time = ``seendate``), and one
        failure per unreadable article.

    Raises:
        MalformedResponseError: Not JSON (a GDELT notice, an error page, a truncated body)
            or not an article list.
    """
    doc = load_json(body, API)
    if not isinstance(doc, dict):
        msg = f"{API} response: expected a JSON object, got {type(doc).__name__}"
        raise MalformedResponseError(msg, payload=to_payload(doc))
    listing = validated(_ArticleList, doc, API)
    articles: list[NewsArticle] = []
    failures: list[ChainwatchError] = []
    for index, item in enumerate(listing.articles):
        try:
            article = validated(_Article, item, API, what=f"article {index}")
            url = canonical_url(article.url)
            articles.append(
                NewsArticle(
                    event_id=stable_id(SOURCE, url),
                    source=source,
                    event_time=parse_seendate(article.seendate),
                    title=article.title.strip(),
                    url=HttpUrl(article.url),
                    outlet=article.domain,
                    facility_ids=matcher.detect(article.title),
                    language=LANGUAGES.get((article.language or "").strip().lower()),
                )
            )
        except (ChainwatchError, ValueError) as err:
            failures.append(item_failure(err, API, f"article {index}", item))
    return Page(events=articles, failures=failures)


class GdeltDocAdapter:
    """Polls the GDELT DOC 2.0 article list incrementally by seen date.

    Args:
        settings: Base URL, page size, first look-back, language, query.
        keywords: Disruption terms.
        facilities: Facilities searched for and detected.
        fetcher: The shared fetch layer.
        now: Current UTC time (the end of each query window).
    """

    name = SOURCE
    topic = TOPIC

    def __init__(
        self,
        settings: GdeltSettings,
        keywords: Sequence[str],
        facilities: Sequence[FacilityConfig],
        fetcher: HttpFetcher,
        *,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        language = f" sourcelang:{settings.source_language}" if settings.source_language else ""
        self._settings = settings
        self._url = str(settings.base_url).rstrip("/") + PATH
        self._query = settings.query or keyword_query(keywords, facilities) + language
        self._matcher = FacilityMatcher(facilities)
        self._fetcher = fetcher
        self._now = now

    def fetch(self, cursor: Cursor) -> Batch:
        """Fetch articles seen since ``cursor.newest`` (or within ``initial_timespan``).

        Args:
            cursor: ``newest``: the newest ``seendate`` delivered so far, if any.

        Returns:
            The articles, newest first as GDELT sorts them.
        """
        params: dict[str, str | int] = {
            "query": self._query,
            "mode": "artlist",
            "format": "json",
            "maxrecords": self._settings.max_records,
            "sort": "datedesc",
        }
        if cursor.newest is not None:
            params["startdatetime"] = f"{cursor.newest.astimezone(UTC):{QUERY_TIME_FORMAT}}"
            params["enddatetime"] = f"{self._now().astimezone(UTC):{QUERY_TIME_FORMAT}}"
        else:
            params["timespan"] = self._settings.initial_timespan
        response = self._fetcher.get(self._url, params=params)
        page = parse_gdelt_artlist(response.content, self._matcher)
        return Batch(events=page.events, failures=page.failures)
