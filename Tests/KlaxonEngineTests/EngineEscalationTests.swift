import Foundation
import KlaxonCore
import KlaxonProviders
import KlaxonTestSupport
import Synchronization
import Testing

@testable import KlaxonEngine

/// The test route with quiet hours 22:00-08:00 in Shanghai that defer its steps.
let nightQuietHoursRules =
    engineRules + """

            quiet_hours:
              timezone: Asia/Shanghai
              times: ["22:00-08:00"]
              action: defer
        """

@Suite("Incident engine: escalation on an injected clock")
struct EngineEscalationTests {
    @Test(arguments: StoreKind.allCases) func secondStepFiresAtExactlyItsDelay(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        #expect(try await harness.engine.runDueSteps() == 1)
        #expect(try await harness.advance(.seconds(599)) == 0)
        #expect(try await harness.advance(.seconds(1)) == 1)
        #expect(harness.provider.calledNames == ["alice", "bob", "carol"])
        let detail = try await harness.detail(opened.opened[0])
        #expect(detail.steps.map(\.dueAt) == [harness.start, harness.start.addingTimeInterval(600)])
        #expect(detail.calls.last?.startedAt == harness.start.addingTimeInterval(600))
    }

    @Test(arguments: StoreKind.allCases) func repeatRunsTheChainAgain(on kind: StoreKind) async throws {
        let yaml = engineRules.replacingOccurrences(of: "    stop_on: [answered]", with: "    repeat: 1\n    repeat_after: 5m")
        let harness = try await EngineHarness.make(yaml, on: kind)
        defer { Task { try? await harness.close() } }
        _ = try await harness.ingest(dbAlert())
        try await harness.engine.runDueSteps()
        #expect(try await harness.advance(.seconds(600)) == 1)
        // Round two starts 5 minutes after the last step: at 15m and 25m.
        #expect(try await harness.advance(.seconds(299)) == 0)
        #expect(try await harness.advance(.seconds(1)) == 1)
        #expect(try await harness.advance(.seconds(600)) == 1)
        #expect(try await harness.advance(.seconds(3600)) == 0)
        #expect(harness.provider.calledNames == ["alice", "bob", "carol", "alice", "bob", "carol"])
    }

    @Test(arguments: StoreKind.allCases) func quietHoursDeferUntilTheyEnd(on kind: StoreKind) async throws {
        let yaml = nightQuietHoursRules
        // 2026-06-01 23:30 in Shanghai (15:30 UTC).
        let start = try #require(ISO8601DateFormatter().date(from: "2026-06-01T15:30:00Z"))
        let harness = try await EngineHarness.make(yaml, on: kind, start: start)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        #expect(try await harness.engine.runDueSteps() == 1)
        #expect(harness.provider.requests.isEmpty)
        let morning = try #require(ISO8601DateFormatter().date(from: "2026-06-02T00:00:00Z"))  // 08:00 Shanghai
        let detail = try await harness.detail(opened.opened[0])
        #expect(detail.steps.first?.dueAt == morning)
        #expect(detail.events.map(\.kind).contains("step_deferred"))
        // Both steps wait for the morning, and keep their ten minutes apart: the on-call pair
        // first, then carol if nobody acknowledged.
        // Step 2 moved with step 1 when it was deferred: nothing came due in the night.
        #expect(try await harness.advance(.seconds(8 * 3600 + 29 * 60)) == 0)
        #expect(harness.provider.calledNames.isEmpty)
        #expect(try await harness.detail(opened.opened[0]).steps.map(\.dueAt) == [morning, morning.addingTimeInterval(600)])
        #expect(try await harness.advance(.seconds(60)) == 1)
        #expect(harness.provider.calledNames.sorted() == ["alice", "bob"])
        #expect(try await harness.advance(.seconds(600)) == 1)
        #expect(harness.provider.calledNames.sorted() == ["alice", "bob", "carol"])
    }

    /// An incident that opened before quiet hours began pauses when they begin: a step due
    /// 20 minutes into them rings 20 minutes after they end.
    @Test(arguments: StoreKind.allCases) func quietHoursPauseAnEscalationThatBeganBefore(on kind: StoreKind) async throws {
        let yaml = nightQuietHoursRules
        // 2026-06-01 21:50 in Shanghai: step 1 rings at once, step 2 is due at 22:00.
        let start = try #require(ISO8601DateFormatter().date(from: "2026-06-01T13:50:00Z"))
        let harness = try await EngineHarness.make(yaml.replacingOccurrences(of: "after: 10m", with: "after: 30m"), on: kind, start: start)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        #expect(try await harness.engine.runDueSteps() == 1)
        #expect(harness.provider.calledNames.sorted() == ["alice", "bob"])
        #expect(try await harness.advance(.seconds(30 * 60)) == 1)
        let morning = try #require(ISO8601DateFormatter().date(from: "2026-06-02T00:00:00Z"))
        #expect(try await harness.detail(opened.opened[0]).steps.last?.dueAt == morning.addingTimeInterval(20 * 60))
    }

    @Test(arguments: StoreKind.allCases) func quietHoursSkip(on kind: StoreKind) async throws {
        let yaml =
            engineRules + """

                    quiet_hours:
                      timezone: UTC
                      times: ["00:00-23:59"]
                      action: skip
                """
        let harness = try await EngineHarness.make(yaml, on: kind)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        #expect(try await harness.engine.runDueSteps() == 1)
        #expect(harness.provider.requests.isEmpty)
        #expect(try await harness.detail(opened.opened[0]).steps.first?.state == .skipped)
    }

