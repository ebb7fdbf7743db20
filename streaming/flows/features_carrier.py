"""The ``carrier_ops`` feature flow (see :mod:`streaming.flows.features_common` for its shape).

Run it with ``chainwatch stream run --flow carrier_ops``.
"""

from streaming.flows.features_common import flow_factory

VIEW = "carrier_ops"

build_flow = flow_factory(VIEW)
