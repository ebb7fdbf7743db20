"""``chainwatch stream run`` and ``chainwatch features ...``: run, backfill and serve the feature pipeline.

* ``stream run [--flow NAME]``: services profile: the flows read Kafka live (one process per
  flow when several run); local profile: the flows run in-process over a replayed window.
* ``features backfill|materialize|apply|docs``: history through the same flows, the online store
  from history, the Feast registry, and ``docs/features.md``.
"""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime
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


def _run_one(settings: Settings, flow: str, recovery_dir: Path | None, project: str | None, live: bool) -> None:
    """Run one flow from Kafka (the body of each process of ``stream run`` in the services profile)."""
    from streaming.features.pipeline import ARCHIVE_FLOW, run_archive, run_features
    from streaming.features.store import feature_store

    recovery = recovery_dir / flow if recovery_dir is not None else None
    if flow == ARCHIVE_FLOW:
        run_archive(settings, recovery_dir=recovery)
    else:
        store = feature_store(settings, project=project)
        run_features(settings, views=[flow], store=store, live=live, recovery_dir=recovery_dir)


def _run_processes(
    settings: Settings, flows: list[str], recovery_dir: Path | None, project: str | None, live: bool
) -> int:
    """One process per flow (Bytewax workers share the GIL); stop all when one fails or on Ctrl-C."""
    context = multiprocessing.get_context("spawn")
    processes = {
        flow: context.Process(target=_run_one, args=(settings, flow, recovery_dir, project, live), name=f"cw-{flow}")
        for flow in flows
    }
    for process in processes.values():
        process.start()
    console.print(f"running {', '.join(f'{name} (pid {p.pid})' for name, p in processes.items())}; Ctrl-C stops")
    failed: list[str] = []
    try:
        while not failed and any(p.is_alive() for p in processes.values()):
            time.sleep(0.5)
            failed = [name for name, p in processes.items() if p.exitcode not in (None, 0)]
    except KeyboardInterrupt:
        console.print("stopping")
    finally:
        for process in processes.values():
            if process.is_alive():
                process.terminate()
            process.join(timeout=10)
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
            help="Bytewax recovery folder (one sub-folder per flow); restarts resume from the last snapshot.",
        ),
    ] = None,
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

    Services profile: live from Kafka, until Ctrl-C; several flows run as one process each.
    Local profile: in-process over the replay of --start .. --end (default: 2-9 Feb 2013).
    """
    from streaming.features.pipeline import ALL_FLOWS, ARCHIVE_FLOW, replay_sources, run_archive, run_features
    from streaming.features.store import apply, feature_store

    settings = settings_of(ctx)
    flows = list(flow) if flow else list(ALL_FLOWS)
    unknown = [name for name in flows if name not in ALL_FLOWS]
    if unknown:
        msg = f"unknown flow(s) {', '.join(unknown)}; known: {', '.join(ALL_FLOWS)}"
        raise InvalidInputError(msg)
    _serve_metrics(metrics_port)
    store = apply(settings, feature_store(settings, project=project))
    if settings.profile is Profile.SERVICES:
        if len(flows) == 1:
            _run_one(settings, flows[0], recovery_dir, project, live)
            return
        raise typer.Exit(_run_processes(settings, flows, recovery_dir, project, live))
    from chainwatch.demo import load_dataset
    from streaming.replay import ALL_TOPICS, build_replay, iter_records
    from streaming.replay import ReplayConfig as Config
    from streaming.sources import RecordSource

    first, last = _utc(start, DEFAULT_WINDOW[0]), _utc(end, DEFAULT_WINDOW[1])
    dataset = load_dataset(settings, console=console)
    views = [name for name in flows if name != ARCHIVE_FLOW]
    if views:
        from streaming.flows.features_common import fixed_clock

        console.print(f"replaying {first:%Y-%m-%d %H:%M} .. {last:%Y-%m-%d %H:%M} UTC through {', '.join(views)}")
        sinks = run_features(
            settings,
            views=views,
            source_factory=replay_sources(dataset, first, last),
            live=False,
            now=fixed_clock(last),
            store=store,
            recovery_dir=recovery_dir,
        )
        console.print(_written_table(dict(sinks)))
    if ARCHIVE_FLOW in flows:
        table = build_replay(dataset, Config(start=first, end=last, topics=ALL_TOPICS))
        run_archive(settings, source=RecordSource(lambda position: iter_records(table, position=position)))
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
