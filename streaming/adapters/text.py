"""Pure text helpers of the adapters: facility detection, search queries and stable ids.

Facility detection is deliberately plain: a facility code matches as a whole word in capitals
(``JFK``, ``#JFK``; not ``jfk`` inside a word, and not ``sea`` for SEA), its name and aliases
match as whole words in any case. It says which facilities a text *mentions*; whether the text
is about a disruption is for the dataflows to judge.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from chainwatch.adapter_settings import FacilityConfig

_TAG = re.compile(r"<[^>]+>")
_HTML_START = re.compile(r"^\s*<(!doctype html|html)\b", re.IGNORECASE)
_HIDDEN_ELEMENTS = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_REGION = re.compile(r"^[A-Za-z]{2}$")
_NO_LANGUAGE = frozenset({"und", "zxx", "mul", "mis"})
#: Query parameters that only track a click; two URLs differing in them are one article.
_TRACKING_PARAMS = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid|cmpid|ocid)$", re.IGNORECASE)


class FacilityMatcher:
    """Finds the facilities a text mentions, by code, name or alias."""

    def __init__(self, facilities: Iterable[FacilityConfig]) -> None:
        self._patterns: list[tuple[str, re.Pattern[str]]] = []
        for facility in facilities:
            words = sorted({facility.name, *facility.aliases}, key=len, reverse=True)
            names = "|".join(re.escape(word) for word in words)
            code = re.escape(facility.facility_id)
            # Codes are matched in capitals only: many are ordinary words in lower case (SEA, DEN).
            pattern = rf"(?<![A-Za-z0-9])(?:#?{code}|(?i:{names}))(?![A-Za-z0-9])"
            self._patterns.append((facility.facility_id, re.compile(pattern)))

    def detect(self, *texts: str | None) -> list[str]:
        """The ids of the facilities mentioned in any of ``texts``, sorted.

        Args:
            *texts: Title, body, summary...; ``None`` is skipped.

        Returns:
            Sorted unique facility ids.
        """
        joined = "\n".join(text for text in texts if text)
        return sorted(facility for facility, pattern in self._patterns if pattern.search(joined))


def quoted(term: str) -> str:
    """A search term as a query token: a phrase in double quotes, a single word as is."""
    return f'"{term}"' if any(char.isspace() or char == "-" for char in term) else term


def any_of(terms: Iterable[str]) -> str:
    """A parenthesised OR group of terms, e.g. ``("ground stop" OR delay)``."""
    unique = list(dict.fromkeys(quoted(term) for term in terms))
    return unique[0] if len(unique) == 1 else "(" + " OR ".join(unique) + ")"


def facility_terms(facilities: Sequence[FacilityConfig]) -> list[str]:
    """Search terms for facilities: each code and alias (full names are rarely written out)."""
    return [term for facility in facilities for term in (facility.facility_id, *facility.aliases)]


def keyword_query(keywords: Sequence[str], facilities: Sequence[FacilityConfig], *, joiner: str = " ") -> str:
    """A query matching any keyword together with any facility term.

    Args:
        keywords: Disruption terms, e.g. ``("ground stop", "delay")``.
        facilities: Facilities whose codes and aliases must co-occur.
        joiner: What ANDs the two groups: a space for X, GDELT and Google News, ``" AND "``
            for Reddit.

    Returns:
        E.g. ``("ground stop" OR delay) (EWR OR JFK OR "JFK Airport")``.
    """
    return f"{any_of(keywords)}{joiner}{any_of(facility_terms(facilities))}"


def canonical_url(url: str) -> str:
    """The URL an article is identified by: lower-case scheme and host, no fragment, no tracking.

    Args:
        url: An absolute URL.

    Returns:
        The canonical form; two links to one article give the same string.
    """
    parts = urlsplit(url.strip())
    query = urlencode([(key, value) for key, value in parse_qsl(parts.query) if not _TRACKING_PARAMS.match(key)])
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, ""))


def stable_id(prefix: str, key: str) -> str:
    """A stable event id from a natural key too long or too free-form to be an id itself.

    Args:
        prefix: The source, e.g. ``gdelt``.
        key: The natural key (a canonical URL, a feed guid).

    Returns:
        ``<prefix>:<first 32 hex digits of the key's SHA-256>``.
    """
    return f"{prefix}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"


def plain_text(markup: str | None) -> str | None:
    """Text of an HTML fragment: tags removed, entities decoded, whitespace collapsed; None if empty."""
    if not markup:
        return None
    text = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", markup))).strip()
    return text or None


def language_tag(value: str | None) -> str | None:
    """A language code as the events carry it (``en``, ``pt-BR``), or None if it names no language.

    Args:
        value: A code from an API: ISO 639 with an optional region in any case. X's
            ``und``/``zxx`` and its ``q..`` codes (hashtags only, media...) name no language.

    Returns:
        ``xx`` or ``xx-YY``, or None.
    """
    if not value:
        return None
    base, _, region = value.strip().replace("_", "-").partition("-")
    base = base.lower()
    if not _LANGUAGE.match(base) or base in _NO_LANGUAGE or (len(base) == 3 and base.startswith("q")):
        return None
    if region:
        return f"{base}-{region.upper()}" if _REGION.match(region) else base
    return base


def snippet(body: bytes | str, limit: int = 160) -> str:
    """The start of a body on one line, for error messages.

    An HTML page (a proxy's error page, a block notice) is reduced to its text, so the
    message says what the page says rather than how its markup starts.

    Args:
        body: A response body.
        limit: Maximum length of the result.

    Returns:
        ``HTML page: <its text>`` for HTML, else the body's start, whitespace collapsed.
    """
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    if _HTML_START.match(text):
        text = "HTML page: " + (plain_text(_HIDDEN_ELEMENTS.sub(" ", text)) or "")
    flat = _SPACE.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
