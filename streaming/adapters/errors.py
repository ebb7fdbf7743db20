"""Errors of the live adapters, all under :class:`chainwatch.errors.ChainwatchError`.

Each class says what went wrong with an upstream API in a way an operator can act on, and
carries ``metric_reason``: the ``reason`` label the poller counts it under.

=============================  ===========  =======================================================
error                          reason       meaning
=============================  ===========  =======================================================
UpstreamUnavailableError       unavailable  timeouts, connection errors or 5xx after every retry
RateLimitedError               rate_limited HTTP 429 after every retry; ``retry_after_s`` if known
UpstreamRejectedError          rejected     a 4xx other than 429: our request is wrong, not retried
UpstreamAuthError              auth         401/403: the message names the key setting to check
MalformedResponseError         malformed    a body (or one item of it) that is not what the API
                                            documents: truncated JSON, an HTML page, a wrong shape
=============================  ===========  =======================================================
"""

from __future__ import annotations

from http import HTTPStatus
from typing import ClassVar

from chainwatch.errors import ChainwatchError, ConfigError, DependencyUnavailableError, InvalidInputError
from chainwatch.schemas.events import DeadLetterReason


class UpstreamUnavailableError(DependencyUnavailableError):
    """An upstream API could not be reached or kept failing (timeouts, 5xx) after retries."""

    metric_reason: ClassVar[str] = "unavailable"

    def __init__(self, message: str, *, endpoint: str, attempts: int) -> None:
        self.endpoint = endpoint
        self.attempts = attempts
        super().__init__(message)


class RateLimitedError(UpstreamUnavailableError):
    """An upstream API kept answering HTTP 429; ``retry_after_s`` is how long it asked to wait."""

    metric_reason: ClassVar[str] = "rate_limited"

    def __init__(self, message: str, *, endpoint: str, attempts: int, retry_after_s: float | None) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(message, endpoint=endpoint, attempts=attempts)


class UpstreamRejectedError(ChainwatchError):
    """An upstream API rejected the request with a 4xx other than 429; retrying cannot help."""

    # The request we built upstream was refused: to our own callers that is a bad gateway.
    http_status = HTTPStatus.BAD_GATEWAY
    metric_reason: ClassVar[str] = "rejected"

    def __init__(self, message: str, *, endpoint: str, status_code: int) -> None:
        self.endpoint = endpoint
        self.status_code = status_code
        super().__init__(message)


class UpstreamAuthError(UpstreamRejectedError):
    """HTTP 401/403: the key is missing, wrong or lacks access; the message names the setting."""

    metric_reason: ClassVar[str] = "auth"


class MalformedResponseError(InvalidInputError):
    """A response body, or one item in it, does not have the shape the API documents.

    It keeps the offending bytes and a dead-letter reason so the poller can hand them to the
    ``<topic>.dlq`` instead of dropping them.
    """

    # Input from upstream, not from our caller: on a service boundary this is a bad gateway.
    http_status = HTTPStatus.BAD_GATEWAY
    metric_reason: ClassVar[str] = "malformed"

    def __init__(self, message: str, *, payload: bytes = b"", reason: DeadLetterReason = "schema_violation") -> None:
        self.payload = payload
        self.reason: DeadLetterReason = reason
        super().__init__(message)


def metric_reason(error: BaseException) -> str:
    """The ``reason`` label a failure is counted under (``error`` for other Chainwatch errors).

    Args:
        error: Any exception a poll raised or collected.

    Returns:
        The error's ``metric_reason``, ``config`` for a configuration error, else ``error``.
    """
    reason = getattr(error, "metric_reason", None)
    if isinstance(reason, str):
        return reason
    return "config" if isinstance(error, ConfigError) else "error"
