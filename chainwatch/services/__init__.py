"""The local services profile without Docker: Kafka, PostgreSQL, Redis, Mosquitto, S3, MLflow.

:class:`~chainwatch.services.manager.ServiceManager` starts them as plain processes (PostgreSQL
through Debian's cluster tools), waits until each is ready, and stops only what it started.
Everything they write lives under ``settings.run_dir``. Install the Debian packages and the
Kafka jars first with ``deploy/local/install.sh``.
"""

from chainwatch.services.base import ServiceStatus
from chainwatch.services.manager import SERVICE_NAMES, ServiceManager

__all__ = ["SERVICE_NAMES", "ServiceManager", "ServiceStatus"]
