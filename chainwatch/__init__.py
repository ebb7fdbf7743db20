"""Chainwatch: real-time supply-chain disruption prediction.

The ``chainwatch`` package is the shared core: typed settings, event schemas, entity ids,
datasets, local service management and the command line. Importing it has no side effects.
"""

__version__ = "0.1.0"
