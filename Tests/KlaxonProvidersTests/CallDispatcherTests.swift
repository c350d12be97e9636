import KlaxonCore
import KlaxonProviders
import KlaxonTestSupport
import Synchronization
import Testing

/// A provider that answers from a script, one entry per attempt, to drive the dispatcher.
final class ScriptedProvider: VoiceProvider, Sendable {
    let name: String
    let type = ProviderType.simulator
    // Guards the script and the calls seen; no suspension while held.
    private let state: Mutex<(script: [[String: CallResult]], seen: [[String]])>

    /// Each attempt takes the next entry: phone → result (missing phones are accepted).
    init(_ name: String, script: [[String: CallResult]]) {
        self.name = name
        self.state = Mutex((script, []))
    }

    var attempts: [[String]] { state.withLock { $0.seen } }

    func placeCalls(_ request: CallRequest) async -> [RecipientResult] {
        let answers = state.withLock { state -> [String: CallResult] in
            state.seen.append(request.recipients.map(\.phone))
            return state.script.isEmpty ? [:] : state.script.removeFirst()
        }
        return request.recipients.map { recipient in
            RecipientResult(recipient: recipient, result: answers[recipient.phone] ?? .accepted(vendorCallID: "\(name)-\(recipient.phone)"))
        }
    }
}

@Suite struct CallDispatcherTests {
    typealias Dispatcher = CallDispatcher<ManualClock>

    let alice = CallRecipient(name: "alice", phone: "+8613700000001")
    let bob = CallRecipient(name: "bob", phone: "+8613700000002")
    let busy = CallResult.retryable(VendorError(code: "isp.SYSTEM_ERROR", message: "busy"))
    let refused = CallResult.permanent(VendorError(code: "isv.MOBILE_NUMBER_ILLEGAL", message: "bad number"))

    func leg(_ provider: ScriptedProvider, attempts: Int = 3, maxBackoff: Duration = .seconds(8)) -> CallDispatcher<ManualClock>.Leg {
        CallDispatcher<ManualClock>.Leg(
            provider: provider,
            request: CallRequest(callID: "abcdefabcdef", recipients: [alice, bob], prompt: .text("hi")),
            retry: RetryPolicy(attempts: attempts, initialBackoff: .seconds(1), maxBackoff: maxBackoff)
        )
    }

    /// Dispatches while moving time past every sleep, so that a test expecting no wait fails
    /// on `clock.sleeps` instead of hanging.
    func dispatchPassingTime(_ dispatcher: Dispatcher, _ legs: [Dispatcher.Leg]) async -> [Dispatcher.Outcome] {
        let clock = dispatcher.clock
        let task = Task { await dispatcher.dispatch(legs) }
        let ticker = Task {
            while !Task.isCancelled {
                if clock.sleeperCount > 0 { clock.advance(by: .seconds(3600)) }
                await Task.yield()
            }
        }
        defer { ticker.cancel() }
        return await task.value
    }

    /// Aliyun's answer to a second call to the same number within a minute.
    let limited = CallResult.retryable(
        VendorError(code: "isv.BUSINESS_LIMIT_CONTROL", message: "1/min", retryAfter: .seconds(60), retryUsesQuota: true)
    )

    @Test func retryableFailuresAreRetriedWithCappedExponentialBackoff() async throws {
        let clock = ManualClock()
        let first = ScriptedProvider("first", script: [[alice.phone: busy], [alice.phone: busy], [:]])
        let dispatcher = CallDispatcher(clock: clock, jitter: { 1.0 })
        let task = Task { await dispatcher.dispatch([leg(first)]) }
        await clock.waitForSleepers()
        clock.advance(by: .seconds(1))
        await clock.waitForSleepers()
        clock.advance(by: .seconds(2))
        let outcomes = await task.value
        #expect(clock.sleeps == [.seconds(1), .seconds(2)])
        #expect(first.attempts == [[alice.phone, bob.phone], [alice.phone], [alice.phone]])
        #expect(outcomes.map(\.result.isAccepted) == [true, true])
        #expect(outcomes.map(\.provider) == ["first", "first"])
    }

