"""Run the benchmarks and record their results: ``python -m benchmarks.run [ID_REGEX ...]``."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from benchmarks.harness import Benchmark, matches, record


def discover() -> list[Benchmark]:
    """Every benchmark of every ``benchmarks/bench_*.py`` module."""
    found: list[Benchmark] = []
    for path in sorted(Path(__file__).parent.glob("bench_*.py")):
        module = importlib.import_module(f"benchmarks.{path.stem}")
        found.extend(module.BENCHMARKS)
    return found


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks, print and record each result."""
    patterns = list(sys.argv[1:] if argv is None else argv)
    selected = [benchmark for benchmark in discover() if matches(benchmark.id, patterns)]
    if not selected:
        print(f"no benchmark matches {patterns}")
        return 1
    for benchmark in selected:
        row = record(benchmark, benchmark.run())
        print(f"{row.id}: {row.measured} {row.unit} (target {row.target})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
