"""Mosquitto (MQTT) as a child process, with persistence for persistent sessions.

Mosquitto started as root drops privileges to the user named in its config. The rendered config
names ``mosquitto`` when that user exists and can reach the run folder; the persistence folder
is then handed to it. Otherwise (no such user, or a parent folder it cannot traverse) it stays
``root``. It runs in the foreground without a ``pid_file`` — a pid file in a folder the dropped
user cannot write makes it exit silently — and Chainwatch records the pid instead.
"""

from __future__ import annotations

import getpass
import logging
import os
import pwd
import shutil
import stat
from pathlib import Path

from chainwatch.readiness import check_mqtt
from chainwatch.services.base import ProcessService, RunLayout
from chainwatch.services.files import render_template, write_if_changed
from chainwatch.settings import Settings

logger = logging.getLogger(__name__)

#: The unprivileged account Debian's package creates for the broker.
BROKER_USER = "mosquitto"


def traversable_by_others(path: Path) -> bool:
    """Whether every folder from ``/`` down to ``path`` lets other users pass (``o+x``)."""
    return all(folder.stat().st_mode & stat.S_IXOTH for folder in [path, *path.parents] if folder.exists())


class MosquittoService(ProcessService):
    """``mosquitto -c <config>`` on the configured host and port."""

    name = "mosquitto"

    def __init__(self, settings: Settings, layout: RunLayout, templates_dir: Path) -> None:
        super().__init__(settings, layout)
        self.template = templates_dir / "mosquitto" / "mosquitto.conf.template"

    @property
    def host_port(self) -> tuple[str, int]:
        """Where the broker listens."""
        return self.settings.mqtt.host, self.settings.mqtt.port

    @property
    def config_path(self) -> Path:
        """The rendered config file."""
        return self.data_dir / "mosquitto.conf"

    @property
    def persistence_dir(self) -> Path:
        """Where the broker saves sessions and retained messages."""
        return self.data_dir / "data"

    def broker_user(self) -> str:
        """The user the broker runs as (see the module docstring)."""
        if os.geteuid() != 0:
            return getpass.getuser()  # not root: mosquitto keeps the current user anyway
        try:
            pwd.getpwnam(BROKER_USER)
        except KeyError:
            logger.warning("mosquitto: no %r user; the broker runs as root", BROKER_USER)
            return "root"
        if not traversable_by_others(self.persistence_dir.parent):
            logger.warning("mosquitto: %s is not reachable by other users; the broker runs as root", self.data_dir)
            return "root"
        return BROKER_USER

    def render_config(self, user: str) -> str:
        """The config file's text for these settings, run as ``user``."""
        host, port = self.host_port
        return render_template(
            self.template, {"host": host, "port": port, "data_dir": self.persistence_dir, "user": user}
        )

    def prepare(self) -> None:
        """Render the config and hand the persistence folder to the broker's user."""
        self.persistence_dir.mkdir(parents=True, exist_ok=True)
        user = self.broker_user()
        if os.geteuid() == 0 and user != "root":
            for path in [self.persistence_dir, *self.persistence_dir.iterdir()]:
                shutil.chown(path, user, user)
        write_if_changed(self.config_path, self.render_config(user))

    def command(self) -> list[str]:
        """``mosquitto -c <config>`` (found on PATH or in /usr/sbin, which a user PATH lacks)."""
        binary = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/sbin") or "mosquitto"
        return [binary, "-c", str(self.config_path)]

    def cmdline_markers(self) -> tuple[str, ...]:
        """The binary and our config file."""
        return ("mosquitto", str(self.config_path))

    def check_ready(self) -> None:
        """MQTT connect and CONNACK."""
        check_mqtt(self.settings)