    @Test(arguments: StoreKind.allCases) func rateLimitHoldsBackCallsBeyondTheLimit(on kind: StoreKind) async throws {
        let yaml =
            engineRules + """

                    rate_limit:
                      calls: 2
                      window: 1h
                """
        let harness = try await EngineHarness.make(yaml, on: kind)
        defer { Task { try? await harness.close() } }
        for instance in ["db-1", "db-2", "db-3"] {
            _ = try await harness.ingest(dbAlert(instance))
            try await harness.engine.runDueSteps()
        }
        #expect(harness.provider.calledNames == ["alice", "bob", "alice", "bob"])
        let third = try await harness.engine.incidents(.open).first!
        let detail = try await harness.detail(third.id)
        #expect(detail.calls.map(\.state) == [.heldBack, .heldBack])
        #expect(detail.events.filter { $0.kind == "call_held_back" }.count == 2)
        // An hour later the window has room again.
        _ = try await harness.advance(.seconds(3601))
        _ = try await harness.ingest(dbAlert("db-4"))
        try await harness.engine.runDueSteps()
        #expect(harness.provider.calledNames.suffix(2) == ["alice", "bob"])
    }

    /// A route with a reopen window and a storm threshold of 2, two incidents opened on it,
    /// and the first resolved again: `db-1` firing now would reopen it.
    private static func twoIncidentsOneResolved(on kind: StoreKind) async throws -> (EngineHarness, Int64) {
        let yaml =
            engineRules + """

                    dedupe: {by: [instance], window: 1h}
                    storm: {threshold: 2, window: 5m}
                """
        let harness = try await EngineHarness.make(yaml, on: kind)
        let first = try await harness.ingest(dbAlert("db-1")).opened[0]
        _ = try await harness.ingest(dbAlert("db-2"))
        _ = try await harness.ingest(dbAlert("db-1", status: .resolved))
        return (harness, first)
    }

    /// In a storm, an alert that would reopen its incident (within `dedupe.window`) joins
    /// the storm instead: flapping alerts would otherwise each ring a chain of their own.
    @Test(arguments: StoreKind.allCases) func aFlappingAlertJoinsTheStormRatherThanReopen(on kind: StoreKind) async throws {
        let (harness, first) = try await Self.twoIncidentsOneResolved(on: kind)
        defer { Task { try? await harness.close() } }
        #expect(try await harness.ingest(dbAlert("db-3")).opened.count == 1)  // the storm incident
        let again = try await harness.ingest(dbAlert("db-1"))
        #expect(again.joinedStorm == 1)
        #expect(again.opened.isEmpty)
        #expect(try await harness.detail(first).incident.state == .resolved)
    }

