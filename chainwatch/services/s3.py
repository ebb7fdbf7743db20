"""An S3-compatible endpoint for local runs: moto's server, plus the buckets Chainwatch uses.

``python -m moto.server`` from the project's own interpreter listens on ``settings.s3.port``;
once it answers, the lake and MLflow buckets are created (existing buckets are fine). Moto
keeps objects in memory: they are gone after ``down``, the buckets come back on ``up``.
"""

from __future__ import annotations

import logging
import sys
from urllib.parse import urlsplit

from chainwatch.readiness import check_s3, s3_client
from chainwatch.services.base import ProcessService
from chainwatch.settings import Settings

logger = logging.getLogger(__name__)


def ensure_buckets(settings: Settings) -> list[str]:
    """Create the lake and MLflow buckets unless they exist; return the names created."""
    client = s3_client(settings)
    existing = {bucket["Name"] for bucket in client.list_buckets().get("Buckets", [])}
    created = []
    for bucket in (settings.s3.lake_bucket, settings.s3.mlflow_bucket):
        if bucket in existing:
            continue
        if settings.s3.region == "us-east-1":  # the one region that refuses a LocationConstraint
            client.create_bucket(Bucket=bucket)
        else:
            client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": settings.s3.region})
        created.append(bucket)
        logger.info("s3: created bucket %s", bucket)
    return created


class S3Service(ProcessService):
    """Moto's S3 server on the configured endpoint's host and ``settings.s3.port``."""

    name = "s3"

    @property
    def host_port(self) -> tuple[str, int]:
        """Host of the endpoint URL (default 127.0.0.1) and the configured port."""
        endpoint = self.settings.s3.endpoint_url
        host = urlsplit(str(endpoint)).hostname if endpoint else None
        return host or "127.0.0.1", self.settings.s3.port

    def command(self) -> list[str]:
        """``python -m moto.server -H host -p port`` with the running interpreter."""
        host, port = self.host_port
        return [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)]

    def cmdline_markers(self) -> tuple[str, ...]:
        """The module and our port."""
        return ("moto.server", f"-p {self.host_port[1]}")

    def check_ready(self) -> None:
        """List buckets (the endpoint answers; buckets come after)."""
        check_s3(self.settings, buckets=())

    def after_ready(self) -> None:
        """Create the buckets, then check they answer ``HEAD``."""
        ensure_buckets(self.settings)
        check_s3(self.settings)
