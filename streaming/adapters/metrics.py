"""Prometheus metrics of the live adapters, registered on a registry the caller chooses.

Build one :class:`AdapterMetrics` per process (on ``prometheus_client.REGISTRY`` to expose
them) and share it between pollers; every series is labelled by ``adapter``. Without a
registry a private one is made, so tests and libraries never collide on metric names.

==========================================  =================  ====================================
metric                                      labels             counts
==========================================  =================  ====================================
chainwatch_adapter_requests_total           adapter, outcome   HTTP attempts: ok, timeout,
                                                               transport_error, server_error,
                                                               rate_limited, client_error
chainwatch_adapter_retries_total            adapter            waits before another attempt
chainwatch_adapter_polls_total              adapter, outcome   polls: ok, partial, failed
chainwatch_adapter_failures_total           adapter, reason    see ``streaming.adapters.errors``;
                                                               plus sink, unexpected
chainwatch_adapter_events_emitted_total     adapter            events handed to the sink
chainwatch_adapter_dedup_hits_total         adapter            events skipped as already emitted
chainwatch_adapter_events_stale_total       adapter            events skipped as too old
chainwatch_adapter_last_success_timestamp   adapter            Unix time of the last good poll
==========================================  =================  ====================================
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class AdapterMetrics:
    """The adapters' counters and gauges on one registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        ns = "chainwatch_adapter"
        self.requests = Counter(
            "requests", "HTTP attempts by outcome.", ["adapter", "outcome"], namespace=ns, registry=self.registry
        )
        self.retries = Counter("retries", "Waits before a retry.", ["adapter"], namespace=ns, registry=self.registry)
        self.polls = Counter("polls", "Polls by outcome.", ["adapter", "outcome"], namespace=ns, registry=self.registry)
        self.failures = Counter(
            "failures", "Poll failures by reason.", ["adapter", "reason"], namespace=ns, registry=self.registry
        )
        self.emitted = Counter(
            "events_emitted", "Events handed to the sink.", ["adapter"], namespace=ns, registry=self.registry
        )
        self.dedup_hits = Counter(
            "dedup_hits", "Events skipped as already emitted.", ["adapter"], namespace=ns, registry=self.registry
        )
        self.stale = Counter(
            "events_stale", "Events older than the maximum age.", ["adapter"], namespace=ns, registry=self.registry
        )
        self.last_success = Gauge(
            "last_success_timestamp",
            "Unix time of the last poll that reached the API and parsed its answer.",
            ["adapter"],
            namespace=ns,
            registry=self.registry,
        )

    def value(self, name: str, **labels: str) -> float:
        """The current value of a sample, 0 if it was never touched (for tests and checks).

        Args:
            name: Full sample name, e.g. ``chainwatch_adapter_requests_total``.
            **labels: Its labels, e.g. ``adapter="x", outcome="ok"``.

        Returns:
            The sample's value, or 0.0.
        """
        value = self.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value