    /// An alert that would reopen its incident when the route is at the storm threshold
    /// opens the storm incident, as a new incident would.
    @Test(arguments: StoreKind.allCases) func aReopenOverTheStormThresholdOpensTheStorm(on kind: StoreKind) async throws {
        let (harness, first) = try await Self.twoIncidentsOneResolved(on: kind)
        defer { Task { try? await harness.close() } }
        let again = try await harness.ingest(dbAlert("db-1"))
        let storm = try await harness.detail(try #require(again.opened.first))
        #expect(storm.incident.storm)
        #expect(try await harness.detail(first).incident.state == .resolved)
    }

    @Test(arguments: StoreKind.allCases) func stormTurnsManyIncidentsIntoOneSummaryCall(on kind: StoreKind) async throws {
        let yaml =
            engineRules + """

                    storm:
                      threshold: 2
                      window: 5m
                """
        let harness = try await EngineHarness.make(yaml, on: kind)
        defer { Task { try? await harness.close() } }
        let batch = (1...12).map { dbAlert("db-\($0)") }
        let summary = try await harness.engine.ingest(batch)
        // Two incidents of their own, the third opens the storm incident, nine join it.
        #expect(summary.opened.count == 3)
        #expect(summary.joinedStorm == 9)
        #expect(try await harness.engine.runDueSteps() == 3)
        #expect(harness.provider.requests.count == 3)
        let storm = try #require(harness.provider.requests.first { $0.text?.contains("alerts firing") == true })
        #expect(storm.text == "10 alerts firing for route db")
        #expect(storm.prompt == .text("10 alerts firing for route db"))
        // A repeat of a stormed alert stays in the storm incident.
        let repeated = try await harness.ingest(dbAlert("db-7"))
        #expect(repeated.deduplicated == 1)
        #expect(repeated.opened.isEmpty)
        try await harness.expectNoDanglingReferences()
    }

    /// A storm lasts while new alerts join it. Repeats, recoveries and flapping of its
    /// members do not prolong it: a new outage twenty minutes later, after an acknowledged
    /// storm, rings.
    @Test(arguments: StoreKind.allCases) func repeatsAndRecoveriesDoNotProlongAStorm(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(engineRules + "\n    storm: {threshold: 2, window: 5m}\n", on: kind)
        defer { Task { try? await harness.close() } }
        let storm = try #require(try await harness.engine.ingest((1...4).map { dbAlert("db-\($0)") }).opened.last)
        _ = try await harness.engine.ack(incidentID: storm, by: "alice")
        // Within the window, a new alert still joins the storm.
        harness.clock.advance(by: .seconds(240))
        #expect(try await harness.ingest(dbAlert("db-5")).joinedStorm == 1)
        // Eight minutes after the storm opened, four after the last new alert: still in it.
        harness.clock.advance(by: .seconds(240))
        #expect(try await harness.ingest(dbAlert("db-6")).joinedStorm == 1)
        for round in 1...4 {
            harness.clock.advance(by: .seconds(240))
            #expect(try await harness.ingest(dbAlert("db-3")).joinedStorm == 0)
            if round == 3 { _ = try await harness.ingest(dbAlert("db-4", status: .resolved)) }
            // A member that flaps.
            _ = try await harness.ingest(dbAlert("db-5", status: .resolved))
            _ = try await harness.ingest(dbAlert("db-5"))
        }
        let outage = try await harness.ingest(dbAlert("db-99"))
        #expect(outage.joinedStorm == 0)
        let incident = try await harness.detail(try #require(outage.opened.first)).incident
        #expect(!incident.storm && incident.state == .open)
    }

    /// Schema 7 dates a storm from its last new alert; a storm from before the upgrade is
    /// dated from when it was last seen, as it was then.
    @Test func upgradeDatesAnOlderStormFromWhenItWasLastSeen() async throws {
        let rules = engineRules + "\n    storm: {threshold: 2, window: 5m}\n"
        let old = try await EngineHarness.make(rules, migrations: 6)
        let storm = try await old.store.write { transaction in
            try await transaction.insertIncident(
                Incident(
                    key: "db|storm",
                    route: "db",
                    severity: "critical",
                    priority: 1,
                    title: "alert storm on route db",
                    voice: nil,
                    providers: ["sim"],
                    escalation: nil,
                    openedAt: old.start,
                    lastSeen: old.start.addingTimeInterval(240),
                    storm: true
                ),
                stormGuarded: true
            )
        }
        try await old.store.close()

        let upgraded = try await EngineHarness.make(rules, start: old.start.addingTimeInterval(480), directory: old.directory)
        defer { Task { try? await upgraded.close() } }
        #expect(try await upgraded.sqlite.schemaVersion() == 7)
        #expect(try await upgraded.ingest(dbAlert("db-9")).updated == [storm])
    }

    /// The guard counts the route's incidents opened while it had one: a guard added by a
    /// reload does not count the incidents from before it (only guarded routes are indexed).
    @Test(arguments: StoreKind.allCases) func aStormGuardCountsTheIncidentsOpenedWhileItWasConfigured(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        #expect(try await harness.engine.ingest((1...3).map { dbAlert("db-\($0)") }).opened.count == 3)
        try harness.reload(
            engineRules + """

                    storm:
                      threshold: 2
                      window: 5m
                """
        )
        let afterReload = try await harness.engine.ingest((4...6).map { dbAlert("db-\($0)") })
        // Two incidents of their own under the guard, then the storm incident.
        #expect(afterReload.opened.count == 3)
        let titles = try await harness.engine.incidents(.open).map(\.title)
        #expect(titles.filter { $0 == "alert storm on route db" }.count == 1)
        #expect(titles.filter { $0 == "MySQLDown" }.count == 5)
        // Without the guard, new incidents open on their own again.
        try harness.reload(engineRules)
        let unguarded = try await harness.engine.ingest((7...9).map { dbAlert("db-\($0)") })
        #expect(unguarded.opened.count == 3 && unguarded.joinedStorm == 0)
    }
}

extension EngineEscalationTests {
    /// Quiet hours 22:00-08:00 and active hours 09:00-18:00, both deferring: a step due at
    /// 23:00 rings at 09:00, when the first hour that neither holds begins.
    @Test(arguments: StoreKind.allCases) func aStepHeldByTwoWindowsRingsWhenNeitherHolds(on kind: StoreKind) async throws {
        let yaml =
            nightQuietHoursRules + """

                    active_hours:
                      timezone: Asia/Shanghai
                      times: ["09:00-18:00"]
                      action: defer
                """
        // Tuesday 2026-06-02, 23:00 in Shanghai.
        let start = try #require(ISO8601DateFormatter().date(from: "2026-06-02T15:00:00Z"))
        let harness = try await EngineHarness.make(yaml, on: kind, start: start)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        #expect(try await harness.engine.runDueSteps() == 1)
        let nine = try #require(ISO8601DateFormatter().date(from: "2026-06-03T01:00:00Z"))
        let pending = try await harness.detail(opened.opened[0]).steps.filter { $0.state == .pending }
        #expect(pending.first?.dueAt == nine)
        // 08:00: quiet hours end, active hours have not begun (step 2, due at 23:10, is
        // deferred to 09:10 now).
        _ = try await harness.advance(.seconds(9 * 3600))
        #expect(harness.provider.requests.isEmpty)
        _ = try await harness.advance(.seconds(3600))
        #expect(harness.provider.calledNames == ["alice", "bob"])
        _ = try await harness.advance(.seconds(600))
        #expect(harness.provider.calledNames == ["alice", "bob", "carol"])
    }
}

extension EngineEscalationTests {
    /// Active hours 09:00-18:00 and quiet hours 22:00-08:00 in Shanghai; an incident opened at
    /// 17:50 with steps due at 21:59 and 22:00. Both are held from 18:00 (the quiet hours
    /// continue the hold active hours began), so they ring in their order, 12:59 and 13:00
    /// the next day, not 22:00's first at 09:00 as if its hold began at 22:00.
    @Test(arguments: StoreKind.allCases) func stepsHeldByTwoWindowsKeepTheirOrder(on kind: StoreKind) async throws {
        let yaml =
            engineRules.replacingOccurrences(
                of: "      - after: 10m\n        notify: [carol]\n",
                with: "      - after: 4h9m\n        notify: [carol]\n      - after: 4h10m\n        notify: [alice]\n"
            ) + """

                    quiet_hours:
                      timezone: Asia/Shanghai
                      times: ["22:00-08:00"]
                    active_hours:
                      timezone: Asia/Shanghai
                      times: ["09:00-18:00"]
                """
        #expect(yaml.contains("after: 4h10m"))
        // Tuesday 2026-06-02, 17:50 in Shanghai.
        let start = try #require(ISO8601DateFormatter().date(from: "2026-06-02T09:50:00Z"))
        let harness = try await EngineHarness.make(yaml, on: kind, start: start)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        #expect(try await harness.engine.runDueSteps() == 1)
        // To 21:59, when step 2 is due (a jump past it would make it run late, which moves the
        // steps after it by as much), then to 22:00.
        _ = try await harness.advance(.seconds(4 * 3600 + 9 * 60))
        _ = try await harness.advance(.seconds(60))
        let due = try await harness.detail(opened.opened[0]).steps.filter { $0.state == .pending }.map(\.dueAt)
        let formatter = ISO8601DateFormatter()
        #expect(due.map { formatter.string(from: $0) } == ["2026-06-03T04:59:00Z", "2026-06-03T05:00:00Z"])
        _ = try await harness.advance(.seconds(14 * 3600 + 59 * 60))
        #expect(harness.provider.calledNames == ["alice", "bob", "carol"])
        _ = try await harness.advance(.seconds(60))
        #expect(harness.provider.calledNames == ["alice", "bob", "carol", "alice"])
    }
}

/// What a reopened incident escalates with: its new chain's start, the rules in force, and
/// the alerts that are really still firing.
@Suite("Incident engine: reopened incidents")
struct ReopenedIncidentTests {
    static let quietRules = nightQuietHoursRules + "\n    dedupe: {by: [instance], window: 12h}\n"

    /// Opened at 21:00 in Shanghai and resolved; fires again at 07:50 next morning, inside
    /// quiet hours: its first step rings at 08:00, when they end, not as far after 08:00 as
    /// 07:50 is after the night began.
    @Test(arguments: StoreKind.allCases) func aReopenedIncidentsDeferredStepRingsWhenQuietHoursEnd(on kind: StoreKind) async throws {
        let start = try #require(ISO8601DateFormatter().date(from: "2026-06-01T13:00:00Z"))
        let harness = try await EngineHarness.make(Self.quietRules, on: kind, start: start)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        #expect(try await harness.engine.runDueSteps() == 1)
        harness.clock.advance(by: .seconds(300))
        #expect(try await harness.ingest(dbAlert(status: .resolved)).resolved == opened.opened)

        harness.clock.advance(by: .seconds(10 * 3600 + 45 * 60))  // 07:50 Shanghai
        #expect(try await harness.ingest(dbAlert()).opened == opened.opened)
        #expect(try await harness.engine.runDueSteps() == 1)
        let morning = try #require(ISO8601DateFormatter().date(from: "2026-06-02T00:00:00Z"))
        let pending = try await harness.detail(opened.opened[0]).steps.filter { $0.state == .pending }
        #expect(pending.first?.dueAt == morning)
        #expect(try await harness.advance(.seconds(599)) == 0)
        #expect(try await harness.advance(.seconds(1)) >= 1)
        // Step 2 (carol), due at 08:00 too, runs beside it, in either order.
        #expect(harness.provider.calledNames.filter { $0 == "alice" || $0 == "bob" } == ["alice", "bob", "alice", "bob"])
    }

    /// A reload renamed the escalation; the incident reopens afterwards: its new chain goes
    /// by the new rules, and an answered call stops it.
    @Test(arguments: StoreKind.allCases) func aReopenedIncidentEscalatesByTheRulesInForce(on kind: StoreKind) async throws {
        let rules = engineRules + "\n    dedupe: {by: [instance], window: 1h}\n"
        let harness = try await EngineHarness.make(rules, on: kind)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        _ = try await harness.ingest(dbAlert(status: .resolved))
        try harness.reload(rules.replacingOccurrences(of: "primary", with: "main"))
        #expect(try await harness.ingest(dbAlert()).opened == opened.opened)
        #expect(try await harness.engine.runDueSteps() == 1)
        let answered = CallStatusReport(vendorCallID: "v-alice", status: .answered, duration: .seconds(5), vendorCode: "200000")
        #expect(try await harness.engine.recordStatus(answered, provider: "sim") == .recorded(incidentID: opened.opened[0], acked: true))
        #expect(try await harness.advance(.seconds(600)) == 0)
        #expect(try await harness.detail(opened.opened[0]).incident.escalation == "main")
    }

    /// A vendor reports a call after it ends, minutes later: an answer to a call of the chain
    /// before the incident reopened does not acknowledge the new chain.
    @Test(arguments: StoreKind.allCases) func anAnswerToACallBeforeTheReopenAcknowledgesNothing(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(engineRules + "\n    dedupe: {by: [instance], window: 1h}\n", on: kind)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        #expect(try await harness.engine.runDueSteps() == 1)
        let earlier = try #require(try await harness.detail(opened.opened[0]).calls.first { $0.recipient.name == "alice" })
        harness.clock.advance(by: .seconds(60))
        _ = try await harness.ingest(dbAlert(status: .resolved))
        harness.clock.advance(by: .seconds(60))
        #expect(try await harness.ingest(dbAlert()).opened == opened.opened)

        let late = CallStatusReport(vendorCallID: nil, callID: earlier.callID, callee: "+8613700000001", status: .answered, vendorCode: "200000")
        #expect(try await harness.engine.recordStatus(late, provider: "sim") == .recorded(incidentID: opened.opened[0], acked: false))
        var detail = try await harness.detail(opened.opened[0])
        #expect(detail.incident.state == .open)
        #expect(detail.events.last?.detail == "not an acknowledgement: the call to alice was placed before the incident reopened")
        #expect(try await harness.engine.runDueSteps() == 1)
        #expect(harness.provider.calledNames == ["alice", "bob", "alice", "bob"])

        // An answer to the new chain's call does.
        detail = try await harness.detail(opened.opened[0])
        let current = try #require(detail.calls.last { $0.recipient.name == "alice" })
        let answered = CallStatusReport(vendorCallID: nil, callID: current.callID, callee: "+8613700000001", status: .answered, vendorCode: "200000")
        #expect(try await harness.engine.recordStatus(answered, provider: "sim") == .recorded(incidentID: opened.opened[0], acked: true))
    }

    /// A reload renamed the provider an open incident calls through: its next step rings
    /// through the route's providers in force, not nobody.
    @Test(arguments: StoreKind.allCases) func aStepWhoseProviderWasRenamedCallsThroughTheRoutesProvider(on kind: StoreKind) async throws {
        let old = RecordingProvider(name: "old")
        let yaml = engineRules.replacingOccurrences(
            of: "  sim:\n    type: simulator",
            with: "  old:\n    type: simulator\n  sim:\n    type: simulator"
        )
        .replacingOccurrences(of: "providers: [sim]", with: "providers: [old]")
        let harness = try await EngineHarness.make(yaml, on: kind, otherProviders: [old])
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        #expect(try await harness.engine.runDueSteps() == 1)
        #expect(old.calledNames == ["alice", "bob"])
        try harness.reload(engineRules)
        #expect(try await harness.advance(.seconds(600)) == 1)
        #expect(harness.provider.calledNames == ["carol"])
        let calls = try await harness.detail(opened.opened[0]).calls
        #expect(calls.last?.state == .accepted && calls.last?.provider == "sim")
    }

    /// A reload gave carol a new number while an incident was open: its pending step calls
    /// the new one, not the old (which may be someone else's by now).
    @Test(arguments: StoreKind.allCases) func aPendingStepCallsTheNumberInForce(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        #expect(try await harness.engine.runDueSteps() == 1)
        try harness.reload(engineRules.replacingOccurrences(of: "carol: {phone: \"+8613700000003\"}", with: "carol: {phone: \"+8613700000033\"}"))
        #expect(try await harness.advance(.seconds(600)) == 1)
        #expect(harness.provider.requests.last?.recipients.map(\.phone) == ["+8613700000033"])
        let calls = try await harness.detail(opened.opened[0]).calls
        #expect(calls.last?.recipient == CallRecipient(name: "carol", phone: "+8613700000033"))
    }

    /// The callback URL given to vendors carries the first of the callback tokens: during a
    /// rotation the new one, while the old one is still accepted.
    @Test func callsCarryTheFirstCallbackToken() async throws {
        let rules = "server:\n  public_url: https://klaxon.example.com\n  callback_token: [cb-new, cb-old]\n" + engineRules
        let harness = try await EngineHarness.make(rules)
        defer { Task { try? await harness.close() } }
        _ = try await harness.ingest(dbAlert())
        #expect(try await harness.engine.runDueSteps() == 1)
        #expect(harness.provider.requests.map(\.callbackURL) == ["https://klaxon.example.com/callbacks/sim?token=cb-new"])
    }

    /// An on-call handover by reload while an incident is open: its pending step calls the
    /// group's members now, each once, and no longer the one handed over.
    @Test(arguments: StoreKind.allCases) func aPendingStepCallsTheGroupsMembersInForce(on kind: StoreKind) async throws {
        let rules = engineRules.replacingOccurrences(
            of: "notify: [group:oncall]\n      - after: 10m\n        notify: [carol]",
            with: "notify: [carol]\n      - after: 10m\n        notify: [group:oncall, carol]"
        )
        let harness = try await EngineHarness.make(rules, on: kind)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        #expect(try await harness.engine.runDueSteps() == 1)
        try harness.reload(
            rules.replacingOccurrences(of: "oncall: [alice, bob]", with: "oncall: [carol, dave, bob]")
                .replacingOccurrences(of: "groups:", with: "  dave: {phone: \"+8613700000004\"}\ngroups:")
        )
        #expect(try await harness.advance(.seconds(600)) == 1)
        #expect(harness.provider.calledNames == ["carol", "carol", "dave", "bob"])
        #expect(try await harness.detail(opened.opened[0]).steps.last?.recipients.map(\.name) == ["alice", "bob", "carol"])

        // A group gone from the rules: the step calls whom it was written with, dave too
        // (gone from the rules as well) on the number it has.
        _ = try await harness.ingest(dbAlert("db-2"))
        #expect(try await harness.engine.runDueSteps() == 1)
        try harness.reload(
            rules.replacingOccurrences(of: "[group:oncall, carol]", with: "[carol]").replacingOccurrences(
                of: "groups:\n  oncall: [alice, bob]\n",
                with: ""
            )
        )
        #expect(try await harness.advance(.seconds(600)) == 1)
        #expect(harness.provider.calledNames.suffix(3) == ["carol", "dave", "bob"])
    }

    /// Resolved by hand while its alert fired; the alert's recovery comes; another alert
    /// reopens the incident and recovers too: the incident resolves, as every alert has.
    @Test(arguments: StoreKind.allCases) func aRecoveryAfterAResolveByHandIsKept(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(engineRules + "\n    dedupe: {by: [alertname], window: 1h}\n", on: kind)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert("db-1"))
        _ = try await harness.engine.resolve(incidentID: opened.opened[0], by: "dave")
        #expect(try await harness.ingest(dbAlert("db-1", status: .resolved)).ignored == 1)
        #expect(try await harness.ingest(dbAlert("db-2")).opened == opened.opened)
        #expect(try await harness.ingest(dbAlert("db-2", status: .resolved)).resolved == opened.opened)
    }

    /// The same, with the alert's repeat and recovery landing on a storm incident in between:
    /// the recovery reaches the copy on the incident resolved by hand too.
    @Test(arguments: StoreKind.allCases) func aRecoveryThatLandsOnAStormReachesTheIncidentResolvedByHand(on kind: StoreKind) async throws {
        let rules = engineRules + "\n    dedupe: {by: [alertname], window: 1h}\n    storm: {threshold: 2, window: 5m}\n"
        let harness = try await EngineHarness.make(rules, on: kind)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert("db-1"))
        _ = try await harness.engine.resolve(incidentID: opened.opened[0], by: "dave")
        _ = try await harness.ingest(dbAlert("db-1", alertname: "DiskFull"))
        let storm = try await harness.ingest(dbAlert("db-1", alertname: "CPUHot"))
        #expect(try await harness.ingest(dbAlert("db-1")).joinedStorm == 1)
        _ = try await harness.ingest(dbAlert("db-1", status: .resolved))
        #expect(try await harness.ingest(dbAlert("db-1", alertname: "CPUHot", status: .resolved)).resolved == storm.opened)

        harness.clock.advance(by: .seconds(360))
        #expect(try await harness.ingest(dbAlert("db-2")).opened == opened.opened)
        #expect(try await harness.ingest(dbAlert("db-2", status: .resolved)).resolved == opened.opened)
    }
}

