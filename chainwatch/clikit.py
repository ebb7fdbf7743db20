"""What every command group of the CLI shares: consoles and the settings of the invocation."""

from __future__ import annotations

import typer
from rich.console import Console

from chainwatch.errors import ConfigError
from chainwatch.settings import Settings

console = Console()
err_console = Console(stderr=True)


def settings_of(ctx: typer.Context) -> Settings:
    """The settings the root command built for this invocation."""
    settings = ctx.find_root().obj
    if not isinstance(settings, Settings):  # pragma: no cover - the root callback always sets it
        msg = "settings were not built"
        raise ConfigError(msg)
    return settings
