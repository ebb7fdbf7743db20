"""Orchestration of the feature pipeline: run the flows live, backfill history, materialize.

* :func:`run_features` runs feature flows with a :class:`~streaming.features.sinks.FeatureRowSink`
  each: from Kafka in the services profile (live: system clock, freshness observed), or over any
  source the caller gives (the local profile's replay, tests).
* :func:`backfill` runs the replayed history (real and synthetic streams) through the **same**
  flows (``build_feature_flow`` with a fixed clock, exactly as
  :func:`streaming.features.backfill.backfill_rows`) into the history store only, keeping rows
  stamped in ``(start, end]``, then calls :func:`materialize`.
* :func:`materialize` fills the online store with Feast's own ``materialize`` over the range.
  Why Feast's and not the fast Redis writer: materialize writes one row per entity (the newest
  in range), a few thousand rows in all, so the writer's speed does not matter; Feast also
  records the materialized interval in the registry, which ``feast materialize-incremental``
  and other teams' tooling rely on. The fast writer stays on the streaming path, where the
  row rate is high.

A backfill is cached: a marker file named by a digest of (start, end, views, profile, store
location, and a hash of the feature code and contract) is written when it completes, and an
identical request is skipped unless ``force``. Local markers live beside the store
(``<data_dir>/feast/backfills``), so deleting the store also forgets them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bytewax.dataflow import Dataflow
from bytewax.inputs import Source
from feast import FeatureStore

from chainwatch.datasets import FlightsDataset
from chainwatch.errors import InvalidInputError
from chainwatch.schemas.events import DeadLetter
from chainwatch.settings import Profile, Settings
from streaming import runner
from streaming.features.backfill import SCHEDULE_WARMUP, replay_for
from streaming.features.groups import GROUPS
from streaming.features.offline import history_dir, history_writer
from streaming.features.online import online_writer
from streaming.features.rolling import Row
from streaming.features.schema import TIMESTAMP_COLUMN
from streaming.features.sinks import FeatureRowSink, spool_dir
from streaming.features.store import apply, feast_dir, feature_store
from streaming.flows.common import CallbackSink, kafka_source
from streaming.flows.features_common import Clock, build_feature_flow, fixed_clock
from streaming.sources import Message, RecordSource

logger = logging.getLogger(__name__)

#: Every feature flow by view name, and the raw archive.
ARCHIVE_FLOW = "archive"
FEATURE_FLOWS = tuple(GROUPS)
ALL_FLOWS = (*FEATURE_FLOWS, ARCHIVE_FLOW)

SourceFactory = Callable[[str], Source[Message]]
_ROOT = Path(__file__).resolve().parents[2]
#: The code a backfill's rows depend on: a change to any of it invalidates cached backfills.
CODE_FILES = (
    "streaming/features/*.py",
    "streaming/flows/features_*.py",
    "streaming/replay*.py",
    "streaming/synthetic/*.py",
    "chainwatch/schemas/*.py",
)
_NOT_ROW_CODE = {"sinks.py", "pipeline.py", "archive.py", "freshness.py", "docs.py", "store.py"}


def check_views(views: Iterable[str] | None) -> list[str]:
    """The feature views asked for (default: all), checked against the known ones.

    Raises:
        InvalidInputError: An unknown view.
    """
    wanted = list(views) if views else list(FEATURE_FLOWS)
    unknown = [view for view in wanted if view not in GROUPS]
    if unknown:
        msg = f"unknown feature view(s) {', '.join(unknown)}; known: {', '.join(FEATURE_FLOWS)}"
        raise InvalidInputError(msg)
    return wanted


def row_sink(
    settings: Settings,
    view: str,
    store: FeatureStore | None,
    *,
    live: bool,
    keep: Callable[[Row], bool] | None = None,
    min_batch_rows: int = 1,
    **options: Any,
) -> FeatureRowSink:
    """The profile's :class:`FeatureRowSink` of ``view`` (``store=None``: history only)."""
    online = (lambda: online_writer(settings, store)) if store is not None else None
    return FeatureRowSink(
        view,
        history=lambda: history_writer(settings),
        online=online,
        live=live,
        keep=keep,
        min_batch_rows=min_batch_rows,
        spool=spool_dir(settings),
        **options,
    )


def run_flow(
    flow: Dataflow,
    *,
    recovery_dir: Path | None = None,
    snapshot_interval: timedelta | None = None,
    backup_interval: timedelta | None = None,
) -> None:
    """Run ``flow`` on one in-process worker, with Bytewax recovery in ``recovery_dir`` if given.

    See :func:`streaming.runner.run_flow`: a new recovery folder gets one partition, the flow
    resumes from its last snapshot on every restart (at-least-once output; the sinks are
    idempotent), and SIGINT/SIGTERM stop it with :class:`~streaming.runner.FlowStoppedError`.
    """
    runner.run_flow(
        flow, recovery_dir=recovery_dir, snapshot_interval=snapshot_interval, backup_interval=backup_interval
    )