/// Severity levels with their own chains: a warning calls carol after 30 minutes, a critical
/// alert calls the on-call pair at once.
let severityChainRules = """
    providers:
      sim: {type: simulator}
    recipients:
      alice: {phone: "+8613700000001"}
      bob: {phone: "+8613700000002"}
      carol: {phone: "+8613700000003"}
    voices:
      down: {text: "{{labels.alertname}} on {{labels.instance}}"}
    escalations:
      primary:
        steps:
          - {after: 0s, notify: [alice, bob]}
          - {after: 10m, notify: [carol]}
      slow:
        steps:
          - {after: 30m, notify: [carol]}
    severities:
      default: warning
      levels:
        critical: {priority: 1, escalation: primary}
        warning: {priority: 5, escalation: slow}
    routes:
      - name: db
        match: {team: db}
        voice: down
        providers: [sim]
    """

private func severeAlert(_ instance: String, _ severity: String, groupKey: String? = nil) -> Alert {
    var alert = dbAlert(instance, groupKey: groupKey)
    alert.labels["severity"] = severity
    return alert
}

/// An incident rings the chain of the alert that opened it; a more urgent alert that joins
/// it later (a group's critical member, a storm's) must not wait on the milder chain.
@Suite("Incident engine: a more urgent alert joining")
struct MoreUrgentAlertTests {
    @Test(arguments: StoreKind.allCases) func aCriticalAlertJoiningAWarningIncidentRingsItsChainNow(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(severityChainRules, on: kind)
        defer { Task { try? await harness.close() } }
        let group = "{}/{team=\"db\"}:{alertname=\"MySQLDown\"}"
        let opened = try await harness.ingest(severeAlert("db-1", "warning", groupKey: group))
        #expect(try await harness.engine.runDueSteps() == 0)
        harness.clock.advance(by: .seconds(60))
        let joined = try await harness.ingest(severeAlert("db-2", "critical", groupKey: group))
        #expect(joined.opened.isEmpty && joined.updated == Set(opened.opened))
        #expect(try await harness.engine.runDueSteps() == 1)
        #expect(harness.provider.calledNames == ["alice", "bob"])
        var detail = try await harness.detail(opened.opened[0])
        #expect(detail.incident.priority == 1 && detail.incident.severity == "critical" && detail.incident.escalation == "primary")
        #expect(detail.steps.filter { $0.state == .cancelled }.count == 1, "the warning's step at 30 minutes")
        // A warning joining later changes nothing.
        _ = try await harness.ingest(severeAlert("db-3", "warning", groupKey: group))
        #expect(try await harness.advance(.seconds(600)) == 1)
        #expect(try await harness.advance(.seconds(3600)) == 0)
        #expect(harness.provider.calledNames == ["alice", "bob", "carol"])
        detail = try await harness.detail(opened.opened[0])
        #expect(detail.events.filter { $0.kind == "escalated" }.count == 1)
    }

