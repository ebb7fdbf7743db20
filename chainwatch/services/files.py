"""Files of the local services: config templates, and reading their logs for error messages."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from string import Template

from chainwatch.errors import ConfigError

#: Log lines quoted in a start error.
LOG_TAIL_LINES = 25
#: What a log line that reports a failure looks like (log4j, Python, Redis, Mosquitto, Postgres).
_ERROR_LINE = re.compile(r"\b(ERROR|FATAL|PANIC|CRITICAL)\b|Exception\b|Error:|# Error|Address already in use")


def render_template(path: Path, values: Mapping[str, object]) -> str:
    """Fill a ``string.Template`` file (``${name}`` placeholders; ``$$`` is a literal ``$``).

    Raises:
        ConfigError: The template is missing or has a placeholder ``values`` lacks.
    """
    try:
        return Template(path.read_text(encoding="utf-8")).substitute({k: str(v) for k, v in values.items()})
    except FileNotFoundError as err:
        msg = f"config template {path} not found"
        raise ConfigError(msg) from err
    except KeyError as err:
        msg = f"config template {path} needs a value for {err.args[0]!r}"
        raise ConfigError(msg) from err


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` unless it already holds exactly that; return whether it wrote."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def tail(path: Path, lines: int = LOG_TAIL_LINES, start: int = 0) -> str:
    """The last ``lines`` lines of a text file from byte offset ``start`` on ('' if none)."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(start, size - 64 * 1024))
            data = handle.read()
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def error_lines(path: Path, start: int = 0, limit: int = 5) -> list[str]:
    """The first ``limit`` lines from byte offset ``start`` on that look like an error."""
    try:
        with path.open("rb") as handle:
            handle.seek(start)
            text = handle.read(4 * 1024 * 1024).decode("utf-8", "replace")
    except OSError:
        return []
    return [line.strip() for line in text.splitlines() if _ERROR_LINE.search(line)][:limit]
