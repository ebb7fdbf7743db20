"""Chainwatch's Feast feature repository: entities, sources, views and services.

The objects are built from the contract in :mod:`streaming.features.schema`, so the registry
cannot drift from what the dataflows produce. ``repo.py`` is the module the Feast CLI imports
(see ``.feastignore``); Python code applies the same objects with
:func:`streaming.features.store.apply`.
"""
