"""The ``facility_weather`` feature flow (see :mod:`streaming.flows.features_common` for its shape).

Run it with ``chainwatch stream run --flow facility_weather``.
"""

from streaming.flows.features_common import flow_factory

VIEW = "facility_weather"

build_flow = flow_factory(VIEW)