    /// A reload that makes warnings more urgent does not page the open warning incidents
    /// again when their firing alerts repeat.
    @Test(arguments: StoreKind.allCases) func aRepeatAfterAReloadThatRaisedThePriorityDoesNotEscalate(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(severityChainRules, on: kind)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(severeAlert("db-1", "warning"))
        try harness.reload(severityChainRules.replacingOccurrences(of: "warning: {priority: 5", with: "warning: {priority: 2"))
        #expect(try await harness.ingest(severeAlert("db-1", "warning")).deduplicated == 1)
        #expect(try await harness.engine.runDueSteps() == 0)
        #expect(try await harness.detail(opened.opened[0]).incident.priority == 5)
    }

    @Test(arguments: StoreKind.allCases) func aCriticalAlertJoiningAWarningStormRingsItsChainNow(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(severityChainRules + "\n    storm: {threshold: 2, window: 5m}\n", on: kind)
        defer { Task { try? await harness.close() } }
        _ = try await harness.ingest(severeAlert("db-1", "warning"))
        _ = try await harness.ingest(severeAlert("db-2", "warning"))
        let storm = try await harness.ingest(severeAlert("db-3", "warning"))
        #expect(try await harness.engine.runDueSteps() == 0)
        #expect(try await harness.ingest(severeAlert("db-4", "critical")).joinedStorm == 1)
        #expect(try await harness.engine.runDueSteps() == 1)
        #expect(harness.provider.calledNames == ["alice", "bob"])
        #expect(try await harness.detail(storm.opened[0]).incident.storm)
    }

