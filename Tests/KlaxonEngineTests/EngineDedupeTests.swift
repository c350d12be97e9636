import Foundation
import KlaxonCore
import KlaxonEngine
import Testing

@Suite("Incident engine: dedupe, resolve, ack")
struct EngineDedupeTests {
    @Test(arguments: StoreKind.allCases) func firingAlertOpensIncidentAndCallsFirstStep(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        let summary = try await harness.ingest(dbAlert())
        #expect(summary.opened.count == 1)
        #expect(try await harness.engine.runDueSteps() == 1)
        let request = try #require(harness.provider.requests.first)
        #expect(harness.provider.requests.count == 1)
        #expect(request.recipients.map(\.phone) == ["+8613700000001", "+8613700000002"])
        #expect(request.prompt == .text("MySQLDown on db-1"))
        #expect(request.params == ["db-1", "1"])
        #expect(request.priority == 2)
        #expect(CallID.isValid(request.callID))

        let detail = try await harness.detail(summary.opened[0])
        #expect(detail.incident.state == .open)
        #expect(detail.incident.key == "db|" + dbAlert().fingerprint)
        #expect(detail.calls.map(\.state) == [.accepted, .accepted])
        #expect(detail.calls.map(\.vendorCallID) == ["v-alice", "v-bob"])
        #expect(detail.steps.map(\.state) == [.done, .pending])
        #expect(detail.events.map(\.kind) == ["opened", "step_fired", "call_placed", "call_placed"])
    }

    @Test(arguments: StoreKind.allCases) func sameAlertAgainPlacesNoSecondCall(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        let first = try await harness.ingest(dbAlert())
        try await harness.engine.runDueSteps()
        let again = try await harness.ingest(dbAlert())
        #expect(again.opened.isEmpty)
        #expect(again.deduplicated == 1)
        #expect(again.updated == [first.opened[0]])
        #expect(try await harness.engine.runDueSteps() == 0)
        #expect(harness.provider.requests.count == 1)
        let detail = try await harness.detail(first.opened[0])
        #expect(detail.incident.count == 2)
        #expect(detail.steps.count == 2)
    }

    @Test(arguments: StoreKind.allCases) func alertmanagerGroupKeyCollapsesGroupChangesAndReplicas(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        let group = "{}/{team=\"db\"}:{alertname=\"MySQLDown\"}"
        let first = try await harness.ingest(dbAlert("db-1", groupKey: group))
        // A second replica posts the same; the group then grows by one alert.
        _ = try await harness.ingest(dbAlert("db-1", groupKey: group))
        let grown = try await harness.ingest(dbAlert("db-1", groupKey: group), dbAlert("db-2", groupKey: group))
        #expect(grown.opened.isEmpty)
        try await harness.engine.runDueSteps()
        #expect(harness.provider.requests.count == 1)
        let detail = try await harness.detail(first.opened[0])
        #expect(detail.alerts.count == 2)
        #expect(detail.incident.count == 4)

        // One of two resolved: still open; both resolved: resolved, step 2 cancelled.
        let half = try await harness.ingest(dbAlert("db-1", status: .resolved, groupKey: group), dbAlert("db-2", groupKey: group))
        #expect(half.resolved.isEmpty)
        let all = try await harness.ingest(dbAlert("db-1", status: .resolved, groupKey: group), dbAlert("db-2", status: .resolved, groupKey: group))
        #expect(all.resolved == [first.opened[0]])
        #expect(try await harness.advance(.seconds(3600)) == 0)
        #expect(harness.provider.requests.count == 1)
        let resolved = try await harness.detail(first.opened[0])
        #expect(resolved.incident.state == .resolved)
        #expect(resolved.steps.map(\.state) == [.done, .cancelled])
    }

