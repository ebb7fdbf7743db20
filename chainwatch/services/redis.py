"""Redis as a child process: Feast's online store and the route-risk cache.

Config comes from ``deploy/local/redis/redis.conf.template``; data (RDB and AOF) lives in
``<run_dir>/redis/data``. Redis rewrites its process title to ``redis-server host:port``, so the
pid check looks for ``redis-server`` only.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from chainwatch.readiness import check_redis
from chainwatch.services.base import ProcessService, RunLayout
from chainwatch.services.files import render_template, write_if_changed
from chainwatch.settings import Settings


class RedisService(ProcessService):
    """``redis-server`` bound to the configured host and port, persistence on."""

    name = "redis"

    def __init__(self, settings: Settings, layout: RunLayout, templates_dir: Path) -> None:
        super().__init__(settings, layout)
        self.template = templates_dir / "redis" / "redis.conf.template"

    @property
    def host_port(self) -> tuple[str, int]:
        """Where Redis listens."""
        return self.settings.redis.host, self.settings.redis.port

    @property
    def config_path(self) -> Path:
        """The rendered config file."""
        return self.data_dir / "redis.conf"

    def render_config(self) -> str:
        """The config file's text for these settings."""
        host, port = self.host_port
        return render_template(self.template, {"host": host, "port": port, "data_dir": self.data_dir / "data"})

    def prepare(self) -> None:
        """Render the config and create the data folder."""
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)
        write_if_changed(self.config_path, self.render_config())

    def command(self) -> list[str]:
        """``redis-server <config>`` in the foreground."""
        return [shutil.which("redis-server") or "redis-server", str(self.config_path)]

    def cmdline_markers(self) -> tuple[str, ...]:
        """Redis replaces its argv with ``redis-server host:port``."""
        return ("redis-server",)

    def check_ready(self) -> None:
        """``PING``."""
        check_redis(self.settings)
