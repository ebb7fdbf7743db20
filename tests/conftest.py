"""Test tiers: every test is marked by the folder it lives in.

``tests/unit`` (no network), ``tests/data`` (dataset expectations), ``tests/integration``
(real local services), ``tests/model`` and ``tests/e2e``. Select a tier with ``-m``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TIERS = ("unit", "data", "integration", "model", "e2e")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Add the tier marker of each test's folder."""
    root = Path(__file__).parent
    for item in items:
        relative = Path(item.fspath).resolve().relative_to(root)
        tier = relative.parts[0] if len(relative.parts) > 1 else ""
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))