    @Test func backoffIsCappedAndJittered() {
        let policy = RetryPolicy(attempts: 10, initialBackoff: .seconds(1), maxBackoff: .seconds(30))
        #expect((1...7).map { policy.delay(after: $0, jitter: 1) } == [1, 2, 4, 8, 16, 30, 30].map { Duration.seconds($0) })
        #expect(policy.delay(after: 3, jitter: 0) == .seconds(2))
        #expect(policy.delay(after: 3, jitter: 0.5) == .seconds(3))
    }

    @Test func permanentFailuresAndExhaustedRetriesFailOverToTheNextProvider() async throws {
        let clock = ManualClock()
        let first = ScriptedProvider("first", script: [[alice.phone: refused, bob.phone: busy], [bob.phone: busy]])
        let second = ScriptedProvider("second", script: [])
        let dispatcher = CallDispatcher(clock: clock, jitter: { 0 })
        let task = Task { await dispatcher.dispatch([leg(first, attempts: 2), leg(second)]) }
        await clock.waitForSleepers()
        clock.advance(by: .seconds(1))
        let outcomes = await task.value
        #expect(first.attempts == [[alice.phone, bob.phone], [bob.phone]])
        #expect(second.attempts == [[alice.phone, bob.phone]])
        #expect(outcomes.map(\.provider) == ["second", "second"])
        #expect(outcomes.allSatisfy { $0.result.isAccepted })
    }

    /// A body that lists the recipients (a webhook's template) is rendered for each attempt's
    /// own: failing over for bob alone must not page alice, whom the first provider reached.
    @Test func aFailoverRendersTheBodyForItsOwnRecipients() async throws {
        final class BodyRecorder: VoiceProvider, Sendable {
            let name = "hook"
            let type = ProviderType.webhook
            let bodies = Mutex<[String?]>([])
            func placeCalls(_ request: CallRequest) async -> [RecipientResult] {
                bodies.withLock { $0.append(request.body) }
                return request.recipients.map { RecipientResult(recipient: $0, result: .accepted(vendorCallID: $0.name)) }
            }
        }
        let first = ScriptedProvider("first", script: [[bob.phone: refused]])
        let hook = BodyRecorder()
        var second = leg(first)
        second.provider = hook
        second.body = { recipients in recipients.map(\.name).joined(separator: ",") }
        second.request.body = "alice,bob"
        let outcomes = await CallDispatcher(clock: ManualClock()).dispatch([leg(first), second])
        #expect(hook.bodies.withLock { $0 } == ["bob"])
        #expect(outcomes.map(\.provider) == ["first", "hook"])
    }

    @Test func aVendorThatRefusesForLongerThanTheCapFailsOverAtOnce() async throws {
        let clock = ManualClock()
        let limited = CallResult.retryable(VendorError(code: "isv.BUSINESS_LIMIT_CONTROL", message: "1/min", retryAfter: .seconds(60)))
        let first = ScriptedProvider("aliyun", script: [[alice.phone: limited, bob.phone: limited]])
        let second = ScriptedProvider("huawei", script: [])
        let outcomes = await CallDispatcher(clock: clock).dispatch([leg(first), leg(second)])
        #expect(clock.sleeps.isEmpty)
        #expect(first.attempts.count == 1)
        #expect(outcomes.map(\.provider) == ["huawei", "huawei"])
    }

    @Test func theLastProviderWaitsOutAVendorsHintBeyondTheCap() async throws {
        // Only Aliyun on the route and a second page within the minute: waiting is the only way.
        let clock = ManualClock()
        let aliyun = ScriptedProvider("aliyun", script: [[alice.phone: limited], [:]])
        let outcomes = await dispatchPassingTime(CallDispatcher(clock: clock, jitter: { 1.0 }), [leg(aliyun)])
        #expect(clock.sleeps == [.seconds(60)])
        #expect(aliyun.attempts == [[alice.phone, bob.phone], [alice.phone]])
        #expect(outcomes.map(\.result.isAccepted) == [true, true])
    }

