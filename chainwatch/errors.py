"""The one error root of Chainwatch.

Every error the project raises on purpose derives from :class:`ChainwatchError`. Each subclass
knows the HTTP status it maps to, so services translate errors to responses in one place, and
the CLI turns any of them into a clear message and a non-zero exit code.
"""

from __future__ import annotations

from http import HTTPStatus


class ChainwatchError(Exception):
    """Root of every error Chainwatch raises on purpose."""

    http_status: HTTPStatus = HTTPStatus.INTERNAL_SERVER_ERROR


class ConfigError(ChainwatchError):
    """A setting is missing or invalid; the message names the variable."""

    http_status = HTTPStatus.INTERNAL_SERVER_ERROR


class InvalidInputError(ChainwatchError):
    """Input (an event, a request, an identifier) failed validation."""

    http_status = HTTPStatus.UNPROCESSABLE_ENTITY


class NotFoundError(ChainwatchError):
    """A requested entity, model or artefact does not exist."""

    http_status = HTTPStatus.NOT_FOUND


class DependencyUnavailableError(ChainwatchError):
    """A service Chainwatch depends on (Kafka, Postgres, Redis, ...) cannot be reached."""

    http_status = HTTPStatus.SERVICE_UNAVAILABLE


class ServiceStartError(ChainwatchError):
    """A local service failed to start; the message names the service and its log."""

    def __init__(self, service: str, reason: str, log_path: str | None = None) -> None:
        self.service = service
        self.reason = reason
        self.log_path = log_path
        where = f" (log: {log_path})" if log_path else ""
        super().__init__(f"service {service!r} failed to start: {reason}{where}")


class DataQualityError(ChainwatchError):
    """A dataset violates one of its expectations (keys, nulls, ranges)."""

    http_status = HTTPStatus.UNPROCESSABLE_ENTITY
