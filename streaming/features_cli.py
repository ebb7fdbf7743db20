"""``chainwatch stream run`` and ``chainwatch features ...``: run, backfill and serve the feature pipeline.

* ``stream run [--flow NAME]``: services profile: the flows read Kafka live (one process per
  flow when several run); local profile: the flows run in-process over a replayed window.
* ``features backfill|materialize|apply|docs``: history through the same flows, the online store
  from history, the Feast registry, and ``docs/features.md``.
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from chainwatch.clikit import console, err_console, settings_of
from chainwatch.errors import InvalidInputError
from chainwatch.settings import Profile, Settings
from streaming.cli import DATE_FORMATS, MetricsPort

stream_app = typer.Typer(help="Run the streaming dataflows (feature flows and the raw archive).", no_args_is_help=True)
features_app = typer.Typer(
    help="The feature store: backfill history, materialize online, apply, docs.", no_args_is_help=True
)

#: Seconds ``stream run`` waits for its flow processes to stop before killing them.
STOP_TIMEOUT_S = 15.0
#: The window the local profile replays when none is given: the week of the February 2013 blizzard.
DEFAULT_WINDOW = (datetime(2013, 2, 2, tzinfo=UTC), datetime(2013, 2, 9, tzinfo=UTC))

Project = Annotated[
    str | None,
    typer.Option(envvar="CHAINWATCH_FEAST_PROJECT", help="Feast project to use (default: feature_store.yaml's)."),
]
Views = Annotated[
    list[str] | None,
    typer.Option("--view", envvar="CHAINWATCH_FEATURE_VIEWS", help="Feature view (repeat for several; default: all)."),
]


def _date_option(envvar: str, text: str) -> Any:
    return typer.Option(formats=DATE_FORMATS, envvar=envvar, help=text)


def _utc(value: datetime | None, default: datetime) -> datetime:
    if value is None:
        return default
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _serve_metrics(port: int) -> None:
    if port:
        from prometheus_client import start_http_server

        start_http_server(port, addr="127.0.0.1")
        console.print(f"metrics on http://127.0.0.1:{port}/metrics")


def _written_table(sinks: dict[str, object]) -> Table:
    table = Table("view", "online rows", "history rows", title="feature rows written")
    for view, sink in sinks.items():
        written: dict[str, int] = getattr(sink, "written", {})
        table.add_row(view, f"{written.get('online', 0):,}", f"{written.get('history', 0):,}")
    return table


@dataclass(frozen=True, slots=True)
class Recovery:
    """Where and how often ``stream run``'s flows snapshot their state (``folder=None``: no recovery)."""

    folder: Path | None = None
    snapshot_interval: timedelta | None = None
    backup_interval: timedelta | None = None

    def of(self, flow: str) -> Path | None:
        """The recovery folder of one flow (``<folder>/<flow>``)."""
        return self.folder / flow if self.folder is not None else None


def _run_one(settings: Settings, flow: str, recovery: Recovery, project: str | None, live: bool) -> None:
    """Run one flow from Kafka in this process's main thread (the body of each ``stream run`` process).

    SIGINT/SIGTERM stop the flow (:class:`~streaming.runner.FlowStoppedError`); this then returns normally.
    """
    from streaming.features.pipeline import ARCHIVE_FLOW, run_archive, run_features
    from streaming.features.store import feature_store
    from streaming.runner import FlowStoppedError

    try:
        if flow == ARCHIVE_FLOW:
            run_archive(
                settings,
                recovery_dir=recovery.of(flow),
                snapshot_interval=recovery.snapshot_interval,
                backup_interval=recovery.backup_interval,
            )
        else:
            store = feature_store(settings, project=project)
            run_features(
                settings,
                views=[flow],
                store=store,
                live=live,
                recovery_dir=recovery.folder,
                snapshot_interval=recovery.snapshot_interval,
                backup_interval=recovery.backup_interval,
            )
    except FlowStoppedError as stopped:
        console.print(f"{flow}: {stopped}")


def _run_processes(settings: Settings, flows: list[str], recovery: Recovery, project: str | None, live: bool) -> int:
    """One process per flow (Bytewax workers share the GIL); stop all when one fails or on a signal.

    SIGINT and SIGTERM to this process are passed on to the flows as SIGTERM; a flow still running
    ``STOP_TIMEOUT_S`` later is killed (it resumes from its last snapshot when recovery is on).
    """
    from streaming.runner import stop_on_signals

    context = multiprocessing.get_context("spawn")
    processes = {
        flow: context.Process(target=_run_one, args=(settings, flow, recovery, project, live), name=f"cw-{flow}")
        for flow in flows
    }
    failed: list[str] = []
    with stop_on_signals() as request:
        try:
            for process in processes.values():
                process.start()
            running = ", ".join(f"{name} (pid {p.pid})" for name, p in processes.items())
            console.print(f"running {running}; Ctrl-C stops")
            while not failed and any(p.is_alive() for p in processes.values()):
                time.sleep(0.5)
                failed = [name for name, p in processes.items() if p.exitcode not in (None, 0)]
        except KeyboardInterrupt:
            console.print(f"stopping ({request.signal_name or 'interrupted'})")
        finally:
            for process in processes.values():
                if process.is_alive():
                    process.terminate()
            deadline = time.monotonic() + STOP_TIMEOUT_S
            for process in processes.values():
                process.join(timeout=max(0.0, deadline - time.monotonic()))
                if process.is_alive():
                    err_console.print(f"[yellow]{process.name} did not stop in {STOP_TIMEOUT_S:.0f} s; killing it[/]")
                    process.kill()
                    process.join()
    if failed:
        err_console.print(f"[red]flow(s) failed:[/] {', '.join(failed)}")
        return 1
    return 0


