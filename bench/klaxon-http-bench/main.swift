import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

// Helpers for bench/webhook.sh (run it, not this, directly):
//   klaxon-http-bench bare PORT
//       the ceiling: a Hummingbird endpoint that reads the body and answers 200.
//   klaxon-http-bench paced KLAXON_URL RECEIVER_PORT RATE SECONDS BODY_FILE [CONNECTIONS]
//       posts BODY_FILE (with @SEQ@ as seq-N) to KLAXON_URL at RATE requests a second, open
//       loop over CONNECTIONS (64) keep-alive connections, while a receiver on RECEIVER_PORT
//       takes the webhook provider's calls; prints p50/p99 of the webhook's answer and of
//       receipt → first call at the receiver, both from each request's scheduled time.

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    print("usage: klaxon-http-bench bare PORT | paced KLAXON_URL RECEIVER_PORT RATE SECONDS BODY_FILE [CONNECTIONS]")
    exit(2)
}

switch arguments[1] {
case "bare":
    let router = Router()
    router.post("/webhook/alertmanager") { request, _ -> HTTPResponse.Status in
        _ = try await request.body.collect(upTo: 1 << 20)
        return .ok
    }
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: Int(arguments[2])!)))
    try await app.runService()

case "paced":
    try await paced(arguments)

default:
    print("unknown mode \(arguments[1])")
    exit(2)
}

nonisolated func paced(_ arguments: [String]) async throws {
    guard arguments.count >= 7, let target = Target(arguments[2]), let address = target.address else {
        print("usage: klaxon-http-bench paced http://IPv4:PORT/PATH RECEIVER_PORT RATE SECONDS BODY_FILE [CONNECTIONS]")
        exit(2)
    }
    let receiverPort = Int(arguments[3])!
    let rate = Double(arguments[4])!
    let seconds = Double(arguments[5])!
    let template = RequestTemplate(target: target, body: Array(try Data(contentsOf: URL(fileURLWithPath: arguments[6]))))
    let connections = arguments.count > 7 ? Int(arguments[7])! : 64

    // The receiver's arrival times, from each request's scheduled time.
    let recorder = Recorder(rate: rate, seconds: seconds)
    let router = Router()
    router.post("/call") { request, _ -> HTTPResponse.Status in
        let body = try await request.body.collect(upTo: 1 << 20)
        let now = monotonicNanoseconds()
        if let sequence = body.withUnsafeReadableBytes({ sequenceNumber(in: $0) }), sequence < recorder.total,
            recorder.begin.load(ordering: .acquiring) != 0
        {
            let elapsed = Double(Int64(bitPattern: now &- recorder.scheduled(sequence))) / 1e6
            recorder.firstCall.withLock { $0.append(elapsed) }
        }
        return .ok
    }
    // Quiet: cancelling it at the end makes Hummingbird log errors that mean nothing here.
    var receiverLogger = Logger(label: "receiver")
    receiverLogger.logLevel = .critical
    let receiver = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: receiverPort)),
        logger: receiverLogger
    )
    let receiverTask = Task { try await receiver.runService() }
    try await Task.sleep(for: .milliseconds(500))

    // Connect every connection first, so connecting is not in the first requests' latency.
    let schedule = Schedule()
    let workers = (0..<connections).map { _ in Worker(address: address, template: template, recorder: recorder, schedule: schedule) }
    recorder.begin.store(monotonicNanoseconds() + 10_000_000, ordering: .releasing)
    for worker in workers { worker.start() }
    while schedule.finished.load(ordering: .acquiring) < connections {
        try await Task.sleep(for: .milliseconds(10))
    }
    try await Task.sleep(for: .seconds(2))

    let webhook = workers.flatMap(\.answers)
    let failures = workers.reduce(0) { $0 + $1.failures }
    let calls = recorder.firstCall.withLock { $0 }
    print(String(format: "paced %.0f req/s for %.0f s: %d sent, %d failed", rate, seconds, recorder.total, failures))
    print(
        String(
            format: "webhook answer   p50 %.2f ms  p99 %.2f ms  max %.2f ms",
            percentile(webhook, 0.5),
            percentile(webhook, 0.99),
            webhook.max() ?? .nan
        )
    )
    print(
        String(
            format: "receipt to call  p50 %.2f ms  p99 %.2f ms  max %.2f ms  (%d calls received)",
            percentile(calls, 0.5),
            percentile(calls, 0.99),
            calls.max() ?? .nan,
            calls.count
        )
    )
    receiverTask.cancel()
    exit(0)
}
