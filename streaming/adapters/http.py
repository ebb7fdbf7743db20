"""The one fetch layer every adapter uses: httpx for HTTP, tenacity for retries.

Per request (:meth:`HttpFetcher.request`):

* connect and read timeouts from :class:`~chainwatch.adapter_settings.HttpSettings`;
* timeouts, connection errors, HTTP 408 and 5xx are retried with exponential backoff plus
  random jitter, up to ``max_attempts``, then raise :class:`UpstreamUnavailableError`;
* HTTP 429 waits what the server asks (``Retry-After`` in seconds or as an HTTP date, else
  X's ``x-rate-limit-reset`` epoch or Reddit's ``x-ratelimit-reset`` seconds) when that is
  at most ``retry_after_max_s``; a longer wait is not spent inside the poll but raised at
  once as :class:`RateLimitedError` so the poller defers its next poll instead;
* any other 4xx is not retried: :class:`UpstreamRejectedError`, or
  :class:`UpstreamAuthError` naming the key setting for 401/403.

Error messages name the endpoint as method, scheme, host and path only: query strings can
carry keys (OpenWeatherMap's ``appid``), and :func:`install_log_redaction` keeps them out of
httpx's own request log too. ``sleep`` and ``now`` are injectable so tests check every wait
without spending it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from chainwatch.adapter_settings import HttpSettings, env_var
from streaming.adapters.base import utc_now
from streaming.adapters.errors import (
    RateLimitedError,
    UpstreamAuthError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)
from streaming.adapters.metrics import AdapterMetrics
from streaming.adapters.text import snippet

logger = logging.getLogger(__name__)

#: Query parameters whose values never appear in logs or error messages.
SECRET_PARAMS = frozenset({"appid", "api_key", "apikey", "key", "access_token", "token", "client_secret"})

QueryParams = Mapping[str, str | int]


def endpoint_of(method: str, url: str | httpx.URL) -> str:
    """How errors and logs name a request: ``GET https://host/path``, never the query string."""
    parsed = httpx.URL(url)
    return f"{method} {parsed.scheme}://{parsed.netloc.decode('ascii')}{parsed.path}"


def redact(url: str | httpx.URL) -> str:
    """``url`` with the values of :data:`SECRET_PARAMS` query parameters replaced by ``***``."""
    parsed = httpx.URL(url)
    if not parsed.query:
        return str(parsed)
    params = [(key, "***" if key.lower() in SECRET_PARAMS else value) for key, value in parsed.params.multi_items()]
    return str(parsed.copy_with(params=params))


class RedactSecretsFilter(logging.Filter):
    """Redacts secret query parameters in the URLs httpx logs (``HTTP Request: GET ...``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite URL arguments of ``record`` in place; always keep the record."""
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, httpx.URL) else arg for arg in record.args)
        return True


def install_log_redaction() -> None:
    """Add :class:`RedactSecretsFilter` to the ``httpx`` logger, once (idempotent)."""
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(existing, RedactSecretsFilter) for existing in httpx_logger.filters):
        httpx_logger.addFilter(RedactSecretsFilter())


def new_http_client(settings: HttpSettings) -> httpx.Client:
    """An httpx client for the adapters: timeouts, redirects followed, our User-Agent.

    Args:
        settings: Timeouts and the User-Agent.

    Returns:
        A client the caller owns (close it, or use it as a context manager).
    """
    return httpx.Client(
        timeout=timeout_of(settings),
        follow_redirects=True,
        headers={"User-Agent": settings.user_agent},
    )