    @Test(arguments: StoreKind.allCases) func oneBatchCanOpenJoinResolveAndOpenAgain(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        let group = "{}:{team=\"db\"}"
        let summary = try await harness.ingest(
            dbAlert("db-1", groupKey: group),
            dbAlert("db-2", groupKey: group),
            dbAlert("db-3", groupKey: group),
            dbAlert("db-1", status: .resolved, groupKey: group),
            dbAlert("db-2", status: .resolved, groupKey: group),
            dbAlert("db-3", status: .resolved, groupKey: group),
            dbAlert("db-1", groupKey: group)
        )
        #expect(summary.opened.count == 2)
        #expect(summary.resolved == [summary.opened[0]])
        let first = try await harness.detail(summary.opened[0])
        #expect(first.incident.state == .resolved)
        #expect(first.incident.count == 3)
        #expect(first.alerts.map(\.status) == [.resolved, .resolved, .resolved])
        #expect(first.events.map(\.kind) == ["opened", "alert_joined", "alert_resolved", "alert_resolved", "alert_resolved", "resolved"])
        #expect(first.events[1].detail.hasPrefix("2 alerts joined: "))
        let second = try await harness.detail(summary.opened[1])
        #expect(second.incident.state == .open)
        #expect(second.alerts.map(\.labels["instance"]) == ["db-1"])
        try await harness.expectNoDanglingReferences()
    }

    /// Alertmanager lists a group's alerts by their labels, not their status: when the only
    /// firing member is replaced (a pod rescheduled), one notification says the old one
    /// resolved before it says the new one fires. The incident goes on, and nobody is
    /// called again.
    @Test(arguments: StoreKind.allCases) func aGroupWhoseMemberIsReplacedInOneNotificationStaysOneIncident(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        let group = "{}/{team=\"db\"}:{alertname=\"MySQLDown\"}"
        let first = try await harness.ingest(dbAlert("db-1", groupKey: group))
        #expect(try await harness.engine.runDueSteps() == 1)
        let swap = try await harness.ingest(dbAlert("db-1", status: .resolved, groupKey: group), dbAlert("db-2", groupKey: group))
        #expect(swap.resolved.isEmpty)
        #expect(swap.opened.isEmpty)
        #expect(try await harness.engine.runDueSteps() == 0)
        #expect(harness.provider.requests.count == 1)
        let detail = try await harness.detail(first.opened[0])
        #expect(detail.incident.state == .open)
        #expect(detail.alerts.map(\.status) == [.resolved, .firing])
        // When the new member resolves too, the incident resolves.
        #expect(try await harness.ingest(dbAlert("db-2", status: .resolved, groupKey: group)).resolved == first.opened)
    }

