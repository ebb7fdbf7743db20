"""Bytewax dataflows; each module has ``build_flow(settings, *, source=None, sink=None)``."""
