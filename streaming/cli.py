"""``chainwatch ingest ...``: put every source's events onto Kafka (services) or into a flow (local)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from chainwatch.clikit import console, settings_of
from chainwatch.datasets import FlightsDataset
from chainwatch.settings import Profile, Settings

if TYPE_CHECKING:
    from streaming.live import Kind
    from streaming.replay import ReplayConfig

ingest_app = typer.Typer(help="Ingest sources into Kafka (services) or straight into a dataflow (local).")

DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]

Start = Annotated[
    datetime | None,
    typer.Option(formats=DATE_FORMATS, envvar="CHAINWATCH_INGEST_START", help="First event time (UTC) included."),
]
End = Annotated[
    datetime | None,
    typer.Option(formats=DATE_FORMATS, envvar="CHAINWATCH_INGEST_END", help="First event time (UTC) excluded."),
]
MetricsPort = Annotated[
    int,
    typer.Option(envvar="CHAINWATCH_METRICS_PORT", help="Serve Prometheus metrics on this port (0: off)."),
]


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _serve_metrics(port: int) -> None:
    if port:
        from prometheus_client import start_http_server

        start_http_server(port, addr="127.0.0.1")
        console.print(f"metrics on http://127.0.0.1:{port}/metrics")


def print_counts(counts: list[tuple[str, int]], title: str) -> None:
    """A table of ``(counter, count)`` pairs, sorted by counter."""
    table = Table("counter", "events", title=title)
    for counter, count in sorted(counts):
        table.add_row(counter, f"{count:,}")
    console.print(table)


def _replay_config(start: datetime | None, end: datetime | None, *, synthetic: bool) -> ReplayConfig:
    from streaming.replay import ALL_TOPICS, SHIPMENTS_TOPIC, WEATHER_TOPIC, ReplayConfig

    topics = ALL_TOPICS if synthetic else (SHIPMENTS_TOPIC, WEATHER_TOPIC)
    return ReplayConfig(start=start, end=end, topics=topics)


def audit_replay_in_process(
    settings: Settings,
    start: datetime | None,
    end: datetime | None,
    dataset: FlightsDataset | None = None,
    *,
    synthetic: bool = True,
) -> list[tuple[str, int]]:
    """Run the replay through the ingest audit flow in-process and return its counts."""
    from bytewax.testing import run_main

    from chainwatch.demo import load_dataset
    from streaming.flows.common import CallbackSink
    from streaming.flows.ingest_audit import build_flow
    from streaming.replay import build_replay, iter_records
    from streaming.sources import RecordSource

    dataset = dataset or load_dataset(settings, console=console)
    table = build_replay(dataset, _replay_config(start, end, synthetic=synthetic))
    counts: list[tuple[str, int]] = []
    source = RecordSource(lambda position: iter_records(table, position=position))
    run_main(build_flow(settings, source=source, sink=CallbackSink(counts.extend)))  # type: ignore[no-untyped-call]
    return counts


@ingest_app.command("replay")
def replay(
    ctx: typer.Context,
    start: Start = None,
    end: End = None,
    speed: Annotated[
        float,
        typer.Option(
            min=0,
            envvar="CHAINWATCH_REPLAY_SPEED",
            help="Event-time seconds per wall second (3600: an hour per second; 0: as fast as possible).",
        ),
    ] = 0.0,
    resume: Annotated[
        bool, typer.Option(envvar="CHAINWATCH_REPLAY_RESUME", help="Continue from the last acknowledged position.")
    ] = True,
    synthetic: Annotated[
        bool,
        typer.Option(
            envvar="CHAINWATCH_REPLAY_SYNTHETIC",
            help="Also generate the synthetic social posts and news articles from the record.",
        ),
    ] = True,
    metrics_port: MetricsPort = 0,
) -> None:
    """Replay the 2013 shipment events and weather (and synthetic posts and news) in event-time order.

    Services profile: produce to Kafka, every event acknowledged, checkpointed for --resume.
    Local profile: feed the ingest audit dataflow in-process and print what it counted.
    """
    settings = settings_of(ctx)
    start, end = _utc(start), _utc(end)
    if settings.profile is not Profile.SERVICES:
        counts = audit_replay_in_process(settings, start, end, synthetic=synthetic)
        print_counts(counts, "replayed in-process (local profile)")
        return
    _serve_metrics(metrics_port)
    _replay_to_kafka(settings, _replay_config(start, end, synthetic=synthetic), speed or None, resume=resume)


def _replay_to_kafka(settings: Settings, config: ReplayConfig, speed: float | None, *, resume: bool) -> None:
    from chainwatch.demo import load_dataset
    from streaming.kafka.producer import EventProducer
    from streaming.replay import build_replay
    from streaming.replay_producer import Checkpoint, ReplayProgress, fingerprint, produce_replay

    dataset = load_dataset(settings, console=console)
    table = build_replay(dataset, config)
    path = Path(settings.run_dir) / "replay" / "checkpoint.json"
    checkpoint = Checkpoint(path, fingerprint(table))
    if not resume:
        path.unlink(missing_ok=True)
    producer = EventProducer(settings.kafka, client_id="chainwatch-replay")
    columns = (
        TextColumn("replay"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("", total=len(table), completed=checkpoint.load())

        def show(state: ReplayProgress) -> None:
            progress.update(task, completed=state.position, description=state.event_time or "")

        final = produce_replay(table, producer, speed=speed, checkpoint=checkpoint, on_progress=show)
    console.print(f"replayed {final.position:,} events up to {final.event_time}; all acknowledged by Kafka")


def _live(ctx: typer.Context, kind: Kind, polls: int, metrics_port: int) -> None:
    from streaming.live import run_live

    _serve_metrics(metrics_port)
    count = run_live(settings_of(ctx), kind, max_polls=polls or None)
    console.print(f"{kind}: {count} adapter(s) polled", style="dim")


Polls = Annotated[
    int, typer.Option(min=0, envvar="CHAINWATCH_INGEST_POLLS", help="Polls per adapter, then stop (0: until Ctrl-C).")
]


@ingest_app.command("weather")
def weather(ctx: typer.Context, polls: Polls = 0, metrics_port: MetricsPort = 0) -> None:
    """Poll OpenWeatherMap's current weather for every configured facility."""
    _live(ctx, "weather", polls, metrics_port)