@stream_app.command("run")
def stream_run(
    ctx: typer.Context,
    flow: Annotated[
        list[str] | None,
        typer.Option(
            envvar="CHAINWATCH_STREAM_FLOW",
            help="Flow to run: a feature view name or 'archive' (repeat for several; default: all).",
        ),
    ] = None,
    start: Annotated[
        datetime | None, _date_option("CHAINWATCH_STREAM_START", "Local profile: first replayed event time (UTC).")
    ] = None,
    end: Annotated[
        datetime | None, _date_option("CHAINWATCH_STREAM_END", "Local profile: replayed event times end here (UTC).")
    ] = None,
    recovery_dir: Annotated[
        Path | None,
        typer.Option(
            envvar="CHAINWATCH_STREAM_RECOVERY_DIR",
            help="Bytewax recovery folder (one sub-folder per flow, initialised on first use); "
            "restarts resume from the last snapshot. Use a new folder for another replay window.",
        ),
    ] = None,
    snapshot_interval: Annotated[
        float,
        typer.Option(
            "--snapshot-interval",
            "-s",
            min=0.01,
            envvar="CHAINWATCH_STREAM_SNAPSHOT_S",
            help="Seconds between recovery snapshots (Bytewax's epoch; bytewax.run's -s).",
        ),
    ] = 10.0,
    backup_interval: Annotated[
        float,
        typer.Option(
            "--backup-interval",
            "-b",
            min=0,
            envvar="CHAINWATCH_STREAM_BACKUP_S",
            help="Seconds a superseded snapshot is kept (the interval at which the recovery folder is "
            "backed up; bytewax.run's -b).",
        ),
    ] = 0.0,
    speed: Annotated[
        float,
        typer.Option(
            min=0,
            envvar="CHAINWATCH_STREAM_SPEED",
            help="Local profile: replay at this many event-time seconds per wall second (0: as fast as possible).",
        ),
    ] = 0.0,
    project: Project = None,
    live: Annotated[
        bool,
        typer.Option(
            envvar="CHAINWATCH_STREAM_LIVE",
            help="Services profile: Kafka carries events as they happen, so observe feature freshness "
            "(--no-live when Kafka holds a replay of 2013: freshness would read years).",
        ),
    ] = True,
    metrics_port: MetricsPort = 0,
) -> None:
    """Run feature flows into the feature store (and the raw archive).

    Services profile: live from Kafka, until Ctrl-C or SIGTERM; several flows run as one process each.
    Local profile: in-process over the replay of --start .. --end (default: 2-9 Feb 2013).
    With --recovery-dir a flow stopped (or killed) mid-run resumes from its last snapshot.
    """
    from streaming.features.pipeline import ALL_FLOWS, ARCHIVE_FLOW, replay_sources, run_archive, run_features
    from streaming.features.store import apply, feature_store

    settings = settings_of(ctx)
    flows = list(flow) if flow else list(ALL_FLOWS)
    unknown = [name for name in flows if name not in ALL_FLOWS]
    if unknown:
        msg = f"unknown flow(s) {', '.join(unknown)}; known: {', '.join(ALL_FLOWS)}"
        raise InvalidInputError(msg)
    recovery = Recovery(recovery_dir, timedelta(seconds=snapshot_interval), timedelta(seconds=backup_interval))
    _serve_metrics(metrics_port)
    store = apply(settings, feature_store(settings, project=project))
    if settings.profile is Profile.SERVICES:
        if len(flows) == 1:
            _run_one(settings, flows[0], recovery, project, live)
            return
        raise typer.Exit(_run_processes(settings, flows, recovery, project, live))
    from chainwatch.demo import load_dataset
    from streaming.replay import ALL_TOPICS, build_replay, iter_records
    from streaming.replay import ReplayConfig as Config
    from streaming.runner import FlowStoppedError
    from streaming.sources import RecordSource

    first, last = _utc(start, DEFAULT_WINDOW[0]), _utc(end, DEFAULT_WINDOW[1])
    dataset = load_dataset(settings, console=console)
    views = [name for name in flows if name != ARCHIVE_FLOW]
    if views:
        from streaming.flows.features_common import fixed_clock

        console.print(f"replaying {first:%Y-%m-%d %H:%M} .. {last:%Y-%m-%d %H:%M} UTC through {', '.join(views)}")
        try:
            sinks = run_features(
                settings,
                views=views,
                source_factory=replay_sources(dataset, first, last, speed=speed or None),
                live=False,
                now=fixed_clock(last),
                store=store,
                recovery_dir=recovery.folder,
                snapshot_interval=recovery.snapshot_interval,
                backup_interval=recovery.backup_interval,
            )
        except FlowStoppedError as stopped:
            console.print(f"{stopped}; rerun with the same --recovery-dir to resume")
            return
        console.print(_written_table(dict(sinks)))
    if ARCHIVE_FLOW in flows:
        table = build_replay(dataset, Config(start=first, end=last, topics=ALL_TOPICS))
        try:
            run_archive(
                settings,
                source=RecordSource(lambda position: iter_records(table, position=position), speed=speed or None),
                recovery_dir=recovery.of(ARCHIVE_FLOW),
                snapshot_interval=recovery.snapshot_interval,
                backup_interval=recovery.backup_interval,
            )
        except FlowStoppedError as stopped:
            console.print(f"{stopped}; rerun with the same --recovery-dir to resume")
            return
        console.print(f"raw archive: {settings.lake_dir.resolve() / 'raw'}")


