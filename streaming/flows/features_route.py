"""The ``route_history`` feature flow (see :mod:`streaming.flows.features_common` for its shape).

Run it with ``chainwatch stream run --flow route_history``.
"""

from streaming.flows.features_common import flow_factory

VIEW = "route_history"

build_flow = flow_factory(VIEW)
