"""The social-post and news-article generator: an online process over known facts.

::

    facts (event_time order) ──observe──▶ WorldView at each tick ──▶ posts + articles
                                                                      stamped in [tick, tick + Δ)

:func:`generate_text_signals` is the whole generator; it reads facts lazily and yields items
lazily, in ``event_time`` order. Causality holds by construction: the view at tick ``t`` is
built from facts with ``event_time <= t`` only (see :func:`observe`), the writers are pure
functions of that view plus randomness keyed by ``(seed, facility, tick)`` or by an episode
that started at or before ``t``, and every item is stamped at ``t`` or later. The
``tests/*/test_synthetic_text*.py`` causality tests check it by changing or cutting every fact
after an instant ``T`` and comparing all items stamped at or before ``T``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from chainwatch.schemas.events import NewsArticle, SocialPost
from streaming.synthetic.config import TextSignalConfig
from streaming.synthetic.facts import Fact
from streaming.synthetic.incidents import Incident, active_incidents
from streaming.synthetic.news import news_articles_at
from streaming.synthetic.observer import WorldView, observe
from streaming.synthetic.social import social_posts_at

TextSignal = SocialPost | NewsArticle


def text_signals_at(view: WorldView, config: TextSignalConfig) -> list[TextSignal]:
    """Every post and article of one tick, sorted by ``(event_time, event_id)``.

    Injected incidents (:mod:`~streaming.synthetic.incidents`) are drawn for the facilities
    with current weather: the hubs being watched.

    Args:
        view: What is known at the tick.
        config: Generator settings.

    Returns:
        The tick's items.
    """
    incidents: dict[str, tuple[Incident, ...]] = {
        facility.facility_id: active_incidents(
            config.seed, facility.facility_id, view.at, config.injected_incidents_per_day
        )
        for facility in view.facilities
        if facility.hazard is not None
    }
    items: list[TextSignal] = [*social_posts_at(view, incidents, config), *news_articles_at(view, incidents, config)]
    items.sort(key=lambda item: (item.event_time, item.event_id))
    return items


def generate_text_signals(
    facts: Iterable[Fact], config: TextSignalConfig | None = None, *, until: datetime | None = None
) -> Iterator[TextSignal]:
    """Synthetic posts and articles that follow the facts, in ``event_time`` order.

    Args:
        facts: Known facts (shipment steps and weather observations) in ``event_time``
            order, e.g. the replay or :func:`~streaming.synthetic.facts.facts_from_dataset`.
        config: Generator settings; defaults when ``None``.
        until: Keep ticking after the last fact up to this instant (inclusive).

    Yields:
        Validated :class:`SocialPost` and :class:`NewsArticle` items.
    """
    settings = config or TextSignalConfig()
    for view in observe(facts, tick=settings.tick, until=until):
        yield from text_signals_at(view, settings)


def generate_social_posts(
    facts: Iterable[Fact], config: TextSignalConfig | None = None, *, until: datetime | None = None
) -> Iterator[SocialPost]:
    """Only the posts of :func:`generate_text_signals` (for the ``social.posts.v1`` topic).

    Args:
        facts: Known facts in ``event_time`` order.
        config: Generator settings; defaults when ``None``.
        until: Keep ticking after the last fact up to this instant.

    Yields:
        Validated posts in ``event_time`` order.
    """
    for item in generate_text_signals(facts, config, until=until):
        if isinstance(item, SocialPost):
            yield item


def generate_news_articles(
    facts: Iterable[Fact], config: TextSignalConfig | None = None, *, until: datetime | None = None
) -> Iterator[NewsArticle]:
    """Only the articles of :func:`generate_text_signals` (for the ``news.articles.v1`` topic).

    Args:
        facts: Known facts in ``event_time`` order.
        config: Generator settings; defaults when ``None``.
        until: Keep ticking after the last fact up to this instant.

    Yields:
        Validated articles in ``event_time`` order.
    """
    for item in generate_text_signals(facts, config, until=until):
        if isinstance(item, NewsArticle):
            yield item