def replay_sources(
    dataset: FlightsDataset, start: datetime, end: datetime, *, speed: float | None = None
) -> SourceFactory:
    """In-process sources over the replay of ``[start, end)``: each view gets its own topics.

    ``speed`` paces the replay (event-time seconds per wall second; ``None``: as fast as possible).
    """

    def source(view: str) -> Source[Message]:
        records = replay_for(dataset, view, start, end)
        return RecordSource(lambda position: records[position:], speed=speed)

    return source


def run_features(
    settings: Settings,
    *,
    views: Sequence[str] | None = None,
    source_factory: SourceFactory | None = None,
    live: bool | None = None,
    now: Clock | None = None,
    store: FeatureStore | None = None,
    recovery_dir: Path | None = None,
    snapshot_interval: timedelta | None = None,
    backup_interval: timedelta | None = None,
) -> dict[str, FeatureRowSink]:
    """Run feature flows one after the other, in-process, into the history and online stores.

    Args:
        settings: Profile and store settings.
        views: Views to run (default: all).
        source_factory: The source of a view's flow; default: its Kafka topics (services only).
        live: Observe freshness; default: ``True`` when reading Kafka, else ``False``.
        now: The flows' clock (default: the system clock; a replay passes a fixed one).
        store: The Feast store (default: the profile's).
        recovery_dir: Bytewax recovery folder; each view uses ``<recovery_dir>/<view>``.
        snapshot_interval: How often a recovered flow snapshots its state (default 10 s).
        backup_interval: How long superseded snapshots are kept (default: not kept).

    Returns:
        The sink of every view (its ``written`` counts say what it wrote).

    Raises:
        FlowStoppedError: SIGINT or SIGTERM stopped the running flow (the later views did not run).
    """
    wanted = check_views(views)
    store = store or feature_store(settings)
    is_live = live if live is not None else source_factory is None
    sinks: dict[str, FeatureRowSink] = {}
    for view in wanted:
        group = GROUPS[view]
        source = source_factory(view) if source_factory else kafka_source(settings, topics=[*group.topics])
        # A live flow writes every batch at once; a replay holds rows so the history is written in big
        # chunks, unless it is recovered: rows held past a snapshot would be lost by a crash.
        hold = 1 if is_live or recovery_dir is not None else 10_000
        sink = row_sink(settings, view, store, live=is_live, min_batch_rows=hold)
        flow = build_feature_flow(group, settings, source=source, sink=sink, now=now)
        started = time.perf_counter()
        run_flow(
            flow,
            recovery_dir=recovery_dir / view if recovery_dir is not None else None,
            snapshot_interval=snapshot_interval,
            backup_interval=backup_interval,
        )
        logger.info("%s: %s in %.1f s", view, sink.written, time.perf_counter() - started)
        sinks[view] = sink
    return sinks


def run_archive(
    settings: Settings,
    *,
    source: Source[Message] | None = None,
    recovery_dir: Path | None = None,
    snapshot_interval: timedelta | None = None,
    backup_interval: timedelta | None = None,
) -> None:
    """Run the raw archive flow (default source: every event topic on Kafka)."""
    from streaming.flows.archive import build_flow

    run_flow(
        build_flow(settings, source=source),
        recovery_dir=recovery_dir,
        snapshot_interval=snapshot_interval,
        backup_interval=backup_interval,
    )


# --------------------------------------------------------------------------- backfill


@dataclass(frozen=True, slots=True)
class BackfillResult:
    """What a backfill did for one view."""

    view: str
    rows: int
    dead_letters: int
    seconds: float


@dataclass(frozen=True, slots=True)
class BackfillRun:
    """A backfill: its range, per-view results, whether it came from the cache, and its marker."""

    start: datetime
    end: datetime
    views: list[BackfillResult]
    cached: bool
    marker: Path
    materialize_seconds: float


