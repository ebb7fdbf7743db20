"""Ownership and tags shared by every object of the repository."""

from __future__ import annotations

OWNER = "ml-platform@chainwatch.dev"
"""Team that owns every object of this repository (the Feast ``owner`` field)."""

TEAM_TAGS: dict[str, str] = {"team": "ml-platform", "system": "chainwatch"}
"""Tags every object carries; objects add their own on top."""


def tags(**extra: str) -> dict[str, str]:
    """The team tags plus ``extra`` (a fresh dict: Feast objects keep a reference)."""
    return {**TEAM_TAGS, **extra}
