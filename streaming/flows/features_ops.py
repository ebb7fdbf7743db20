"""The ``facility_ops`` feature flow (see :mod:`streaming.flows.features_common` for its shape).

Run it with ``chainwatch stream run --flow facility_ops``.
"""

from streaming.flows.features_common import flow_factory

VIEW = "facility_ops"

build_flow = flow_factory(VIEW)