def code_hash() -> str:
    """A digest of the code and contract the feature rows depend on."""
    digest = hashlib.sha256()
    for pattern in CODE_FILES:
        for path in sorted(_ROOT.glob(pattern)):
            if path.name in _NOT_ROW_CODE:
                continue
            digest.update(path.relative_to(_ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _store_identity(settings: Settings, store: FeatureStore) -> str:
    if settings.profile is Profile.LOCAL:
        return f"local:{feast_dir(settings).resolve()}:{store.project}"
    pg, redis = settings.postgres, settings.redis
    return f"services:{pg.host}:{pg.port}/{pg.database}:{redis.host}:{redis.port}/{redis.db}:{store.project}"


def marker_path(settings: Settings, store: FeatureStore, start: datetime, end: datetime, views: Sequence[str]) -> Path:
    """The marker file of a backfill request (it exists once that backfill completed)."""
    request = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "views": sorted(views),
        "store": _store_identity(settings, store),
        "code": code_hash(),
    }
    digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()[:20]
    folder = feast_dir(settings) / "backfills" if settings.profile is Profile.LOCAL else settings.data_dir / "backfills"
    return folder / f"{digest}.json"


def _cached(settings: Settings, marker: Path, views: Sequence[str]) -> BackfillRun | None:
    if not marker.exists():
        return None
    if settings.profile is Profile.LOCAL and not all((history_dir(settings) / f"{v}.parquet").exists() for v in views):
        return None  # the store was deleted under the marker
    saved = json.loads(marker.read_text(encoding="utf-8"))
    return BackfillRun(
        start=datetime.fromisoformat(saved["start"]),
        end=datetime.fromisoformat(saved["end"]),
        views=[BackfillResult(**item) for item in saved["views"]],
        cached=True,
        marker=marker,
        materialize_seconds=float(saved["materialize_seconds"]),
    )


def backfill_view(
    settings: Settings, dataset: FlightsDataset, view: str, start: datetime, end: datetime
) -> BackfillResult:
    """Run ``view``'s flow over the replay of ``[start - warm-up, end)`` into the history store.

    Rows stamped in ``(start, end]`` are kept (the warm-up's rows lack part of their lookback).
    A history store that stays down stops the backfill (rows are spooled, nothing is marked done).
    """
    started = time.perf_counter()
    group = GROUPS[view]
    records = replay_for(dataset, view, start - group.view.lookback - SCHEDULE_WARMUP, end)
    letters: list[DeadLetter] = []

    def in_range(row: Row) -> bool:
        stamp: datetime = row[TIMESTAMP_COLUMN]
        return start < stamp <= end

    sink = row_sink(
        settings, view, None, live=False, keep=in_range, min_batch_rows=50_000, max_batch_rows=50_000,
        max_buffered_rows=0,
    )  # fmt: skip
    flow = build_feature_flow(
        group,
        settings,
        source=RecordSource(lambda position: records[position:]),
        sink=sink,
        dead_letter_sink=CallbackSink(letters.extend),
        now=fixed_clock(end),
    )
    run_flow(flow)
    return BackfillResult(view, sink.written["history"], len(letters), round(time.perf_counter() - started, 2))


def backfill(
    settings: Settings,
    *,
    start: datetime,
    end: datetime,
    views: Sequence[str] | None = None,
    force: bool = False,
    dataset: FlightsDataset | None = None,
    store: FeatureStore | None = None,
    on_view: Callable[[BackfillResult], None] | None = None,
) -> BackfillRun:
    """Backfill the history of ``views`` for ``(start, end]`` through the flows, then materialize.

    Args:
        settings: Profile and store settings.
        start: Rows stamped after this instant (aware UTC).
        end: Rows stamped up to this instant; events from ``end`` on are not read.
        views: Views to backfill (default: all).
        force: Run even when an identical backfill completed before.
        dataset: The flights dataset (default: the local store, built if missing).
        store: The Feast store (default: the profile's); it is applied first.
        on_view: Called after each view (progress).

    Returns:
        What was done (or found in the cache).
    """
    if start.tzinfo is None or end.tzinfo is None or not start < end:
        msg = f"backfill needs aware UTC start < end, got {start} .. {end}"
        raise InvalidInputError(msg)
    wanted = check_views(views)
    store = store or feature_store(settings)
    marker = marker_path(settings, store, start, end, wanted)
    if not force and (cached := _cached(settings, marker, wanted)) is not None:
        logger.info("backfill %s .. %s already done (%s); skipping", start, end, marker)
        return cached
    apply(settings, store)
    if dataset is None:
        from chainwatch.datasets import read_local_store

        dataset = read_local_store(settings.lake_dir)
    results = []
    for view in wanted:
        result = backfill_view(settings, dataset, view, start, end)
        logger.info("backfilled %s: %d rows in %.1f s", view, result.rows, result.seconds)
        results.append(result)
        if on_view is not None:
            on_view(result)
    started = time.perf_counter()
    materialize(settings, start=start, end=end, views=wanted, store=store)
    run = BackfillRun(start, end, results, False, marker, round(time.perf_counter() - started, 2))
    marker.parent.mkdir(parents=True, exist_ok=True)
    saved = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "views": [asdict(result) for result in results],
        "materialize_seconds": run.materialize_seconds,
        "completed_at": datetime.now().astimezone().isoformat(),
    }
    marker.write_text(json.dumps(saved, indent=2), encoding="utf-8")
    return run


def materialize(
    settings: Settings,
    *,
    start: datetime,
    end: datetime,
    views: Sequence[str] | None = None,
    store: FeatureStore | None = None,
) -> FeatureStore:
    """Fill the online store with each view's newest row per entity in ``[start, end]`` (Feast materialize).

    Rows already online with a newer ``event_timestamp`` are kept (Feast's writers skip older rows).
    """
    wanted = check_views(views)
    store = store or feature_store(settings)
    store.materialize(start_date=start, end_date=end, feature_views=wanted)
    return store
