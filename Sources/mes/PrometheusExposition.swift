import Collector
import HTTP
import Metrics
import Prometheus

/// Prometheus metrics for a process: swift-metrics bootstrapped onto one registry, and the
/// `/metrics` answer in Prometheus's text format. `mes serve` exposes it beside the app;
/// `mes collect --metrics-address` on a small server of its own.
enum PrometheusExposition {
    /// Bootstraps swift-metrics (once per process) and returns the registry to expose.
    static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets["mes_collector_batch_size"] = MachineDataCollector.batchSizeBuckets
        MetricsSystem.bootstrap(factory)
        return registry
    }

    static func response(_ registry: PrometheusCollectorRegistry) -> HTTPResponse {
        HTTPResponse(contentType: "text/plain; version=0.0.4; charset=utf-8", body: registry.emitToBuffer())
    }
}
