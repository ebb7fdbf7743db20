"""Synthetic social posts and news articles as replay records, generated from the real record.

The generator (:mod:`streaming.synthetic`) is causal: an item stamped at ``t`` uses only facts
known by ``t``. It starts with empty state at ``start``; a ``warmup`` before it lets rolling
state (recent delays, weather) build up so the first hours look like the middle of a run, and
only items stamped inside ``[start, end)`` are kept.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from chainwatch.datasets import FlightsDataset
from chainwatch.schemas.events import NewsArticle, SocialPost
from streaming.synthetic import TextSignalConfig, facts_from_dataset, generate_text_signals

SOCIAL_TOPIC = "social.posts.v1"
NEWS_TOPIC = "news.articles.v1"
TEXT_RANK = 5
WARMUP = timedelta(hours=6)


def text_records(
    dataset: FlightsDataset,
    start: datetime | None,
    end: datetime | None,
    *,
    topics: tuple[str, ...] = (SOCIAL_TOPIC, NEWS_TOPIC),
    config: TextSignalConfig | None = None,
) -> pd.DataFrame:
    """Synthetic posts and articles stamped in ``[start, end)`` as records (event_time, rank, topic, key, payload)."""
    facts = facts_from_dataset(dataset, start=start - WARMUP if start else None, end=end)
    times, kinds, keys, payloads = [], [], [], []
    for item in generate_text_signals(facts, config, until=end):
        if start is not None and item.event_time < start:
            continue
        topic = SOCIAL_TOPIC if isinstance(item, SocialPost) else NEWS_TOPIC
        if topic not in topics or not isinstance(item, SocialPost | NewsArticle):
            continue
        times.append(item.event_time)
        kinds.append(topic)
        keys.append(item.event_id)
        payloads.append(item.model_dump_json())
    return pd.DataFrame(
        {
            "event_time": pd.Series(times, dtype="datetime64[ns, UTC]").array,
            "rank": np.int8(TEXT_RANK),
            "topic": np.array(kinds, dtype=object),
            "key": np.array(keys, dtype=object),
            "payload": np.array(payloads, dtype=object),
        }
    )
