import Metrics

/// The engine's counters. Created once per engine; tests read them through an injected
/// metrics factory.
struct EngineMetrics: Sendable {
    private let openIncidents = Gauge(label: "klaxon_incidents_open")
    private let dedupeSuppressed = Counter(label: "klaxon_dedupe_suppressed_total")
    private let stormSuppressed = Counter(label: "klaxon_storm_suppressed_total")
    private let storeErrors = Counter(label: "klaxon_store_errors_total")

    func storeError() {
        storeErrors.increment()
    }

    func open(_ count: Int) {
        openIncidents.record(count)
    }

    func ingested(_ summary: IngestSummary) {
        dedupeSuppressed.increment(by: summary.deduplicated)
        stormSuppressed.increment(by: summary.joinedStorm)
    }

    func alertsReceived(source: String, status: String, count: Int) {
        Counter(label: "klaxon_alerts_received_total", dimensions: [("source", source), ("status", status)]).increment(by: count)
    }

    func stepFired(route: String) {
        Counter(label: "klaxon_escalation_steps_fired_total", dimensions: [("route", route)]).increment()
    }

    func call(provider: String, outcome: String) {
        Counter(label: "klaxon_calls_total", dimensions: [("provider", provider), ("outcome", outcome)]).increment()
    }

    func vendorLatency(provider: String, nanoseconds: Int64) {
        Timer(label: "klaxon_vendor_request_seconds", dimensions: [("provider", provider)]).recordNanoseconds(nanoseconds)
    }
}
