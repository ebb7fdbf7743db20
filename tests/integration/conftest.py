"""Fixtures of the integration tier: the real services of the local ``services`` profile.

The session fixture :func:`services_settings` builds the settings from the environment (the
Makefile exports ``deploy/local/services.env``) and waits for every service with the project's
own readiness code. When they are not reachable, a CI run (``CI`` set) fails loudly; a local run
skips with a hint to start them.
"""

from __future__ import annotations

import os
import re
import uuid
from typing import NoReturn

import pytest

from chainwatch.errors import ConfigError, DependencyUnavailableError
from chainwatch.readiness import wait_for_all
from chainwatch.settings import Profile, Settings, load_settings

#: How long a local (non-CI) run waits for services before skipping: they are either up
#: already (``make up`` waited for them) or not started at all.
LOCAL_WAIT_S = 10.0
HINT = "start them with `make up` (or run `make test-integration`)"


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"integration services unavailable in CI: {reason}", pytrace=False)
    pytest.skip(f"{reason}; {HINT}")


@pytest.fixture(scope="session")
def services_settings() -> Settings:
    """Settings of the services profile, once every service answers."""
    try:
        settings = load_settings()
    except ConfigError as err:
        _unavailable(f"the services profile's settings are invalid: {err}")
    if settings.profile is not Profile.SERVICES:
        _unavailable("CHAINWATCH_PROFILE is not 'services' (export deploy/local/services.env)")
    timeout = None if os.environ.get("CI") else min(settings.readiness_timeout_s, LOCAL_WAIT_S)
    try:
        wait_for_all(settings, timeout_s=timeout)
    except DependencyUnavailableError as err:
        _unavailable(f"services not reachable:\n{err}")
    return settings


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """A name no other test (or earlier run) uses: ``cw-test-<test>-<random>``, lower case."""
    test = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40]
    return f"cw-test-{test}-{uuid.uuid4().hex[:10]}"
