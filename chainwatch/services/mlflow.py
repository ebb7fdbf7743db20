"""The MLflow tracking server: runs in PostgreSQL, artefacts proxied to the S3 endpoint.

``mlflow server`` keeps runs and the model registry in ``settings.postgres.mlflow_database`` and
serves artefacts itself (``--artifacts-destination s3://<mlflow bucket>``), writing them through
the endpoint in ``settings.s3.client_env()``. The database URL, password included, reaches the
server through the environment (``MLFLOW_BACKEND_STORE_URI``), not its command line.
"""

from __future__ import annotations

import sys

from chainwatch.readiness import check_mlflow
from chainwatch.services.base import ProcessService


class MLflowService(ProcessService):
    """``python -m mlflow server`` bound to the configured host and port."""

    name = "mlflow"
    requires = ("postgres", "s3")

    @property
    def host_port(self) -> tuple[str, int]:
        """Where the tracking server listens."""
        return self.settings.mlflow.host, self.settings.mlflow.port

    def command(self) -> list[str]:
        """The server's argument vector (no secrets in it)."""
        mlflow = self.settings.mlflow
        return [
            sys.executable, "-m", "mlflow", "server",
            "--host", mlflow.host,
            "--port", str(mlflow.port),
            "--workers", str(mlflow.workers),
            "--artifacts-destination", f"s3://{self.settings.s3.mlflow_bucket}",
        ]  # fmt: skip

    def environment(self) -> dict[str, str]:
        """S3 endpoint and credentials, and the backend store URL."""
        postgres = self.settings.postgres
        return {
            **self.settings.s3.client_env(),
            "MLFLOW_BACKEND_STORE_URI": postgres.dsn(postgres.mlflow_database),
            # MLflow 3's GenAI job runner starts eight extra Python processes (huey consumers);
            # Chainwatch uses none of its jobs, and two cores are better spent elsewhere.
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        }

    def cmdline_markers(self) -> tuple[str, ...]:
        """The module, subcommand and our port."""
        return ("mlflow", "server", f"--port {self.settings.mlflow.port}")

    def check_ready(self) -> None:
        """``GET /health``."""
        check_mlflow(self.settings)