@ingest_app.command("social")
def social(ctx: typer.Context, polls: Polls = 0, metrics_port: MetricsPort = 0) -> None:
    """Poll X recent search and Reddit search for supply-chain keywords."""
    _live(ctx, "social", polls, metrics_port)


@ingest_app.command("news")
def news(ctx: typer.Context, polls: Polls = 0, metrics_port: MetricsPort = 0) -> None:
    """Poll GDELT DOC 2.0 and Google News RSS for supply-chain keywords."""
    _live(ctx, "news", polls, metrics_port)


@ingest_app.command("iot")
def iot(
    ctx: typer.Context,
    start: Start = None,
    end: End = None,
    rate: Annotated[
        float, typer.Option(min=0, envvar="CHAINWATCH_IOT_RATE", help="Readings per second (0: unpaced).")
    ] = 0.0,
    speed: Annotated[
        float,
        typer.Option(min=0, envvar="CHAINWATCH_IOT_SPEED", help="Event-time seconds per wall second (0: unpaced)."),
    ] = 0.0,
) -> None:
    """Simulate every plane's IoT telemetry in the range and publish it to MQTT at QoS 1."""
    from chainwatch.demo import load_dataset
    from chainwatch.errors import ConfigError
    from streaming.mqtt.pacing import EventTimePacer, Pacer, RatePacer
    from streaming.mqtt.publisher import PublisherOptions, TelemetryPublisher
    from streaming.synthetic import generate_telemetry, legs_from_dataset

    settings = settings_of(ctx)
    if settings.profile is not Profile.SERVICES:
        msg = "ingest iot publishes to the MQTT broker: run it in the services profile (make up)"
        raise ConfigError(msg)
    if rate and speed:
        msg = "choose --rate or --speed, not both"
        raise ConfigError(msg)
    pacer: Pacer | None = RatePacer(rate) if rate else EventTimePacer(speed) if speed else None
    dataset = load_dataset(settings, console=console)
    readings = generate_telemetry(legs_from_dataset(dataset, start=_utc(start), end=_utc(end)))
    options = PublisherOptions(client_id=settings.mqtt.simulator_client_id)
    with TelemetryPublisher(settings.mqtt, options=options) as publisher:
        report = publisher.publish_all(readings, pacer=pacer)
    console.print(f"published {report.published:,} readings; {report.acked:,} acknowledged by the broker")


@ingest_app.command("bridge")
def bridge(ctx: typer.Context, metrics_port: MetricsPort = 0) -> None:
    """Forward MQTT telemetry to Kafka, acknowledging MQTT only after Kafka confirmed delivery."""
    import signal
    import threading

    from chainwatch.errors import ConfigError
    from streaming.mqtt.bridge import BridgeOptions, TelemetryBridge

    settings = settings_of(ctx)
    if settings.profile is not Profile.SERVICES:
        msg = "ingest bridge connects MQTT to Kafka: run it in the services profile"
        raise ConfigError(msg)
    _serve_metrics(metrics_port)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    bridge = TelemetryBridge(
        settings.mqtt, settings.kafka, options=BridgeOptions(client_id=settings.mqtt.bridge_client_id)
    )
    stats = bridge.run(stop)
    console.print(f"bridge stopped: {stats}")
