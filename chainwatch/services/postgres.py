"""PostgreSQL through Debian's cluster tools (``pg_ctlcluster``), not a spawned process.

The cluster named by ``settings.postgres.cluster`` (e.g. ``15/main``) is created if missing,
made to listen on ``host:port``, started, and provisioned with the Chainwatch role and its two
databases (features/logs and MLflow's backend store). A marker file under the run folder
records that Chainwatch started the cluster; ``down`` stops it only then, so a cluster that was
already running (a developer's own) is never stopped.
"""

from __future__ import annotations

import getpass
import logging
import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from chainwatch.errors import DependencyUnavailableError, ServiceStartError
from chainwatch.readiness import check_postgres, describe, wait_until
from chainwatch.services.base import EXTERNAL_DETAIL, RunLayout, Service, ServiceStatus
from chainwatch.services.process import port_open
from chainwatch.settings import Settings

logger = logging.getLogger(__name__)

#: Idempotent provisioning, run by psql as the ``postgres`` superuser. Names arrive as psql
#: variables and the password through the environment (``\getenv``), so neither is spliced
#: into SQL text nor shown on a command line; ``format(%I, %L)`` quotes them.
PROVISION_SQL = r"""
\getenv role_password CHAINWATCH_PG_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'role', :'role_password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', db, :'role')
  FROM unnest(ARRAY[:'db', :'mlflow_db']) AS db
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = db) \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', d.datname, :'role')
  FROM pg_database d
 WHERE d.datname IN (:'db', :'mlflow_db') AND pg_get_userbyid(d.datdba) <> :'role' \gexec
"""


@dataclass(frozen=True)
class ClusterInfo:
    """One line of ``pg_lsclusters``."""

    version: str
    name: str
    port: int
    online: bool
    data_dir: Path
    log_file: Path


def parse_lsclusters(output: str) -> list[ClusterInfo]:
    """Parse ``pg_lsclusters --no-header`` output (ver cluster port status owner datadir log)."""
    clusters = []
    for line in output.splitlines():
        fields = line.split()
        if len(fields) >= 7 and fields[2].isdigit():
            clusters.append(
                ClusterInfo(
                    version=fields[0],
                    name=fields[1],
                    port=int(fields[2]),
                    online=fields[3].startswith("online"),
                    data_dir=Path(fields[5]),
                    log_file=Path(fields[6]),
                )
            )
    return clusters


def listen_covers(listen_addresses: str, host: str) -> bool:
    """Whether a ``listen_addresses`` value makes the server listen on ``host``."""
    entries = {part.strip().strip("'") for part in listen_addresses.split(",")}
    loopback = {"127.0.0.1", "localhost"}
    return bool(entries & {"*", "0.0.0.0", host} or (host in loopback and entries & loopback))