def timeout_of(settings: HttpSettings) -> httpx.Timeout:
    """The httpx timeout of ``settings``: connect, then read/write/pool."""
    return httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP date.

    Args:
        value: The header's value, or None.
        now: Current time (UTC), for the HTTP-date form.

    Returns:
        Non-negative seconds, or None when absent or unreadable.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # HTTP dates are GMT; the parser returns naive for '-0000'.
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def rate_limit_wait(headers: httpx.Headers, now: datetime) -> float | None:
    """Seconds a 429 response asks to wait, from the headers the adapters' APIs send.

    Args:
        headers: Response headers.
        now: Current time (UTC).

    Returns:
        ``Retry-After`` if present; else X's ``x-rate-limit-reset`` (Unix time) minus now; else
        Reddit's ``x-ratelimit-reset`` (seconds); else None.
    """
    retry_after = parse_retry_after(headers.get("retry-after"), now)
    if retry_after is not None:
        return retry_after
    for name, is_epoch in (("x-rate-limit-reset", True), ("x-ratelimit-reset", False)):
        try:
            value = float(headers[name])
        except (KeyError, ValueError):
            continue
        seconds = value - now.timestamp() if is_epoch else value
        if math.isfinite(seconds):
            return max(0.0, seconds)
    return None


class _TransientError(Exception):
    """One attempt failed in a way another attempt may not (timeout, 5xx, short 429)."""

    def __init__(self, detail: str, *, retry_after: float | None = None, rate_limited: bool = False) -> None:
        self.detail = detail
        self.retry_after = retry_after
        self.rate_limited = rate_limited
        super().__init__(detail)


