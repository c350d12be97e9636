import KlaxonCore
import KlaxonRules
import Metrics

/// The engine's counters. Created once per engine; tests read them through an injected
/// metrics factory.
struct EngineMetrics: Sendable {
    private let openIncidents = Gauge(label: "klaxon_incidents_open")
    private let dedupeSuppressed = Counter(label: "klaxon_dedupe_suppressed_total")
    private let stormSuppressed = Counter(label: "klaxon_storm_suppressed_total")
    private let storeErrors = Counter(label: "klaxon_store_errors_total")
    /// By source kind and status, made once: making a counter looks it up in the registry.
    private let received: [AlertSource.Kind: [AlertStatus: Counter]] = Dictionary(
        uniqueKeysWithValues: AlertSource.Kind.allCases.map { kind in
            (
                kind,
                Dictionary(
                    uniqueKeysWithValues: AlertStatus.allCases.map { status in
                        (
                            status,
                            Counter(label: "klaxon_alerts_received_total", dimensions: [("source", kind.rawValue), ("status", status.rawValue)])
                        )
                    }
                )
            )
        }
    )

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

    func unrouted(_ plans: [AlertPlan]) {
        for plan in plans {
            Counter(
                label: "klaxon_alerts_unrouted_total",
                dimensions: [("source", plan.alert.source.kind.rawValue), ("status", plan.alert.status.rawValue)]
            )
            .increment()
        }
    }

    func alertsReceived(_ alerts: [Alert]) {
        guard let first = alerts.first else { return }
        if alerts.allSatisfy({ $0.source.kind == first.source.kind && $0.status == first.status }) {
            received[first.source.kind]?[first.status]?.increment(by: alerts.count)
            return
        }
        for alert in alerts { received[alert.source.kind]?[alert.status]?.increment() }
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