class PostgresService(Service):
    """The Debian PostgreSQL cluster, provisioned for Chainwatch."""

    name = "postgres"

    def __init__(self, settings: Settings, layout: RunLayout) -> None:
        super().__init__(settings, layout)
        self._offset: int | None = None  # where the cluster log stood when this start began

    @property
    def version(self) -> str:
        """Major version of the cluster, e.g. ``"15"``."""
        return self.settings.postgres.cluster.split("/")[0]

    @property
    def cluster(self) -> str:
        """Cluster name, e.g. ``"main"``."""
        return self.settings.postgres.cluster.split("/")[1]

    @property
    def address(self) -> str:
        """``host:port`` of the server."""
        return f"{self.settings.postgres.host}:{self.settings.postgres.port}"

    @property
    def marker(self) -> Path:
        """Present while the cluster runs because Chainwatch started it."""
        return self.layout.data(self.name) / "started-by-chainwatch"

    @property
    def log_path(self) -> Path:
        """The cluster's own log file (Debian keeps it under /var/log/postgresql)."""
        info = self._info()
        fallback = Path(f"/var/log/postgresql/postgresql-{self.version}-{self.cluster}.log")
        return info.log_file if info else fallback

    def _run(self, *argv: str, env: dict[str, str] | None = None, stdin: str | None = None) -> str:
        """Run a cluster tool; raise ServiceStartError with its output when it fails."""
        try:
            done = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False, timeout=120, env=env)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise self._fail(f"{argv[0]} failed: {err} (run deploy/local/install.sh?)", self._offset) from err
        if done.returncode != 0:
            output = (done.stderr or done.stdout).strip()
            raise self._fail(f"{' '.join(argv[:4])} exited {done.returncode}: {output}", self._offset)
        return done.stdout

    def _as_postgres(self) -> list[str]:
        """Prefix that runs a command as the ``postgres`` OS user."""
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--"]
        if getpass.getuser() == "postgres":
            return []
        msg = "provisioning needs root or the postgres user (run as root, as on CI)"
        raise ServiceStartError(self.name, msg, str(self.log_path))

    def _info(self) -> ClusterInfo | None:
        try:
            done = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False)
        except OSError:
            return None
        wanted = (self.version, self.cluster)
        return next((c for c in parse_lsclusters(done.stdout) if (c.version, c.name) == wanted), None)

    def check_ready(self) -> None:
        """``pg_isready`` against ``host:port`` (needs no role, so it works before provisioning)."""
        pg = self.settings.postgres
        done = subprocess.run(
            ["pg_isready", "-q", "-h", pg.host, "-p", str(pg.port), "-t", "3"], capture_output=True, check=False
        )
        if done.returncode != 0:
            msg = f"pg_isready exited {done.returncode}"
            raise ConnectionError(msg)

    def _configure(self) -> bool:
        """Make the cluster's config listen on our host and port; return whether it changed."""
        pg, changed = self.settings.postgres, False
        conf = ["pg_conftool", self.version, self.cluster]
        port = subprocess.run([*conf, "-s", "show", "port"], capture_output=True, text=True, check=False)
        if port.stdout.strip() != str(pg.port):
            self._run(*conf, "set", "port", str(pg.port))
            changed = True
        listen = subprocess.run([*conf, "-s", "show", "listen_addresses"], capture_output=True, text=True, check=False)
        if not listen_covers(listen.stdout.strip() or "localhost", pg.host):
            self._run(*conf, "set", "listen_addresses", pg.host)
            changed = True
        if changed:
            logger.info("postgres: cluster %s now configured for %s", pg.cluster, self.address)
        return changed

    def start(self) -> ServiceStatus:
        """Create/configure/start the cluster as needed, then provision role and databases."""
        self._offset = self._log_size()
        info = self._info()
        if info is None:
            logger.info("postgres: creating cluster %s", self.settings.postgres.cluster)
            self._run("pg_createcluster", self.version, self.cluster)
        changed = self._configure()
        info = self._info()
        if info is not None and info.online:
            if changed and self.marker.exists():
                logger.info("postgres: restarting cluster %s for the new settings", self.settings.postgres.cluster)
                self._run("pg_ctlcluster", self.version, self.cluster, "restart")
            elif changed:
                msg = (
                    f"cluster {self.settings.postgres.cluster} is running but not on {self.address}, and chainwatch "
                    f"did not start it; restart it yourself: pg_ctlcluster {self.version} {self.cluster} restart"
                )
                raise self._fail(msg)
            else:
                logger.info("postgres: cluster %s already running", self.settings.postgres.cluster)
        else:
            logger.info("postgres: starting cluster %s", self.settings.postgres.cluster)
            self._run("pg_ctlcluster", self.version, self.cluster, "start")
            self.marker.parent.mkdir(parents=True, exist_ok=True)
            self.marker.write_text(datetime.now(tz=UTC).isoformat(timespec="seconds") + "\n", encoding="utf-8")
        try:
            wait_until(self.name, self.address, self.check_ready, self.settings.readiness_timeout_s)
            self._provision()
            check_postgres(self.settings)
        except ServiceStartError:
            raise
        except (DependencyUnavailableError, OSError) as err:
            raise self._fail(str(err), self._offset) from err
        except Exception as err:  # psycopg2.Error: the role cannot log in after provisioning
            raise self._fail(f"provisioned, but the role cannot connect: {describe(err)}", self._offset) from err
        return self.status()

    def _provision(self) -> None:
        pg = self.settings.postgres
        password = pg.password.get_secret_value() if pg.password else ""
        if not password:
            raise self._fail("settings.postgres.password is empty; set CHAINWATCH_POSTGRES__PASSWORD")
        argv = [*self._as_postgres(), "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-p", str(pg.port), "-d", "postgres"]
        for key, value in {"role": pg.user, "db": pg.database, "mlflow_db": pg.mlflow_database}.items():
            argv += ["-v", f"{key}={value}"]
        self._run(*argv, "-f", "-", env={**os.environ, "CHAINWATCH_PG_PASSWORD": password}, stdin=PROVISION_SQL)
        logger.info("postgres: role %s owns databases %s, %s", pg.user, pg.database, pg.mlflow_database)

    def _pid(self, info: ClusterInfo) -> int | None:
        try:
            first = (info.data_dir / "postmaster.pid").read_text(encoding="utf-8").splitlines()[0]
        except (OSError, IndexError):
            return None  # not readable without root; the state still comes from pg_lsclusters
        return int(first) if first.isdigit() else None

    def status(self) -> ServiceStatus:
        """Running/stopped from ``pg_lsclusters``; failed if we started it and it is gone."""
        info = self._info()
        ours = self.marker.exists()
        if info is not None and info.online:
            detail = "started by chainwatch" if ours else "running, not started by chainwatch (down leaves it running)"
            return self._status("running", self._pid(info), detail)
        if ours:
            return self._status("failed", None, "started by chainwatch but no longer running; see the log")
        if port_open(self.settings.postgres.host, self.settings.postgres.port):
            return self._status("running", None, EXTERNAL_DETAIL)  # another cluster or a container
        if info is None:
            return self._status("stopped", None, f"cluster {self.settings.postgres.cluster} does not exist yet")
        return self._status("stopped", None, "")

    def stop(self) -> ServiceStatus:
        """Stop the cluster only if the marker says Chainwatch started it."""
        info = self._info()
        if not self.marker.exists():
            current = self.status()
            if current.state == "running":
                return self._status("running", current.pid, "not started by chainwatch; left running")
            return current
        if info is not None and info.online:
            logger.info("stopping postgres cluster %s", self.settings.postgres.cluster)
            self._run("pg_ctlcluster", self.version, self.cluster, "stop")
        self.marker.unlink(missing_ok=True)
        return self._status("stopped", None, f"cluster {self.settings.postgres.cluster} stopped")
