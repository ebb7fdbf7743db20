"""Text analysis for the text features: VADER sentiment and keyword news categories.

Sentiment is VADER's compound score (-1..1, rounded by VADER to four decimals); a post is
*negative* at compound <= -0.05, VADER's own threshold. News categories come from keyword
rules over title and summary, as a real system without a trained model would classify wire
stories; an article may fall in several categories, or none. Rules match whole words and a
few phrases ("ground stop", "emergency landing") so that e.g. "closed" inside a protest story
does not count as an airport closure unless an airport thing was closed.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

NEGATIVE_COMPOUND = -0.05

NewsCategory = Literal["weather", "labour", "unrest", "closure", "accident"]
CATEGORIES: tuple[NewsCategory, ...] = ("weather", "labour", "unrest", "closure", "accident")

_RULES: dict[NewsCategory, re.Pattern[str]] = {
    "weather": re.compile(
        r"\b(snow\w*|blizzard|storms?|thunderstorms?|fog|winds?|gusts?|rain|heavy rain|ice|icy|de-icing|"
        r"hurricane|tornado|freezing)\b",
        re.IGNORECASE,
    ),
    "labour": re.compile(
        r"\b(strikes?|walkouts?|walked off|union|staffing|short-staffed|labou?r action|picket\w*|"
        r"shortage of workers)\b",
        re.IGNORECASE,
    ),
    "unrest": re.compile(r"\b(protests?|protesters|demonstrators|demonstrations?|unrest|riots?)\b", re.IGNORECASE),
    "closure": re.compile(
        r"\b(ground stop|runway closure|runways? closed|terminals? closed|airport (?:was |is )?(?:effectively )?"
        r"closed|closed to (?:departures|arrivals|traffic)|shut down|shut|evacuat\w*)\b",
        re.IGNORECASE,
    ),
    "accident": re.compile(
        r"\b(accidents?|crash(?:es|ed)?|collisions?|collided|emergency landing|in-flight incident)\b", re.IGNORECASE
    ),
}


@lru_cache(maxsize=1)
def _analyzer() -> object:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # type: ignore[import-untyped]

    return SentimentIntensityAnalyzer()


def compound(text: str) -> float:
    """VADER's compound sentiment of ``text`` (-1 most negative, 1 most positive)."""
    scores: dict[str, float] = _analyzer().polarity_scores(text)  # type: ignore[attr-defined]
    return float(scores["compound"])


def is_negative(score: float) -> bool:
    """Whether a compound score is negative by VADER's threshold."""
    return score <= NEGATIVE_COMPOUND


def news_categories(title: str, summary: str | None) -> frozenset[NewsCategory]:
    """The categories whose rules match the article's title or summary."""
    text = f"{title}\n{summary or ''}"
    return frozenset(category for category, rule in _RULES.items() if rule.search(text))
