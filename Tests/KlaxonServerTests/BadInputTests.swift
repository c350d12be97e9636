import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import VendorFakes

@Suite("klaxon serve: bad input, auth, reload, health")
struct BadInputTests {
    let yaml = aliyunRules(endpoint: "http://127.0.0.1:1", extra: "")

    @Test func malformedPayloadsGetA4xxWithWhereAndNothingIsRecorded() async throws {
        try await withKlaxon(yaml.replacingOccurrences(of: "  api_token: api-secret\n", with: "  api_token: api-secret\n  body_limit: 64KiB\n")) {
            klaxon in
            let truncated = try await klaxon.post("/webhook/alertmanager", #"{"version":"4","alerts":[{"status":"firing""#, headers: amAuth)
            #expect(truncated.status == 400)
            #expect(truncated.json["error"] as? String == "invalid alertmanager payload")
            #expect((truncated.json["detail"] as? String)?.contains("malformed JSON at byte") == true)

            let wrongVersion = try await klaxon.post(
                "/webhook/alertmanager",
                try sample("alertmanager-0.25-firing.json").replacingOccurrences(of: #""version":"4""#, with: #""version":"3""#),
                headers: amAuth
            )
            #expect(wrongVersion.status == 400)
            #expect((wrongVersion.json["detail"] as? String)?.contains("version") == true)

            let badAlert = try await klaxon.post(
                "/webhook/json/ops",
                #"[{"labels":{"alertname":"A","oncall":"voice"}},{"status":"fire","labels":{"alertname":"B"}}]"#,
                headers: [("Authorization", "Basic " + Data("ops:ops-pass".utf8).base64EncodedString())]
            )
            #expect(badAlert.status == 400)
            #expect((badAlert.json["detail"] as? String)?.contains("$[1].status") == true)

            let unknown = try await klaxon.post("/webhook/json/nosuch", "{}", headers: amAuth)
            #expect(unknown.status == 404)
            #expect(unknown.json["detail"] as? String == #"no input named "nosuch" under inputs:"#)
            let wrongType = try await klaxon.post("/webhook/json/alertmanager", "{}", headers: amAuth)
            #expect(wrongType.status == 404)

            let big = String(repeating: "x", count: 64 * 1024 + 1)
            let tooLarge = try await klaxon.post("/webhook/alertmanager", big, headers: amAuth)
            #expect(tooLarge.status == 413)
            #expect(tooLarge.json["error"] as? String == "body too large")

            let list = try await klaxon.get("/api/v1/incidents?state=all", headers: apiAuth)
            #expect((list.json["incidents"] as? [[String: Any]])?.isEmpty == true)
        }
    }

    /// A Unix time too large for the store's milliseconds is a 400 that names the field, not a
    /// trap that takes the process, and every page in flight, down with it.
    @Test func anOutOfRangeTimestampGets400AndTheServerKeepsServing() async throws {
        try await withKlaxon(yaml) { klaxon in
            let basic = [("Authorization", "Basic " + Data("ops:ops-pass".utf8).base64EncodedString())]
            for startsAt in ["1e20", #""9300000000000000000""#] {
                let body = #"{"labels":{"alertname":"x","oncall":"voice"},"startsAt":\#(startsAt)}"#
                let answer = try await klaxon.post("/webhook/json/ops", body, headers: basic)
                #expect(answer.status == 400, "\(startsAt)")
                #expect((answer.json["detail"] as? String)?.contains("$.startsAt: expected Unix seconds") == true, "\(startsAt)")
            }
            #expect(try await klaxon.get("/healthz").status == 200)
            let none = try await klaxon.get("/api/v1/incidents?state=all", headers: apiAuth)
            #expect((none.json["incidents"] as? [[String: Any]])?.isEmpty == true)

            let sane = #"{"labels":{"alertname":"x","oncall":"voice"},"startsAt":1795373807}"#
            #expect(try await klaxon.post("/webhook/json/ops", sane, headers: basic).status == 200)
            let one = try await klaxon.get("/api/v1/incidents?state=all", headers: apiAuth)
            #expect((one.json["incidents"] as? [[String: Any]])?.count == 1)
        }
    }

    @Test func aStalledBodyGets408AndNothingIsRecorded() async throws {
        try await withKlaxon(yaml, bodyTimeout: .milliseconds(300)) { klaxon in
            var request = HTTPClientRequest(url: klaxon.baseURL + "/webhook/alertmanager")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer am-secret")
            let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
            request.body = .stream(stream, length: .known(Int64(1000)))
            continuation.yield(ByteBuffer(string: #"{"version":"4","alerts":["#))
            let started = ContinuousClock.now
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            #expect(response.status == .requestTimeout)
            // Well before the client's own 30 s: the server gave up, not the client. Not
            // tighter: with the whole suite at once on two cores it once took 5.09 s.
            #expect(ContinuousClock.now - started < .seconds(20))
            let body = String(buffer: try await response.body.collect(upTo: 1 << 16))
            #expect(body.contains("body too slow"))
            continuation.finish()
            let list = try await klaxon.get("/api/v1/incidents?state=all", headers: apiAuth)
            #expect((list.json["incidents"] as? [[String: Any]])?.isEmpty == true)
        }
    }

    /// A stalled body holds no connection: after its 408 the server closes the connection
    /// rather than wait for the rest of the body.
    @Test(.timeLimit(.minutes(1))) func aStalledBodyGets408AndItsConnectionIsClosed() async throws {
        try await withKlaxon(yaml, bodyTimeout: .milliseconds(300)) { klaxon in
            let port = try #require(klaxon.baseURL.split(separator: ":").last.flatMap { Int($0) })
            let partial = #"{"version":"4","alerts":["#
            let head =
                "POST /webhook/alertmanager HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer am-secret\r\n"
                + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
            let answer = try await exchange(port: port, send: head + partial)
            #expect(answer.hasPrefix("HTTP/1.1 408"))
            #expect(answer.contains("body too slow"))
            let list = try await klaxon.get("/api/v1/incidents?state=all", headers: apiAuth)
            #expect((list.json["incidents"] as? [[String: Any]])?.isEmpty == true)
        }
    }

    /// A declared length over the limit is refused before any of the body is read: the 413
    /// comes at once though the body never arrives (2,000,000 bytes declared against the
    /// default limit of 1 MiB; the body timeout is a minute here).
    @Test(.timeLimit(.minutes(1))) func aDeclaredLengthOverTheLimitGets413AtOnce() async throws {
        try await withKlaxon(yaml, bodyTimeout: .seconds(60)) { klaxon in
            let port = try #require(klaxon.baseURL.split(separator: ":").last.flatMap { Int($0) })
            let head =
                "POST /webhook/alertmanager HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer am-secret\r\n"
                + "Content-Type: application/json\r\nContent-Length: 2000000\r\n\r\n"
            let started = ContinuousClock.now
            let answer = try await exchange(port: port, send: head + #"{"version":"4","#, untilClosed: false)
            #expect(answer.hasPrefix("HTTP/1.1 413"))
            #expect(answer.contains("body too large"))
            // Well before the client's own 30 s: the server gave up, not the client. Not
            // tighter: with the whole suite at once on two cores it once took 5.09 s.
            #expect(ContinuousClock.now - started < .seconds(20))
        }
    }

    @Test func tokensAreRequiredWhereConfigured() async throws {
        try await withKlaxon(yaml) { klaxon in
            let firing = try sample("alertmanager-0.25-firing.json")
            for headers in [[], [("Authorization", "Bearer nope")], [("Authorization", "Bearer am-secre")], [("Authorization", "Basic YTpi")]] {
                let answer = try await klaxon.post("/webhook/alertmanager", firing, headers: headers)
                #expect(answer.status == 401)
                #expect(answer.body == #"{"error":"unauthorized"}"#)
            }
            let basic = [("Authorization", "Basic " + Data("ops:wrong".utf8).base64EncodedString())]
            #expect(try await klaxon.post("/webhook/json/ops", "[]", headers: basic).status == 401)
            // The password and 256 NUL bytes more: a length compared as one byte would match.
            let padded = Data("ops:ops-pass".utf8) + Data(repeating: 0, count: 256)
            #expect(
                try await klaxon.post("/webhook/json/ops", "[]", headers: [("Authorization", "Basic " + padded.base64EncodedString())]).status == 401
            )
            #expect(try await klaxon.get("/api/v1/incidents").status == 401)
            #expect(try await klaxon.get("/api/v1/incidents", headers: amAuth).status == 401)
            #expect(try await klaxon.post("/-/reload", "").status == 401)
            #expect(try await klaxon.get("/api/v1/incidents", headers: apiAuth).status == 200)
            #expect(try await klaxon.post("/webhook/alertmanager/alertmanager", firing, headers: amAuth).status == 200)
            // The API token opens source endpoints too (`klaxon email` sends it).
            #expect(try await klaxon.post("/webhook/alertmanager", firing, headers: apiAuth).status == 200)
        }
    }

    @Test func apiAnswersMissingAndConflictingIncidents() async throws {
        try await withKlaxon(yaml) { klaxon in
            #expect(try await klaxon.get("/api/v1/incidents/42", headers: apiAuth).status == 404)
            #expect(try await klaxon.get("/api/v1/incidents/abc", headers: apiAuth).status == 400)
            #expect(try await klaxon.get("/api/v1/incidents?state=sleeping", headers: apiAuth).status == 400)
            #expect(try await klaxon.post("/api/v1/incidents/42/ack", "", headers: apiAuth).status == 404)
            #expect(try await klaxon.post("/webhook/alertmanager", try sample("alertmanager-0.25-firing.json"), headers: amAuth).status == 200)
            #expect(try await klaxon.post("/api/v1/incidents/1/ack", "{not json", headers: apiAuth).status == 400)
            #expect(try await klaxon.post("/api/v1/incidents/1/resolve", "", headers: apiAuth).json["resolved_by"] as? String == "api")
            let conflict = try await klaxon.post("/api/v1/incidents/1/ack", "", headers: apiAuth)
            #expect(conflict.status == 409)
            #expect(conflict.json["detail"] as? String == "incident 1 is already resolved")
        }
    }

    @Test func brokenRulesAreRefusedOnReloadAndTheOldOnesKeepServing() async throws {
        try await withKlaxon(yaml) { klaxon in
            let rules = klaxon.directory.appendingPathComponent("rules.yaml")
            let broken = yaml.replacingOccurrences(of: "escalation: voice", with: "escalation: voise")
            try broken.write(to: rules, atomically: true, encoding: .utf8)
            let refused = try await klaxon.post("/-/reload", "", headers: apiAuth)
            #expect(refused.status == 400)
            #expect(refused.json["error"] as? String == "rules rejected")
            let errors = refused.json["errors"] as? [String] ?? []
            #expect(errors.count == 1)
            #expect(errors.first?.contains("rules.yaml:") == true)
            #expect(errors.first?.contains("voise") == true)
            #expect(try await klaxon.post("/webhook/alertmanager", try sample("alertmanager-0.25-firing.json"), headers: amAuth).status == 200)

            // A valid change applies: the Alertmanager token changes.
            try yaml.replacingOccurrences(of: "token: am-secret", with: "token: am-rotated").write(to: rules, atomically: true, encoding: .utf8)
            let reloaded = try await klaxon.post("/-/reload", "", headers: apiAuth)
            #expect(reloaded.status == 200)
            #expect(reloaded.json["status"] as? String == "reloaded")
            #expect(try await klaxon.post("/webhook/alertmanager", "{}", headers: amAuth).status == 401)
        }
    }

    @Test func healthReadinessAndMetricsAnswer() async throws {
        try await withKlaxon(yaml) { klaxon in
            #expect(try await klaxon.get("/healthz").status == 200)
            #expect(try await klaxon.get("/readyz").body == "ready\n")
            let metrics = try await klaxon.get("/metrics")
            #expect(metrics.status == 200)
        }
    }
}

/// Sends `text` on a new connection to 127.0.0.1:`port` and returns everything read until
/// the server closes the connection, or, without `untilClosed`, what the first read returns
/// (an answer sent while the connection stays open); fails after 10 s without either.
private func exchange(port: Int, send text: String, untilClosed: Bool = true) async throws -> String {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try blockingExchange(port: port, send: text, untilClosed: untilClosed) })
        }
    }
}

private struct SocketError: Error, CustomStringConvertible {
    var description: String
}

private func blockingExchange(port: Int, send text: String, untilClosed: Bool) throws -> String {
    let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { throw SocketError(description: "socket() failed") }
    defer { close(socket) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
    guard connected else { throw SocketError(description: "connect to port \(port) failed") }
    let bytes = Array(text.utf8)
    guard write(socket, bytes, bytes.count) == bytes.count else { throw SocketError(description: "write failed") }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = read(socket, &buffer, buffer.count)
        if count == 0 { return String(decoding: received, as: UTF8.self) }
        guard count > 0 else {
            throw SocketError(description: "connection not closed; read so far: \(String(decoding: received, as: UTF8.self))")
        }
        received += buffer[0..<count]
        if !untilClosed { return String(decoding: received, as: UTF8.self) }
    }
}