    /// A member that had resolved fires again in the notification that says the last firing
    /// one resolved, listed after it: the group still fires, so the incident goes on
    /// without a new call, as when the two are listed the other way round.
    @Test(arguments: StoreKind.allCases, [false, true])
    func aMemberFiringAgainBesideTheLastRecoveryKeepsTheIncident(on kind: StoreKind, firingFirst: Bool) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        let group = "{}/{team=\"db\"}:{alertname=\"MySQLDown\"}"
        let first = try await harness.ingest(dbAlert("db-1", groupKey: group), dbAlert("db-2", groupKey: group))
        #expect(try await harness.engine.runDueSteps() == 1)
        _ = try await harness.ingest(dbAlert("db-1", groupKey: group), dbAlert("db-2", status: .resolved, groupKey: group))
        let flap = [dbAlert("db-1", status: .resolved, groupKey: group), dbAlert("db-2", groupKey: group)]
        let summary = try await harness.engine.ingest(firingFirst ? flap.reversed() : flap)
        #expect(summary.resolved.isEmpty && summary.opened.isEmpty)
        #expect(try await harness.engine.runDueSteps() == 0)
        #expect(harness.provider.requests.count == 1)
        let detail = try await harness.detail(first.opened[0])
        #expect(detail.incident.state == .open)
        #expect(detail.alerts.map(\.status) == [.resolved, .firing])
        #expect(detail.steps.map(\.state) == [.done, .pending])
    }

    /// A NUL (JSON's `\u0000`) in a fingerprint or a group key is kept whole: cut at the
    /// NUL when read back, the key written again by a repeat no longer matched, and the
    /// next repeat opened a second incident (a second page); the recovery did not resolve.
    @Test(arguments: StoreKind.allCases) func aNULInAKeyOrFingerprintDedupesAndResolves(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        func alert(_ status: AlertStatus, groupKey: String?) -> Alert {
            Alert(status: status, labels: ["alertname": "MySQLDown", "team": "db"], fingerprint: "fp\u{0}1", groupKey: groupKey)
        }
        for groupKey in ["{}:{x=\"a\u{0}b\"}", nil] {
            let first = try await harness.ingest(alert(.firing, groupKey: groupKey))
            #expect(first.opened.count == 1)
            for _ in 0..<2 {
                let again = try await harness.ingest(alert(.firing, groupKey: groupKey))
                #expect(again.opened.isEmpty && again.deduplicated == 1)
            }
            #expect(try await harness.ingest(alert(.resolved, groupKey: groupKey)).resolved == first.opened)
        }
    }

    /// Alertmanager cuts a notification to its receiver's `max_alerts` before it works out
    /// the status, so the alerts it left out may still fire: a cut notification whose shown
    /// alerts all resolved keeps the incident open (and ringing); a whole one closes it.
    @Test(arguments: StoreKind.allCases) func aNotificationThatLeftAlertsOutResolvesNoIncident(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        let group = "{}/{team=\"db\"}:{alertname=\"MySQLDown\"}"
        let first = try await harness.ingest(dbAlert("db-1", groupKey: group))
        #expect(try await harness.engine.runDueSteps() == 1)
        let cut = try await harness.engine.ingest([dbAlert("db-1", status: .resolved, groupKey: group)], leftOut: 3)
        #expect(cut.resolved.isEmpty)
        #expect(try await harness.engine.ingest([dbAlert("db-1", status: .resolved, groupKey: group)], leftOut: 3).resolved.isEmpty)
        var detail = try await harness.detail(first.opened[0])
        #expect(detail.incident.state == .open)
        #expect(detail.alerts.map(\.status) == [.resolved])
        #expect(detail.events.filter { $0.kind == "kept_open" }.count == 1)
        #expect(detail.events.last?.detail.contains("left out 3 alerts (max_alerts) that may still fire") == true, "once, not at each repeat")
        // The escalation goes on: the next step still rings.
        #expect(try await harness.advance(.seconds(601)) == 1)

        let whole = try await harness.ingest(dbAlert("db-1", status: .resolved, groupKey: group))
        #expect(whole.resolved == first.opened)
        detail = try await harness.detail(first.opened[0])
        #expect(detail.incident.state == .resolved)
        #expect(detail.events.last?.kind == "resolved")
    }

    /// An incident kept open by a cut notification has no alert firing; when the group fires
    /// again, after its chain has run out, that is a new outage and rings a new chain, as a
    /// resolve and a reopen would: also when the notification lists a repeat of the old
    /// member's recovery before the new member. A chain still running is replaced, not doubled.
    @Test(arguments: StoreKind.allCases, [false, true])
    func aKeptOpenIncidentRingsAgainWhenItsGroupFiresAgain(on kind: StoreKind, repeatedRecoveryFirst: Bool) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        let group = "{}/{team=\"db\"}:{alertname=\"MySQLDown\"}"
        let first = try await harness.ingest(dbAlert("db-1", groupKey: group))
        #expect(try await harness.engine.runDueSteps() == 1)
        _ = try await harness.engine.ingest([dbAlert("db-1", status: .resolved, groupKey: group)], leftOut: 3)
        #expect(try await harness.advance(.seconds(601)) == 1)
        #expect(harness.provider.calledNames == ["alice", "bob", "carol"])

        // Days later the group fires again, with a new member and the old one, or after a
        // repeat of the old one's recovery.
        _ = try await harness.advance(.seconds(86_400))
        let old = dbAlert("db-1", status: repeatedRecoveryFirst ? .resolved : .firing, groupKey: group)
        let again = try await harness.engine.ingest(
            repeatedRecoveryFirst ? [old, dbAlert("db-2", groupKey: group)] : [dbAlert("db-2", groupKey: group), old]
        )
        #expect(again.opened == first.opened && again.resolved.isEmpty)
        #expect(try await harness.engine.runDueSteps() == 1)
        #expect(harness.provider.calledNames == ["alice", "bob", "carol", "alice", "bob"])
        var detail = try await harness.detail(first.opened[0])
        #expect(detail.incident.state == .open)
        #expect(detail.events.filter { $0.kind == "reopened" }.count == 1)
        #expect(detail.steps.map(\.state) == [.done, .done, .done, .pending])

        // Kept open again with its second step pending: firing again replaces that chain.
        _ = try await harness.engine.ingest(
            [dbAlert("db-1", status: .resolved, groupKey: group), dbAlert("db-2", status: .resolved, groupKey: group)],
            leftOut: 1
        )
        _ = try await harness.ingest(dbAlert("db-1", groupKey: group))
        #expect(try await harness.engine.runDueSteps() == 1)
        #expect(try await harness.advance(.seconds(601)) == 1)
        #expect(harness.provider.calledNames == ["alice", "bob", "carol", "alice", "bob", "alice", "bob", "carol"])
        detail = try await harness.detail(first.opened[0])
        #expect(detail.steps.filter { $0.state == .done }.count == 5)
        #expect(detail.steps.filter { $0.state == .cancelled }.map(\.step) == [2], "the second chain's step 2")
    }

    /// A reload that drops the route of an open incident (or its severity) still lets the
    /// recovery through: dropped, it would leave the incident ringing.
    @Test(arguments: StoreKind.allCases) func aRecoveryOnARouteDroppedSinceResolvesItsIncident(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        #expect(try await harness.engine.runDueSteps() == 1)
        try harness.reload(engineRules + "\n    drop: true\n")
        #expect(try await harness.ingest(dbAlert("db-2")).dropped == 1)
        #expect(try await harness.ingest(dbAlert(status: .resolved)).resolved == opened.opened)
        #expect(try await harness.advance(.seconds(601)) == 0)
        #expect(harness.provider.calledNames == ["alice", "bob"])
    }

    @Test(arguments: StoreKind.allCases) func resolvedBeforeSecondStepCancelsIt(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        try await harness.engine.runDueSteps()
        _ = try await harness.ingest(dbAlert(status: .resolved))
        #expect(try await harness.advance(.seconds(601)) == 0)
        #expect(harness.provider.calledNames == ["alice", "bob"])
        #expect(try await harness.detail(opened.opened[0]).incident.state == .resolved)
    }

    @Test(arguments: StoreKind.allCases) func sameKeyAfterResolveOpensNewIncident(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        let first = try await harness.ingest(dbAlert())
        _ = try await harness.ingest(dbAlert(status: .resolved))
        let second = try await harness.ingest(dbAlert())
        #expect(second.opened.count == 1)
        #expect(second.opened != first.opened)
    }

    @Test(arguments: StoreKind.allCases) func resolvedAlertWithoutIncidentIsIgnored(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        let summary = try await harness.ingest(dbAlert(status: .resolved))
        #expect(summary.ignored == 1)
        #expect(try await harness.engine.incidents(.all).isEmpty)
    }

    @Test(arguments: StoreKind.allCases) func ackStopsEscalation(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        try await harness.engine.runDueSteps()
        let acked = try await harness.engine.ack(incidentID: opened.opened[0], by: "alice")
        #expect(acked.state == .acked)
        #expect(acked.ackedBy == "alice")
        #expect(try await harness.advance(.seconds(3600)) == 0)
        #expect(harness.provider.calledNames == ["alice", "bob"])
        // Acking again changes nothing; the alert repeating joins the acked incident.
        #expect(try await harness.engine.ack(incidentID: opened.opened[0], by: "bob").ackedBy == "alice")
        #expect(try await harness.ingest(dbAlert()).deduplicated == 1)
        let detail = try await harness.detail(opened.opened[0])
        #expect(detail.events.last?.kind == "acked")
        #expect(detail.steps.map(\.state) == [.done, .cancelled])
    }

    @Test(arguments: StoreKind.allCases) func ackOfUnknownOrResolvedIncidentIsRefused(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        await #expect(throws: EngineError.notFound("no incident 99")) { try await harness.engine.ack(incidentID: 99, by: "x") }
        let opened = try await harness.ingest(dbAlert())
        _ = try await harness.engine.resolve(incidentID: opened.opened[0], by: "alice")
        await #expect(throws: EngineError.conflict("incident \(opened.opened[0]) is already resolved")) {
            try await harness.engine.ack(incidentID: opened.opened[0], by: "x")
        }
    }

    /// What a reload checks for stranded incidents: every unresolved one counted by route,
    /// ten ids named, without reading the incidents themselves.
    @Test(arguments: StoreKind.allCases) func activeIncidentsAreCountedByRoute(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        var ids: [Int64] = []
        for instance in 1...13 { ids += try await harness.ingest(dbAlert("db-\(instance)")).opened }
        _ = try await harness.engine.resolve(incidentID: ids[0], by: "alice")
        _ = try await harness.engine.ack(incidentID: ids[1], by: "alice")
        #expect(try await harness.engine.activeIncidentsByRoute() == ["db": RouteIncidents(count: 12, ids: Array(ids[1...10]))])
    }
}

