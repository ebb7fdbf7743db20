"""The ``vehicle_status`` feature flow (see :mod:`streaming.flows.features_common` for its shape).

Run it with ``chainwatch stream run --flow vehicle_status``.
"""

from streaming.flows.features_common import flow_factory

VIEW = "vehicle_status"

build_flow = flow_factory(VIEW)
