"""Settings of the synthetic generators: one frozen, strict model per generator.

Rates are per facility and per hour of event time unless the name says otherwise; a
probability is a number in ``[0, 1]``. Defaults are tuned on the 2013 record so that a big
storm yields dozens of posts and a few articles per hub, a quiet hour a handful of routine
posts, and a noticeable minority of signals is misleading (misses, false alarms, sarcasm,
decoy headlines).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class TextSignalConfig(BaseModel):
    """Settings of the social-post and news-article generator."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(13, ge=0, description="Seed of every random choice.")
    tick_minutes: int = Field(15, ge=1, le=1440, description="Tick length; must divide a day.")
    chatter_per_hour: float = Field(3.0, ge=0, description="Routine posts per hub hour at normal traffic.")
    weather_posts_per_hour: float = Field(14.0, ge=0, description="Weather posts per hub hour at severity 1.")
    disruption_posts_per_hour: float = Field(18.0, ge=0, description="Delay/cancellation posts at stress 1.")
    incident_posts_per_hour: float = Field(5.0, ge=0, description="Posts per hour about an incident under way.")
    false_alarm_posts_per_hour: float = Field(0.3, ge=0, description="Complaints/rumours with nothing behind them.")
    offtopic_posts_per_hour: float = Field(8.0, ge=0, description="Posts about nothing to do with facilities.")
    sarcasm_share: Probability = Field(0.15, description="Complaints phrased with positive words.")
    upbeat_share: Probability = Field(0.1, description="Weather posts that enjoy the weather.")
    reddit_share: Probability = Field(0.25, description="Share of posts on Reddit (else X).")
    attention_shape: float = Field(
        3.0, gt=0, description="Gamma shape of the per facility-day attention multiplier (smaller: burstier)."
    )
    report_probability: Probability = Field(0.8, description="An episode gets an article at all.")
    max_report_lag_minutes: int = Field(90, ge=0, description="Longest delay from episode start to article.")
    followup_hours: float = Field(3.0, gt=0, description="Follow-up article interval while an episode lasts.")
    resume_probability: Probability = Field(0.5, description="An ended episode gets a 'resumed' piece.")
    misattribution_share: Probability = Field(0.1, description="Articles that blame the wrong cause.")
    unexplained_attribution: Probability = Field(
        0.6, description="Calm-weather disruptions that articles pin on a non-weather cause."
    )
    overdue_report_probability: Probability = Field(
        0.15, description="Overdue (mostly diverted) flights reported as incidents."
    )
    injected_incidents_per_day: Probability = Field(
        0.02, description="Chance per facility-day of an incident not in the record."
    )
    offtopic_articles_per_day: float = Field(24.0, ge=0, description="Articles about nothing to do with facilities.")
    decoy_articles_per_day: float = Field(2.0, ge=0, description="Off-topic articles using category words.")

    @field_validator("tick_minutes")
    @classmethod
    def _divides_a_day(cls, value: int) -> int:
        if 1440 % value:
            msg = f"tick_minutes must divide 1440, got {value}"
            raise ValueError(msg)
        return value

    @property
    def tick(self) -> timedelta:
        """The tick length."""
        return timedelta(minutes=self.tick_minutes)

    @property
    def tick_hours(self) -> float:
        """The tick length in hours (rates per hour times this are per tick)."""
        return self.tick_minutes / 60


class TelemetryConfig(BaseModel):
    """Settings of the IoT telemetry simulator."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(13, ge=0, description="Seed of every random choice.")
    interval_seconds: int = Field(300, ge=1, le=3600, description="Seconds between readings of one vehicle.")
    stop_rate: Probability = Field(0.02, description="Share of flights with an unexpected stop mid-route.")
    temperature_excursion_rate: Probability = Field(
        0.03, description="Share of flights whose cargo leaves the 2-8 °C band for a while."
    )
    signal_loss_rate: Probability = Field(0.05, description="Share of flights with a gap in readings.")
    cargo_low_c: float = Field(2.0, ge=-30, le=30, description="Lower bound of the cargo's allowed band.")
    cargo_high_c: float = Field(8.0, ge=-30, le=40, description="Upper bound; the hold is kept mid-band.")
    cargo_humidity_pct: float = Field(55.0, ge=5, le=80, description="Mean relative humidity in the hold.")

    @model_validator(mode="after")
    def _wide_band(self) -> TelemetryConfig:
        if self.cargo_high_c - self.cargo_low_c < 4:
            msg = "the cargo band must be at least 4 °C wide (normal wander stays 1 °C inside it)"
            raise ValueError(msg)
        return self

    @property
    def interval(self) -> timedelta:
        """The time between readings."""
        return timedelta(seconds=self.interval_seconds)
