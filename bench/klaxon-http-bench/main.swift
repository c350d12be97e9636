import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import Synchronization

// Helpers for bench/webhook.sh (run it, not this, directly):
//   klaxon-http-bench bare PORT
//       the ceiling: a Hummingbird endpoint that reads the body and answers 200.
//   klaxon-http-bench paced KLAXON_URL RECEIVER_PORT RATE SECONDS BODY_FILE
//       posts BODY_FILE (with @SEQ@ made unique) to KLAXON_URL at RATE requests a second,
//       open loop, while a receiver on RECEIVER_PORT takes the webhook provider's calls;
//       prints p50/p99 of the webhook's answer and of receipt → first call at the receiver.

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    print("usage: klaxon-http-bench bare PORT | paced KLAXON_URL RECEIVER_PORT RATE SECONDS BODY_FILE")
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
    let target = arguments[2]
    let receiverPort = Int(arguments[3])!
    let rate = Double(arguments[4])!
    let seconds = Double(arguments[5])!
    let template = try String(contentsOfFile: arguments[6], encoding: .utf8)

    // Send times by sequence number, and the receiver's arrival times.
    let recorder = Recorder()
    let router = Router()
    router.post("/call") { request, _ -> HTTPResponse.Status in
        let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
        let now = ContinuousClock.now
        if let range = body.range(of: #"seq-[0-9]+"#, options: .regularExpression),
            let start = recorder.sent.withLock({ $0[String(body[range])] })
        {
            recorder.firstCall.withLock { $0.append(milliseconds(now - start)) }
        }
        return .ok
    }
    let receiver = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: receiverPort)))
    let receiverTask = Task { try await receiver.runService() }
    try await Task.sleep(for: .milliseconds(500))

    let total = Int(rate * seconds)
    let interval = Duration.seconds(1 / rate)
    let begin = ContinuousClock.now
    await withDiscardingTaskGroup { group in
        for index in 0..<total {
            try? await Task.sleep(until: begin + interval * index, clock: .continuous)
            group.addTask {
                let seq = "seq-\(index)"
                var request = HTTPClientRequest(url: target)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: template.replacingOccurrences(of: "@SEQ@", with: seq)))
                let start = ContinuousClock.now
                recorder.sent.withLock { $0[seq] = start }
                do {
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                    _ = try await response.body.collect(upTo: 1 << 20)
                    let elapsed = ContinuousClock.now - start
                    if response.status == .ok {
                        recorder.answers.withLock { $0.append(milliseconds(elapsed)) }
                    } else {
                        recorder.failures.add(1, ordering: .relaxed)
                    }
                } catch {
                    recorder.failures.add(1, ordering: .relaxed)
                }
            }
        }
    }
    try await Task.sleep(for: .seconds(2))
    let webhook = recorder.answers.withLock { $0 }
    let calls = recorder.firstCall.withLock { $0 }
    print(String(format: "paced %.0f req/s for %.0f s: %d sent, %d failed", rate, seconds, total, recorder.failures.load(ordering: .relaxed)))
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