    @Test(arguments: StoreKind.allCases) func aCriticalAlertJoiningAnAcknowledgedIncidentIsNotedNotCalled(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(severityChainRules, on: kind)
        defer { Task { try? await harness.close() } }
        let group = "{}/{team=\"db\"}:{alertname=\"MySQLDown\"}"
        let opened = try await harness.ingest(severeAlert("db-1", "warning", groupKey: group))
        _ = try await harness.engine.ack(incidentID: opened.opened[0], by: "carol")
        _ = try await harness.ingest(severeAlert("db-2", "critical", groupKey: group))
        #expect(try await harness.advance(.seconds(3600)) == 0)
        #expect(harness.provider.calledNames.isEmpty)
        let detail = try await harness.detail(opened.opened[0])
        #expect(detail.incident.state == .acked && detail.incident.priority == 1)
        #expect(detail.events.map(\.kind).contains("priority_raised"))
    }
}

extension EngineEscalationTests {
    /// An incident opened just before quiet hours end: step 1 waits for 08:00, and step 2,
    /// due just after 08:00, moves with it instead of ringing moments after step 1.
    @Test(arguments: StoreKind.allCases) func laterStepsMoveWithADeferredStep(on kind: StoreKind) async throws {
        // 07:55:10 in Shanghai: step 1 is held until 08:00, step 2 was due at 08:05:10.
        let start = try #require(ISO8601DateFormatter().date(from: "2026-06-01T23:55:10Z"))
        let harness = try await EngineHarness.make(nightQuietHoursRules, on: kind, start: start)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        #expect(try await harness.engine.runDueSteps() == 1)
        let eight = try #require(ISO8601DateFormatter().date(from: "2026-06-02T00:00:00Z"))
        let detail = try await harness.detail(opened.opened[0])
        #expect(detail.steps.map(\.dueAt) == [eight, eight.addingTimeInterval(600)])
        #expect(detail.events.last?.detail.hasSuffix("; the 1 later step(s) move with it") == true)
        #expect(try await harness.advance(.seconds(290)) == 1)
        #expect(harness.provider.calledNames.sorted() == ["alice", "bob"])
        #expect(try await harness.advance(.seconds(310)) == 0)
        #expect(try await harness.advance(.seconds(290)) == 1)
        #expect(harness.provider.calledNames.sorted() == ["alice", "bob", "carol"])
    }