@features_app.command("backfill")
def features_backfill(
    ctx: typer.Context,
    start: Annotated[
        datetime | None, _date_option("CHAINWATCH_BACKFILL_START", "Rows stamped after this (UTC; default 2013-01-01).")
    ] = None,
    end: Annotated[
        datetime | None, _date_option("CHAINWATCH_BACKFILL_END", "Rows stamped up to this (UTC; default 2014-01-01).")
    ] = None,
    view: Views = None,
    force: Annotated[
        bool, typer.Option(envvar="CHAINWATCH_BACKFILL_FORCE", help="Run even if this backfill completed before.")
    ] = False,
    project: Project = None,
) -> None:
    """Run the 2013 history (and the synthetic streams) through the feature flows into history, then materialize."""
    from chainwatch.demo import load_dataset
    from streaming.features.pipeline import BackfillResult, backfill
    from streaming.features.store import feature_store

    settings = settings_of(ctx)
    first = _utc(start, datetime(2013, 1, 1, tzinfo=UTC))
    last = _utc(end, datetime(2014, 1, 1, tzinfo=UTC))
    dataset = load_dataset(settings, console=console)

    def progress(result: BackfillResult) -> None:
        console.print(f"  {result.view}: {result.rows:,} rows in {result.seconds:.1f} s")

    run = backfill(
        settings,
        start=first,
        end=last,
        views=view,
        force=force,
        dataset=dataset,
        store=feature_store(settings, project=project),
        on_view=progress,
    )
    state = "already done (cached; --force reruns)" if run.cached else "done"
    table = Table("view", "rows", "dead letters", "seconds", title=f"backfill {first:%Y-%m-%d} .. {last:%Y-%m-%d}")
    for result in run.views:
        table.add_row(result.view, f"{result.rows:,}", str(result.dead_letters), f"{result.seconds:.1f}")
    console.print(table)
    console.print(f"{state}; materialize {run.materialize_seconds:.1f} s; marker {run.marker}")


@features_app.command("materialize")
def features_materialize(
    ctx: typer.Context,
    start: Annotated[
        datetime | None, _date_option("CHAINWATCH_MATERIALIZE_START", "From this time (UTC; default 2013-01-01).")
    ] = None,
    end: Annotated[
        datetime | None, _date_option("CHAINWATCH_MATERIALIZE_END", "Up to this time (UTC; default 2014-01-01).")
    ] = None,
    view: Views = None,
    project: Project = None,
) -> None:
    """Fill the online store from history: each entity's newest row in the range (Feast materialize)."""
    from streaming.features.pipeline import materialize
    from streaming.features.store import feature_store

    settings = settings_of(ctx)
    first = _utc(start, datetime(2013, 1, 1, tzinfo=UTC))
    last = _utc(end, datetime(2014, 1, 1, tzinfo=UTC))
    started = time.perf_counter()
    materialize(settings, start=first, end=last, views=view, store=feature_store(settings, project=project))
    console.print(f"materialized {first:%Y-%m-%d} .. {last:%Y-%m-%d} in {time.perf_counter() - started:.1f} s")


@features_app.command("apply")
def features_apply(ctx: typer.Context, project: Project = None) -> None:
    """Create the history tables and register the feature repository (feast apply); safe to rerun."""
    from streaming.features.store import apply, feature_store

    settings = settings_of(ctx)
    store = apply(settings, feature_store(settings, project=project))
    views = sorted(item.name for item in store.list_feature_views())
    console.print(f"applied project {store.project!r}: {', '.join(views)}")


@features_app.command("docs")
def features_docs(
    output: Annotated[
        Path | None,
        typer.Option(envvar="CHAINWATCH_FEATURES_DOCS", help="Where to write (default: docs/features.md)."),
    ] = None,
) -> None:
    """Regenerate docs/features.md from the Feast registry."""
    from streaming.features.docs import OUTPUT, generate

    console.print(f"wrote {generate(output or OUTPUT)}")