    @Test func theLastProviderDoesNotWaitPastTheBound() async throws {
        let clock = ManualClock()
        let hint = CallResult.retryable(VendorError(code: "throttled", message: "come back in an hour", retryAfter: .seconds(3600)))
        let only = ScriptedProvider("only", script: [[alice.phone: hint]])
        let outcomes = await dispatchPassingTime(CallDispatcher(clock: clock, maxVendorWait: .seconds(300)), [leg(only)])
        #expect(clock.sleeps.isEmpty)
        #expect(only.attempts.count == 1)
        #expect(outcomes.map(\.result) == [hint, .accepted(vendorCallID: "only-\(bob.phone)")])
    }

    @Test func aQuotaRefusalFailsOverAtOnceEvenWithinTheCap() async throws {
        // Failed calls count toward Aliyun's 5/hour and 20/day: retrying it burns the quota.
        let clock = ManualClock()
        let aliyun = ScriptedProvider("aliyun", script: [[alice.phone: limited]])
        let huawei = ScriptedProvider("huawei", script: [])
        let outcomes = await dispatchPassingTime(CallDispatcher(clock: clock), [leg(aliyun, maxBackoff: .seconds(120)), leg(huawei)])
        #expect(clock.sleeps.isEmpty)
        #expect(aliyun.attempts.count == 1)
        #expect(huawei.attempts == [[alice.phone]])
        #expect(outcomes.map(\.provider) == ["huawei", "aliyun"])
    }

    @Test func aShortHintWithinTheCapIsWaitedOnTheSameProvider() async throws {
        let clock = ManualClock()
        let slowDown = CallResult.retryable(VendorError(code: "klaxon.http_429", message: "slow down", retryAfter: .seconds(5)))
        let first = ScriptedProvider("first", script: [[alice.phone: slowDown], [:]])
        let second = ScriptedProvider("second", script: [])
        let dispatcher = CallDispatcher(clock: clock, jitter: { 0 })
        let task = Task { await dispatcher.dispatch([leg(first), leg(second)]) }
        await clock.waitForSleepers()
        clock.advance(by: .seconds(5))
        let outcomes = await task.value
        #expect(clock.sleeps == [.seconds(5)])
        #expect(second.attempts.isEmpty)
        #expect(outcomes.map(\.provider) == ["first", "first"])
    }

    @Test func everyAttemptIsReportedBeforeAndAfter() async throws {
        let clock = ManualClock()
        let first = ScriptedProvider("first", script: [[alice.phone: refused]])
        let second = ScriptedProvider("second", script: [])
        let events = Mutex<[String]>([])
        _ = await CallDispatcher(clock: clock).dispatch([leg(first), leg(second)]) { event in
            let line: String
            switch event {
            case .attempting(let provider, let attempt, let recipients): line = "start \(provider)#\(attempt) \(recipients.map(\.name))"
            case .attempted(let provider, let attempt, let results): line = "done \(provider)#\(attempt) \(results.map(\.result.isAccepted))"
            case .waiting(let provider, let delay): line = "wait \(provider) \(delay)"
            case .accepted(let provider, let attempt, let result): line = "accepted \(provider)#\(attempt) \(result.recipient.name)"
            }
            events.withLock { $0.append(line) }
        }
        #expect(
            events.withLock { $0 } == [
                "start first#1 [\"alice\", \"bob\"]", "done first#1 [false, true]",
                "start second#1 [\"alice\"]", "done second#1 [true]",
            ]
        )
    }

    @Test func everyProviderFailingLeavesTheLastResult() async throws {
        let first = ScriptedProvider("first", script: [[alice.phone: refused, bob.phone: refused]])
        let second = ScriptedProvider("second", script: [[alice.phone: refused, bob.phone: refused]])
        let outcomes = await CallDispatcher(clock: ManualClock()).dispatch([leg(first, attempts: 1), leg(second, attempts: 1)])
        #expect(outcomes.map(\.provider) == ["second", "second"])
        #expect(outcomes.map(\.result) == [refused, refused])
    }
}