    /// After klaxon was down, an incident's overdue steps run one at a time, each keeping its
    /// spacing, instead of ringing together (carol twice at once, the pair with her).
    @Test(arguments: StoreKind.allCases) func overdueStepsOfAnIncidentDoNotRingTogether(on kind: StoreKind) async throws {
        let yaml = engineRules.replacingOccurrences(of: "    stop_on: [answered]", with: "    repeat: 1\n    repeat_after: 5m")
        let harness = try await EngineHarness.make(yaml, on: kind)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        #expect(try await harness.engine.runDueSteps() == 1)
        // Down for 50 minutes: steps at 10m, 15m and 25m are all overdue.
        harness.clock.advance(by: .seconds(50 * 60))
        #expect(try await harness.engine.runDueSteps() == 1)
        #expect(harness.provider.calledNames == ["alice", "bob", "carol"])
        let pending = try await harness.detail(opened.opened[0]).steps.filter { $0.state == .pending }.map(\.dueAt)
        #expect(pending == [harness.start.addingTimeInterval(55 * 60), harness.start.addingTimeInterval(65 * 60)])
        #expect(try await harness.detail(opened.opened[0]).events.contains { $0.kind == "steps_delayed" })
        #expect(try await harness.advance(.seconds(299)) == 0)
        #expect(try await harness.advance(.seconds(1)) == 1)
        #expect(try await harness.advance(.seconds(600)) == 1)
        #expect(harness.provider.calledNames == ["alice", "bob", "carol", "alice", "bob", "carol"])
    }
}

extension EngineEscalationTests {
    final class Outage: Sendable {
        let down = Mutex(true)
    }

    /// A provider that fails every call while `outage` lasts.
    static func failingProvider(_ outage: Outage) -> RecordingProvider {
        RecordingProvider { recipient in
            guard outage.down.withLock({ $0 }) else { return .accepted(vendorCallID: "v-" + recipient.name) }
            return .permanent(VendorError(code: "down", message: "vendor down"))
        }
    }

    /// Every call of a step failed (a vendor outage): the step runs again a minute later,
    /// then two, instead of being closed on a page that never went out.
    @Test(arguments: StoreKind.allCases) func aStepThatReachedNobodyRunsAgain(on kind: StoreKind) async throws {
        let outage = Outage()
        let harness = try await EngineHarness.make(on: kind, provider: Self.failingProvider(outage))
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        #expect(try await harness.engine.runDueSteps() == 1)
        var detail = try await harness.detail(opened.opened[0])
        #expect(detail.steps.map(\.state) == [.pending, .pending])
        #expect(detail.steps.first?.dueAt == harness.start.addingTimeInterval(60))
        #expect(detail.events.last?.kind == "step_retry")
        #expect(try await harness.advance(.seconds(59)) == 0)
        #expect(try await harness.advance(.seconds(1)) == 1)
        #expect(try await harness.detail(opened.opened[0]).steps.first?.dueAt == harness.start.addingTimeInterval(180))
        outage.down.withLock { $0 = false }
        #expect(try await harness.advance(.seconds(120)) == 1)
        detail = try await harness.detail(opened.opened[0])
        #expect(detail.steps.map(\.state) == [.done, .pending])
        #expect(detail.calls.map(\.state) == [.failed, .failed, .failed, .failed, .accepted, .accepted])
        #expect(harness.provider.calledNames == ["alice", "bob", "alice", "bob", "alice", "bob"])
    }

    /// The tries end: after the sixth the step is closed, and the chain goes on.
    @Test func aStepThatNeverReachesAnyoneIsClosedAfterItsTries() async throws {
        let yaml = engineRules.replacingOccurrences(of: "after: 10m", with: "after: 2h")
        let harness = try await EngineHarness.make(yaml, provider: Self.failingProvider(Outage()))
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        #expect(try await harness.engine.runDueSteps() == 1)
        for delay in [60, 120, 240, 480, 900] {
            #expect(try await harness.advance(.seconds(Int64(delay))) == 1, "\(delay)")
        }
        let detail = try await harness.detail(opened.opened[0])
        #expect(detail.steps.map(\.state) == [.done, .pending])
        #expect(detail.events.filter { $0.kind == "step_retry" }.count == 5)
        #expect(harness.provider.calledNames.count == 12)
        #expect(try await harness.advance(.seconds(3600)) == 0)
        // Step 2, at two hours, rings as written.
        #expect(try await harness.advance(.seconds(1800)) == 1)
        #expect(harness.provider.calledNames.last == "carol")
    }
}

extension MoreUrgentAlertTests {
    final class Hook: @unchecked Sendable {
        private let lock = NSLock()
        private var action: (@Sendable () async -> Void)?

        func set(_ action: (@Sendable () async -> Void)?) { lock.withLock { self.action = action } }
        func run() async { await lock.withLock { action }?() }
    }

    /// A step that reached nobody is tried again, but not when a more urgent alert replaced
    /// its chain while it placed its calls: the new chain rings, the old step is done.
    @Test(arguments: StoreKind.allCases) func aStepOfAChainReplacedWhileItRangIsNotTriedAgain(on kind: StoreKind) async throws {
        let outage = EngineEscalationTests.Outage()
        let hook = Hook()
        let provider = RecordingProvider(
            answer: { recipient in
                guard outage.down.withLock({ $0 }) else { return .accepted(vendorCallID: "v-" + recipient.name) }
                return .permanent(VendorError(code: "down", message: "vendor down"))
            },
            before: { await hook.run() }
        )
        let harness = try await EngineHarness.make(severityChainRules, on: kind, provider: provider)
        defer { Task { try? await harness.close() } }
        let group = "{}/{team=\"db\"}:{alertname=\"MySQLDown\"}"
        let opened = try await harness.ingest(severeAlert("db-1", "warning", groupKey: group))
        hook.set {
            hook.set(nil)
            harness.clock.advance(by: .seconds(1))
            _ = try? await harness.ingest(severeAlert("db-2", "critical", groupKey: group))
        }
        // Carol's call at 30 minutes fails while the critical alert escalates the incident;
        // the new chain's first step runs at once and fails too.
        #expect(try await harness.advance(.seconds(1800)) == 2)
        let detail = try await harness.detail(opened.opened[0])
        #expect(detail.steps.map(\.state) == [.done, .pending, .pending])
        #expect(detail.events.filter { $0.kind == "step_retry" }.count == 1, "the new chain's step only")
        outage.down.withLock { $0 = false }
        #expect(try await harness.advance(.seconds(61)) == 1)
        #expect(harness.provider.calledNames == ["carol", "alice", "bob", "alice", "bob"])
        #expect(try await harness.advance(.seconds(600)) == 1)
        #expect(harness.provider.calledNames == ["carol", "alice", "bob", "alice", "bob", "carol"])
    }
}

