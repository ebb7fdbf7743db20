"""``facility_text``: social sentiment and news events about a facility.

Posts and articles are scored once (VADER compound, keyword news categories; see
:mod:`streaming.features.sentiment`) and fanned out to every facility they mention; items
that mention none concern no facility and are not keyed. Definitions (row at hour end ``E``;
"in 6h/24h" means event time in ``[E - 6h, E)`` / ``[E - 24h, E)``):

* ``social_sentiment_mean_6h`` / ``social_sentiment_min_6h``: mean / min compound of the posts
  in 6h (``None`` without posts); ``negative_posts_6h`` / ``_24h``: posts with compound <= -0.05;
* ``news_<category>_24h``: articles in 24h in that category (an article can count in several);
* ``news_total_6h``: articles in 6h, whatever their category.

Compounds are summed as integers of 1e-4 (VADER rounds to four decimals), so the mean does not
depend on the order posts arrive in.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from chainwatch.schemas.events import Event, NewsArticle, SocialPost
from streaming.features.rolling import Bucket, FeatureGroup, Window, duplicates_of, first_sighting, no_merge, within
from streaming.features.schema import VIEWS
from streaming.features.sentiment import CATEGORIES, NewsCategory, compound, is_negative, news_categories

SOCIAL_TOPIC = "social.posts.v1"
NEWS_TOPIC = "news.articles.v1"
SCALE = 10_000


@dataclass(frozen=True, slots=True)
class TextItem:
    """A scored post or article.

    Attributes:
        event: The post or article.
        kind: ``social`` or ``news``.
        score: Compound sentiment in 1e-4 units (posts; 0 for articles).
        categories: News categories (articles; empty for posts).
    """

    event: SocialPost | NewsArticle
    kind: Literal["social", "news"]
    score: int = 0
    categories: frozenset[NewsCategory] = frozenset()


@dataclass(slots=True)
class TextBucket(Bucket):
    """One facility's posts and articles in one hour."""

    posts: int = 0
    score_sum: int = 0
    score_min: int | None = None
    negative: int = 0
    articles: int = 0
    categories: Counter[str] = field(default_factory=Counter)


def score(event: SocialPost | NewsArticle) -> TextItem:
    """Score a post (sentiment) or classify an article (categories)."""
    if isinstance(event, SocialPost):
        return TextItem(event, "social", score=round(compound(event.text) * SCALE))
    return TextItem(event, "news", categories=news_categories(event.title, event.summary))


def route(event: Event) -> list[tuple[str, TextItem]]:
    """A post or article, scored once, keyed by every facility it mentions."""
    if not isinstance(event, SocialPost | NewsArticle) or not event.facility_ids:
        return []
    item = score(event)
    return [(facility, item) for facility in sorted(set(event.facility_ids))]


def bucket_add(bucket: TextBucket, item: TextItem) -> TextBucket:
    """Fold one scored item into its facility's hourly bucket (a repeated event id is ignored)."""
    if not first_sighting(bucket, item.event.event_id):
        return bucket
    if item.kind == "social":
        bucket.posts += 1
        bucket.score_sum += item.score
        bucket.score_min = item.score if bucket.score_min is None else min(bucket.score_min, item.score)
        bucket.negative += is_negative(item.score / SCALE)
    else:
        bucket.articles += 1
        bucket.categories.update(item.categories)
    return bucket


def roll(carry: None, window: Window[TextBucket], end: datetime) -> dict[str, Any]:  # noqa: ARG001 - the FeatureGroup signature
    """The ``facility_text`` columns at hour end ``end``."""
    six = within(window, end, timedelta(hours=6))
    day = within(window, end, timedelta(hours=24))
    posts = sum(b.posts for b in six)
    minima = [b.score_min for b in six if b.score_min is not None]
    row: dict[str, Any] = {
        "social_sentiment_mean_6h": sum(b.score_sum for b in six) / posts / SCALE if posts else None,
        "social_sentiment_min_6h": min(minima) / SCALE if minima else None,
        "negative_posts_6h": sum(b.negative for b in six),
        "negative_posts_24h": sum(b.negative for b in day),
    }
    for category in CATEGORIES:
        row[f"news_{category}_24h"] = sum(b.categories[category] for b in day)
    row["news_total_6h"] = sum(b.articles for b in six)
    return row


def _time(item: TextItem) -> datetime:
    return item.event.event_time


def _event(item: TextItem) -> Event:
    return item.event


def _none() -> None:
    return None


GROUP: FeatureGroup[TextItem, TextBucket, None] = FeatureGroup(
    view=VIEWS["facility_text"],
    topics=(SOCIAL_TOPIC, NEWS_TOPIC),
    route=route,
    time_of=_time,
    event_of=_event,
    new_bucket=TextBucket,
    bucket_add=bucket_add,
    bucket_merge=no_merge,
    new_carry=_none,
    roll=roll,
    duplicates=duplicates_of,
)
