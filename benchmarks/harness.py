"""A tiny benchmark registry and the ``RESULTS.md`` table it maintains.

Each ``benchmarks/bench_*.py`` module defines ``BENCHMARKS``, a list of :class:`Benchmark`.
A benchmark returns one measured number; the runner writes one row per id into
``benchmarks/RESULTS.md`` (``| id | target | measured | unit | command | date |``), replacing
that id's previous row and keeping every other row. Timings never gate tests: they are
recorded here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = "| id | target | measured | unit | command | date |"
RULE = "|---|---|---|---|---|---|"
_PREAMBLE = (
    "# Benchmark results\n\n"
    "Measured on this project's machine kind (2 cores, 24 GB). Each row is rewritten by its command;\n"
    "`make bench` reruns them all. Targets come from the issues; `-` means tracked without a target.\n\n"
)


@dataclass(frozen=True, slots=True)
class Benchmark:
    """One measurement: an id, its target (text such as ``>= 100000``), unit and function."""

    id: str
    target: str
    unit: str
    run: Callable[[], float]
    command: str


@dataclass(frozen=True, slots=True)
class Row:
    """One row of the results table."""

    id: str
    target: str
    measured: str
    unit: str
    command: str
    date: str

    def render(self) -> str:
        """The markdown line of this row."""
        return f"| {self.id} | {self.target} | {self.measured} | {self.unit} | `{self.command}` | {self.date} |"


def format_measured(value: float) -> str:
    """A plain number with sensible precision (no units, no thousands separators)."""
    if value >= 100:
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.4f}"


def read_rows(path: Path = RESULTS) -> dict[str, Row]:
    """The rows of ``path`` by id (empty when the file does not exist)."""
    if not path.exists():
        return {}
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 6 or cells[0] in ("id", "") or set(cells[0]) <= {"-"}:
            continue
        rows[cells[0]] = Row(cells[0], cells[1], cells[2], cells[3], cells[4].strip("`"), cells[5])
    return rows


def write_rows(rows: dict[str, Row], path: Path = RESULTS) -> None:
    """Write the whole table, rows sorted by id."""
    lines = [HEADER, RULE, *(rows[key].render() for key in sorted(rows))]
    path.write_text(_PREAMBLE + "\n".join(lines) + "\n", encoding="utf-8")


def record(benchmark: Benchmark, measured: float, path: Path = RESULTS) -> Row:
    """Insert or replace ``benchmark``'s row with ``measured`` and today's date."""
    rows = read_rows(path)
    row = Row(
        benchmark.id,
        benchmark.target,
        format_measured(measured),
        benchmark.unit,
        benchmark.command,
        datetime.now(UTC).date().isoformat(),
    )
    rows[benchmark.id] = row
    write_rows(rows, path)
    return row


def matches(benchmark_id: str, patterns: list[str]) -> bool:
    """Whether ``benchmark_id`` is selected by any of ``patterns`` (regexes; none = all)."""
    return not patterns or any(re.search(pattern, benchmark_id) for pattern in patterns)
