"""Turn raw message bytes into a validated event, or a dead letter that says why not.

Decoding never raises on bad input and never drops it: the caller gets either the event or a
:class:`~chainwatch.schemas.events.DeadLetter` carrying the original bytes and the reason.
Checks that need state (unknown entities, duplicates, far-future timestamps) belong to the
ingestion layer, which builds its dead letters with :func:`dead_letter`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError

from chainwatch.schemas.events import DeadLetter, DeadLetterReason, Event
from chainwatch.schemas.topics import TopicSpec

#: Largest payload accepted on any topic; larger ones go to the dead-letter topic.
MAX_PAYLOAD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Decoded:
    """A successfully decoded event."""

    event: Event


def dead_letter(
    spec: TopicSpec,
    payload: bytes,
    reason: DeadLetterReason,
    detail: str,
    *,
    source: str,
    key: str | None = None,
    now: datetime | None = None,
) -> DeadLetter:
    """Build the dead-letter envelope of ``payload`` for ``spec``'s topic."""
    return DeadLetter(
        topic=spec.name,
        source=source,
        reason=reason,
        detail=detail[:4000],
        payload_b64=base64.b64encode(payload).decode("ascii"),
        key=key,
        received_at=now or datetime.now(UTC),
    )


def _reason_of(err: ValidationError) -> DeadLetterReason:
    for problem in err.errors(include_url=False):
        if problem["type"] == "finite_number":
            return "non_finite_number"
        if problem["type"] == "json_invalid":
            return "invalid_json"
    return "schema_violation"


def decode_event(
    spec: TopicSpec,
    payload: bytes,
    *,
    source: str,
    key: str | None = None,
    now: datetime | None = None,
) -> Decoded | DeadLetter:
    """Validate ``payload`` against ``spec``'s model.

    Args:
        spec: The topic the payload was meant for.
        payload: The raw message bytes (UTF-8 JSON).
        source: Who delivered the bytes, recorded on a dead letter.
        key: The message key, kept on a dead letter.
        now: Clock for the dead letter's ``received_at`` (tests pass a fixed one).

    Returns:
        The decoded event, or a dead letter with the reason and the original bytes.
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        detail = f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}"
        return dead_letter(spec, payload, "oversize", detail, source=source, key=key, now=now)
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError as err:
        return dead_letter(spec, payload, "bad_encoding", f"not UTF-8: {err}", source=source, key=key, now=now)
    try:
        return Decoded(spec.model.model_validate_json(payload))
    except ValidationError as err:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in problem['loc']) or '<root>'}: {problem['msg']}"
            for problem in err.errors(include_url=False)
        )
        return dead_letter(spec, payload, _reason_of(err), detail, source=source, key=key, now=now)
