"""The command line: help, settings errors, schema commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainwatch.cli import main


def test_help_lists_the_working_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0

    out = capsys.readouterr().out
    for command in ("services", "demo", "data", "schemas"):
        assert command in out
    assert "CHAINWATCH_PROFILE" in out


def test_an_invalid_setting_stops_with_the_variable_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHAINWATCH_KAFKA__PORT", "0")

    code = main(["schemas", "check"])

    assert code == 2
    assert "CHAINWATCH_KAFKA__PORT" in capsys.readouterr().err


def test_a_missing_secret_in_the_services_profile_stops_the_program(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHAINWATCH_PROFILE", "services")
    monkeypatch.delenv("CHAINWATCH_POSTGRES__PASSWORD", raising=False)
    monkeypatch.setenv("CHAINWATCH_S3__SECRET_ACCESS_KEY", "k")

    assert main(["services", "status"]) == 2
    assert "CHAINWATCH_POSTGRES__PASSWORD" in capsys.readouterr().err


def test_schemas_export_then_check(tmp_path: Path) -> None:
    assert main(["schemas", "export", "--directory", str(tmp_path)]) == 0
    assert main(["schemas", "check", "--directory", str(tmp_path)]) == 0

    (tmp_path / "news.articles.v1.schema.json").unlink()

    assert main(["schemas", "check", "--directory", str(tmp_path)]) == 1


def test_unknown_commands_are_usage_errors() -> None:
    assert main(["no-such-command"]) == 2


@pytest.mark.parametrize("command", ["iot", "bridge"])
def test_mqtt_commands_need_the_services_profile(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHAINWATCH_PROFILE", "local")

    assert main(["ingest", command]) == 2
    assert "services profile" in capsys.readouterr().err


def test_live_commands_say_which_adapter_to_enable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHAINWATCH_PROFILE", "local")

    assert main(["ingest", "social", "--polls", "1"]) == 2
    err = capsys.readouterr().err
    assert "CHAINWATCH_ADAPTERS__X__ENABLED=true" in err
    assert "CHAINWATCH_ADAPTERS__REDDIT__ENABLED=true" in err