extension EngineEscalationTests {
    /// A step found overdue inside quiet hours (klaxon was down from before they began) rings
    /// as long after they end as it was due after they began, not as long as it was late.
    @Test(arguments: StoreKind.allCases) func aStepClaimedLateInQuietHoursRingsWhenTheyEnd(on kind: StoreKind) async throws {
        // Tuesday 2026-06-02, 21:55 in Shanghai: step 2 is due at 22:05, in quiet hours.
        let start = try #require(ISO8601DateFormatter().date(from: "2026-06-02T13:55:00Z"))
        let harness = try await EngineHarness.make(nightQuietHoursRules, on: kind, start: start)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        #expect(try await harness.engine.runDueSteps() == 1)
        // Down until 06:55.
        #expect(try await harness.advance(.seconds(9 * 3600)) == 1)
        let pending = try await harness.detail(opened.opened[0]).steps.filter { $0.state == .pending }.map(\.dueAt)
        #expect(pending.map { ISO8601DateFormatter().string(from: $0) } == ["2026-06-03T00:05:00Z"])
        #expect(try await harness.advance(.seconds(3600 + 10 * 60)) == 1)
        #expect(harness.provider.calledNames == ["alice", "bob", "carol"])
    }

    /// A more urgent alert gives the incident a new chain while a step of the old one is
    /// placing its calls: the old step fails over to nobody (it rang the old chain's people
    /// on the next provider), and the new chain's first step does not wait for it.
    @Test(arguments: StoreKind.allCases) func aStepWhoseChainIsReplacedWhileItRingsStopsAndHoldsNothingUp(on kind: StoreKind) async throws {
        let hook = MoreUrgentAlertTests.Hook()
        let primary = RecordingProvider(answer: { _ in .permanent(VendorError(code: "down", message: "vendor down")) }, before: { await hook.run() })
        let backup = RecordingProvider(name: "backup")
        let yaml = severityChainRules.replacingOccurrences(of: "providers: [sim]", with: "providers: [sim, backup]")
            .replacingOccurrences(of: "  sim: {type: simulator}", with: "  sim: {type: simulator}\n  backup: {type: simulator}")
        let harness = try await EngineHarness.make(yaml, on: kind, provider: primary, otherProviders: [backup])
        defer { Task { try? await harness.close() } }
        let group = "{}/{team=\"db\"}:{alertname=\"MySQLDown\"}"
        let opened = try await harness.ingest(severeAlert("db-1", "warning", groupKey: group))
        // While carol's call fails at the first provider, the critical alert joins; its
        // chain's step 1 is claimed while carol's step still runs.
        let claimedMeanwhile = Mutex(-1)
        hook.set {
            hook.set(nil)
            _ = try? await harness.ingest(severeAlert("db-2", "critical", groupKey: group))
            let claimed = try? await harness.store.write { try await $0.claimDueSteps(now: harness.engine.clock.now(), limit: 10) }
            claimedMeanwhile.withLock { $0 = claimed?.map(\.step).first ?? 0 }
            for step in claimed ?? [] { await harness.engine.execute(step) }
        }
        #expect(try await harness.advance(.seconds(1800)) == 1)
        #expect(claimedMeanwhile.withLock { $0 } == 1)
        #expect(backup.calledNames == ["alice", "bob"])
        let detail = try await harness.detail(opened.opened[0])
        #expect(detail.events.contains { $0.kind == "step_stopped" && $0.detail.contains("given a new chain") })
    }

    /// A step claimed before a more urgent alert replaced its chain, whose calls had not
    /// started yet (its transaction waited for the store, or it was taken over from a
    /// stopped instance): it calls nobody, and the new chain rings.
    @Test(arguments: StoreKind.allCases) func aStepClaimedBeforeItsChainWasReplacedCallsNobody(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(severityChainRules, on: kind)
        defer { Task { try? await harness.close() } }
        let group = "{}/{team=\"db\"}:{alertname=\"MySQLDown\"}"
        let opened = try await harness.ingest(severeAlert("db-1", "warning", groupKey: group))
        harness.clock.advance(by: .seconds(1800))
        let claimed = try await harness.store.write { try await $0.claimDueSteps(now: harness.engine.clock.now(), limit: 10) }
        #expect(claimed.map(\.step) == [1])
        _ = try await harness.ingest(severeAlert("db-2", "critical", groupKey: group))
        for step in claimed { await harness.engine.execute(step) }
        #expect(harness.provider.calledNames.isEmpty)
        #expect(try await harness.engine.runDueSteps() == 1)
        #expect(harness.provider.calledNames == ["alice", "bob"])
        let detail = try await harness.detail(opened.opened[0])
        #expect(detail.steps.map(\.state) == [.cancelled, .done, .pending])
    }

    /// An incident's steps run one at a time: a step still placing its calls holds up the
    /// next, which the scheduler does not see as due meanwhile (it would spin on it), for at
    /// most 15 minutes (a step stuck for good must not hold up the rest of the chain).
    @Test(arguments: StoreKind.allCases) func aRunningStepHoldsUpTheNextForAtMostFifteenMinutes(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        _ = try await harness.ingest(dbAlert())
        let claim = { try await harness.store.write { try await $0.claimDueSteps(now: harness.engine.clock.now(), limit: 10) }.map(\.step) }
        let next = { try await harness.store.read { try await $0.nextDueDate(now: harness.engine.clock.now()) } }
        #expect(try await claim() == [1])
        harness.clock.advance(by: .seconds(600))
        #expect(try await claim() == [])
        #expect(try await next() == nil)
        harness.clock.advance(by: .seconds(299))
        #expect(try await next() == nil)
        harness.clock.advance(by: .seconds(1))
        #expect(try await next() == harness.start.addingTimeInterval(600))
        #expect(try await claim() == [2])
    }
}
