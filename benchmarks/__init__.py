"""Reproducible performance harnesses; ``python -m benchmarks.run`` records results."""
