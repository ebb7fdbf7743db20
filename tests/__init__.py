"""Chainwatch test suite, in tiers by folder."""