@Suite("Incident engine: concurrent webhooks")
struct EngineConcurrencyTests {
    @Test(arguments: StoreKind.allCases) func concurrentBatchesShareTransactionsAndDedupeAcrossThem(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        // 50 replicas post the same alert at once, and 50 distinct alerts arrive with them.
        let summaries = try await withThrowingTaskGroup(of: IngestSummary.self) { group in
            for index in 0..<100 {
                group.addTask { try await harness.engine.ingest([dbAlert(index.isMultiple(of: 2) ? "db-same" : "db-\(index)")]) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(summaries.map(\.opened.count).reduce(0, +) == 51)
        #expect(summaries.map(\.deduplicated).reduce(0, +) == 49)
        #expect(try await harness.engine.incidents(.open).count == 51)
        #expect(try await harness.engine.runDueSteps() == 51)
        #expect(harness.provider.requests.count == 51)
        try await harness.expectNoDanglingReferences()
    }
}

/// ``severityChainRules``' people, voice and chains, with a route that takes only critical
/// alerts and, with `catchAll`, one after it for the rest.
private func pageRules(catchAll: Bool) -> String {
    let people = severityChainRules.components(separatedBy: "severities:")[0]
    return people + """
        severities:
          levels:
            critical: {priority: 1}
            warning: {priority: 5}
        routes:
          - name: db-page
            match: {team: db}
            severities: [critical]
            voice: down
            providers: [sim]
            escalation: primary
        """ + (catchAll ? "\n  - {name: rest, voice: down, providers: [sim], escalation: primary}\n" : "\n")
}

/// A recovery often names no severity, or another than its problem did: Nagios' and
/// Icinga's `… is OK` has none. It must still resolve the incident its problem opened on a
/// route that takes only `critical`, or that incident rings on.
@Suite("Incident engine: a recovery without its problem's severity")
struct RecoverySeverityTests {
    @Test(arguments: StoreKind.allCases, [true, false])
    func aRecoveryWithoutASeverityResolvesTheIncidentItsProblemOpened(on kind: StoreKind, catchAll: Bool) async throws {
        let harness = try await EngineHarness.make(pageRules(catchAll: catchAll), on: kind)
        defer { Task { try? await harness.close() } }
        var problem = dbAlert("db-1")
        problem.severity = "critical"
        let opened = try await harness.ingest(problem)
        #expect(opened.opened.count == 1)
        #expect(try await harness.engine.runDueSteps() == 1)

        // Another alert's recovery resolves nothing; this one's does, and the next level
        // never rings.
        let other = try await harness.ingest(dbAlert("db-2", status: .resolved))
        #expect(other.resolved.isEmpty)
        let recovered = try await harness.ingest(dbAlert("db-1", status: .resolved))
        #expect(recovered.resolved == opened.opened)
        #expect(recovered.ignored == 0 && recovered.unrouted == 0)
        #expect(try await harness.detail(opened.opened[0]).incident.state == .resolved)
        #expect(try await harness.advance(.seconds(600)) == 0)
        #expect(harness.provider.calledNames == ["alice", "bob"])
    }
}
