"""The benchmark results table: one row per id, replaced in place, others kept."""

from __future__ import annotations

from pathlib import Path

from benchmarks.harness import Benchmark, format_measured, matches, read_rows, record


def bench(benchmark_id: str) -> Benchmark:
    return Benchmark(benchmark_id, ">= 10", "events/s", lambda: 1.0, f"make bench {benchmark_id}")


def test_recording_replaces_the_row_of_the_same_id_and_keeps_the_others(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    record(bench("a.rate"), 12.5, results)
    record(bench("b.rate"), 1500.0, results)

    record(bench("a.rate"), 99.0, results)

    rows = read_rows(results)
    assert set(rows) == {"a.rate", "b.rate"}
    assert rows["a.rate"].measured == "99.00"
    assert rows["b.rate"].measured == "1500"
    assert rows["a.rate"].command == "make bench a.rate"
    assert results.read_text().count("| a.rate |") == 1


def test_measured_cells_are_plain_numbers() -> None:
    for value in (0.01234, 3.14159, 123456.7):
        assert float(format_measured(value)) > 0
        assert "," not in format_measured(value)


def test_selection_by_pattern() -> None:
    assert matches("ingest.replay_events_per_s", [])
    assert matches("ingest.replay_events_per_s", ["^ingest"])
    assert not matches("features.backfill_s", ["^ingest"])