class HttpFetcher:
    """Retried, timed, counted HTTP requests for one adapter.

    Args:
        adapter: Adapter name, the ``adapter`` metric label and log prefix.
        settings: Timeouts, attempts, backoff and the Retry-After cap.
        client: The httpx client to send with (shared between adapters is fine); by default
            one is made and closed by :meth:`close`.
        key_setting: Environment variable(s) of the API's key, named in 401/403 errors.
        metrics: Where requests and retries are counted.
        sleep: Waits between attempts (``time.sleep``; tests pass a recorder).
        now: Current UTC time, for HTTP-date ``Retry-After`` values.
    """

    def __init__(
        self,
        adapter: str,
        settings: HttpSettings,
        *,
        client: httpx.Client | None = None,
        key_setting: str | None = None,
        metrics: AdapterMetrics | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.adapter = adapter
        self._settings = settings
        self._owns_client = client is None
        self._client = client if client is not None else new_http_client(settings)
        self._key_setting = key_setting
        self._metrics = metrics if metrics is not None else AdapterMetrics()
        self._sleep = sleep
        self._now = now
        self._timeout = timeout_of(settings)
        self._backoff = wait_exponential_jitter(
            initial=settings.backoff_initial_s, max=settings.backoff_max_s, jitter=settings.backoff_jitter_s
        )

    def get(
        self, url: str, *, params: QueryParams | None = None, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """``GET url``, retried as the module describes; returns a 2xx response.

        Args:
            url: Absolute URL without the query string.
            params: Query parameters.
            headers: Extra headers (authorisation, a User-Agent of the API's own).

        Returns:
            The 2xx response, body read.

        Raises:
            UpstreamUnavailableError: Timeouts, connection errors or 5xx on every attempt.
            RateLimitedError: HTTP 429 on every attempt, or asking for more than the cap.
            UpstreamAuthError: HTTP 401 or 403.
            UpstreamRejectedError: Any other non-2xx status.
        """
        return self.request("GET", url, params=params, headers=headers)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send ``method url`` with httpx keyword arguments (``params``, ``data``, ``auth``...).

        Args:
            method: HTTP method.
            url: Absolute URL.
            **kwargs: Passed to :meth:`httpx.Client.request`.

        Returns:
            The 2xx response, body read.

        Raises:
            UpstreamUnavailableError: See :meth:`get`; so do the other errors listed there.
        """
        endpoint = endpoint_of(method, url)
        retrying = Retrying(
            stop=stop_after_attempt(self._settings.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_TransientError),
            sleep=self._sleep,
            before_sleep=lambda state: self._before_sleep(endpoint, state),
            reraise=True,
        )
        try:
            return retrying(self._attempt, method, url, endpoint, kwargs)
        except _TransientError as err:
            attempts = int(retrying.statistics.get("attempt_number", self._settings.max_attempts))
            if err.rate_limited:
                msg = f"{endpoint} still rate-limited after {attempts} attempts ({err.detail})"
                raise RateLimitedError(
                    msg, endpoint=endpoint, attempts=attempts, retry_after_s=err.retry_after
                ) from err
            msg = f"{endpoint} unavailable after {attempts} attempts: {err.detail}"
            raise UpstreamUnavailableError(msg, endpoint=endpoint, attempts=attempts) from err

    def close(self) -> None:
        """Close the httpx client if this fetcher made it."""
        if self._owns_client:
            self._client.close()

    def _attempt(self, method: str, url: str, endpoint: str, kwargs: dict[str, Any]) -> httpx.Response:
        try:
            response = self._client.request(method, url, timeout=self._timeout, **kwargs)
        except httpx.TimeoutException as err:
            self._count("timeout")
            msg = (
                f"timed out ({type(err).__name__}, limit {self._timeout.read}s read / {self._timeout.connect}s connect)"
            )
            raise _TransientError(msg) from err
        except (httpx.NetworkError, httpx.RemoteProtocolError) as err:
            self._count("transport_error")
            msg = f"{type(err).__name__}: {err}"
            raise _TransientError(msg) from err
        except httpx.HTTPError as err:
            self._count("transport_error")
            msg = f"{endpoint} cannot be requested: {type(err).__name__}: {err}"
            raise UpstreamUnavailableError(msg, endpoint=endpoint, attempts=1) from err
        return self._checked(response, endpoint)

    def _checked(self, response: httpx.Response, endpoint: str) -> httpx.Response:
        status = response.status_code
        label = f"HTTP {status} {response.reason_phrase}".rstrip()
        if status == 429:
            self._count("rate_limited")
            wait = rate_limit_wait(response.headers, self._now())
            if wait is not None and wait > self._settings.retry_after_max_s:
                msg = (
                    f"{endpoint} is rate-limited ({label}) and asks to wait {wait:.0f}s, "
                    f"more than the {self._settings.retry_after_max_s:g}s cap; deferring"
                )
                raise RateLimitedError(msg, endpoint=endpoint, attempts=1, retry_after_s=wait)
            raise _TransientError(label, retry_after=wait, rate_limited=True)
        if status == 408 or status >= 500:
            self._count("server_error")
            raise _TransientError(f"{label}: {snippet(response.content)}")
        if not 200 <= status < 300:
            self._count("client_error")
            body = snippet(response.content)
            if status in (401, 403):
                msg = f"{endpoint} refused the request ({label}); {self._auth_hint()}: {body}"
                raise UpstreamAuthError(msg, endpoint=endpoint, status_code=status)
            msg = f"{endpoint} rejected the request ({label}), not retried: {body}"
            raise UpstreamRejectedError(msg, endpoint=endpoint, status_code=status)
        self._count("ok")
        return response

    def _auth_hint(self) -> str:
        if self._key_setting:
            return f"check the key setting {self._key_setting}"
        return f"this API needs no key: check {env_var('http', 'user_agent')} and whether this host is blocked"

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _TransientError) and error.retry_after is not None:
            return min(error.retry_after, self._settings.retry_after_max_s)
        return float(self._backoff(state))

    def _before_sleep(self, endpoint: str, state: RetryCallState) -> None:
        self._metrics.retries.labels(self.adapter).inc()
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        logger.warning(
            "%s: %s failed (%s); attempt %d of %d in %.2fs",
            self.adapter,
            endpoint,
            error,
            state.attempt_number + 1,
            self._settings.max_attempts,
            wait,
        )

    def _count(self, outcome: str) -> None:
        self._metrics.requests.labels(self.adapter, outcome).inc()
