"""Shared steps of the ``parse_*`` functions: JSON decoding and shape checks with clear errors.

Each API's documented response shape is a small pydantic model (lax, unknown keys ignored:
APIs add fields); what does not fit becomes a
:class:`~streaming.adapters.errors.MalformedResponseError` that says which API, what is
wrong, and how the body starts (an HTML error page or GDELT's plain-text notices then explain
themselves), and keeps the bytes for the dead-letter topic.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from chainwatch.errors import ChainwatchError
from streaming.adapters.errors import MalformedResponseError
from streaming.adapters.text import snippet

M = TypeVar("M", bound=BaseModel)


class Shape(BaseModel):
    """Base of the response-shape models: lax types, unknown keys ignored, frozen."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


def as_bytes(body: bytes | str) -> bytes:
    """``body`` as UTF-8 bytes."""
    return body if isinstance(body, bytes) else body.encode("utf-8")


def summarize(err: ValidationError, limit: int = 3) -> str:
    """The first ``limit`` problems of a validation error on one line: ``loc: message``."""
    problems = [
        f"{'.'.join(str(part) for part in problem['loc']) or '<root>'}: {problem['msg']}"
        for problem in err.errors(include_url=False)
    ]
    more = f" (+{len(problems) - limit} more)" if len(problems) > limit else ""
    return "; ".join(problems[:limit]) + more


def load_json(body: bytes | str, api: str) -> Any:
    """Decode a JSON body, or raise a clear error.

    Args:
        body: The response body.
        api: The API's name for the message, e.g. ``"X recent search"``.

    Returns:
        The decoded document.

    Raises:
        MalformedResponseError: Empty, truncated or not JSON (reason ``invalid_json``).
    """
    raw = as_bytes(body)
    if not raw.strip():
        msg = f"{api} response body is empty"
        raise MalformedResponseError(msg, payload=raw, reason="invalid_json")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        msg = f"{api} response is not valid JSON (truncated, or an error page?): {err}; body starts {snippet(raw)!r}"
        raise MalformedResponseError(msg, payload=raw, reason="invalid_json") from err


def validated(model: type[M], data: Any, api: str, *, payload: bytes = b"", what: str = "response") -> M:
    """``data`` checked against a response-shape model, or a clear error.

    Args:
        model: The shape model.
        data: Decoded JSON (or a mapping built from XML).
        api: The API's name for the message.
        payload: Bytes to keep for the dead-letter topic (default: ``data`` as JSON).
        what: What ``data`` is, e.g. ``"response"`` or ``"post 3"``.

    Returns:
        The validated model.

    Raises:
        MalformedResponseError: ``data`` does not have the documented shape.
    """
    try:
        return model.model_validate(data)
    except ValidationError as err:
        msg = f"{api} {what} does not have the documented shape: {summarize(err)}"
        raise MalformedResponseError(msg, payload=payload or to_payload(data)) from err


def item_failure(err: Exception, api: str, what: str, item: Any) -> ChainwatchError:
    """The failure recorded for one unreadable item of an otherwise good body.

    Args:
        err: What reading the item raised: a Chainwatch error, or a ``ValueError`` (a
            pydantic validation error of the event, a bad date).
        api: The API's name.
        what: Which item, e.g. ``"post 3"``.
        item: The raw item, kept as the dead letter's payload.

    Returns:
        ``err`` itself if it is a Chainwatch error, else a :class:`MalformedResponseError`.
    """
    if isinstance(err, ChainwatchError):
        return err
    detail = summarize(err) if isinstance(err, ValidationError) else str(err)
    msg = f"{api} {what} is not a valid event: {detail}"
    return MalformedResponseError(msg, payload=to_payload(item))


def to_payload(data: Any) -> bytes:
    """``data`` as JSON bytes for a dead letter (``repr`` when it is not JSON-serialisable)."""
    try:
        return json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")
    except (TypeError, ValueError):
        return repr(data).encode("utf-8")
