"""The ``facility_text`` feature flow (see :mod:`streaming.flows.features_common` for its shape).

Run it with ``chainwatch stream run --flow facility_text``.
"""

from streaming.flows.features_common import flow_factory

VIEW = "facility_text"

build_flow = flow_factory(VIEW)
