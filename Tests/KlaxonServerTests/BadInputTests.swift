import AsyncHTTPClient
import Foundation
import KlaxonCore
import KlaxonEngine
import KlaxonRules
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization
import Testing
import VendorFakes

@testable import KlaxonServer

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

    /// A connection that sends half a request head and then nothing is closed once it has
    /// been idle for the idle timeout: such sockets, needing no credential, would otherwise
    /// pile up until no webhook is accepted.
    @Test(.timeLimit(.minutes(1))) func aHalfSentHeadIsClosedWhenIdle() async throws {
        try await withKlaxon(yaml, idleTimeout: .seconds(1)) { klaxon in
            let port = try #require(klaxon.baseURL.split(separator: ":").last.flatMap { Int($0) })
            let started = ContinuousClock.now
            let answer = try await exchange(port: port, send: "POST /webhook/alertmanager HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            #expect(!answer.hasPrefix("HTTP/1.1 2"))
            #expect(ContinuousClock.now - started < .seconds(8))
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

    @Test func credentialsMatchOnlyTheWholeSecret() {
        #expect(Credentials.constantTimeEquals("s3cret", "s3cret"))
        #expect(Credentials.constantTimeEquals("", ""))
        for guess in ["", "s", "s3cre", "s3cres", "s3cret ", "s3cret\u{0}", "S3cret", String(repeating: "s3cret", count: 1000)] {
            #expect(!Credentials.constantTimeEquals(guess, "s3cret"), "\(guess.prefix(20))")
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
            // An input without a credential of its own (here the implicit `default`) is not
            // open while an API token is set: it takes that token.
            let plain = #"{"labels":{"alertname":"x","oncall":"voice"}}"#
            #expect(try await klaxon.post("/webhook/json/default", plain).status == 401)
            #expect(try await klaxon.post("/webhook/json/default", plain, headers: apiAuth).status == 200)
        }
    }

    /// A stranger learns nothing of the configuration: an unknown input, an input posted to
    /// the wrong endpoint and an existing one all answer the same bare 401. Only a caller
    /// with a credential some source accepts gets the 404 that says what is wrong.
    @Test func unknownInputsAnswerStrangersLikeKnownOnes() async throws {
        try await withKlaxon(yaml) { klaxon in
            let paths = [
                "/webhook/json/nosuch", "/webhook/alertmanager/nosuch", "/webhook/email/nosuch", "/webhook/json/alertmanager",
                "/webhook/email/ops", "/webhook/json/ops", "/webhook/alertmanager/alertmanager",
            ]
            let strangers = [[], [("Authorization", "Bearer nope")], [("Authorization", "Basic " + Data("ops:wrong".utf8).base64EncodedString())]]
            for path in paths {
                for headers in strangers {
                    let answer = try await klaxon.post(path, "{}", headers: headers)
                    #expect(answer.status == 401, "\(path) \(headers)")
                    #expect(answer.body == #"{"error":"unauthorized"}"#, "\(path) \(headers)")
                }
            }
            let opsAuth = [("Authorization", "Basic " + Data("ops:ops-pass".utf8).base64EncodedString())]
            for headers in [apiAuth, amAuth, opsAuth] {
                let unknown = try await klaxon.post("/webhook/json/nosuch", "{}", headers: headers)
                #expect(unknown.status == 404, "\(headers)")
                #expect(unknown.json["detail"] as? String == #"no input named "nosuch" under inputs:"#)
            }
            let wrongType = try await klaxon.post("/webhook/email/ops", "{}", headers: opsAuth)
            #expect(wrongType.status == 404)
            #expect(wrongType.json["error"] as? String == "wrong endpoint for input")
        }

        // With source_token, it opens the 404 too.
        let sourceToken = yaml.replacingOccurrences(of: "  api_token: api-secret\n", with: "  api_token: api-secret\n  source_token: src-secret\n")
        try await withKlaxon(sourceToken) { klaxon in
            let stranger = try await klaxon.post("/webhook/json/nosuch", "{}")
            #expect(stranger.status == 401)
            #expect(try await klaxon.post("/webhook/json/nosuch", "{}", headers: [("Authorization", "Bearer src-secret")]).status == 404)
        }

        // With source_token and no api_token, the API and reload take the source token: an
        // unguarded ack on a wide listener would stop a page.
        let sourceOnly = yaml.replacingOccurrences(of: "  api_token: api-secret\n", with: "  source_token: src-secret\n")
        try await withKlaxon(sourceOnly) { klaxon in
            let list = try await klaxon.get("/api/v1/incidents")
            #expect(list.status == 401)
            #expect(try await klaxon.post("/api/v1/incidents/1/ack", #"{"by": "mallory"}"#).status == 401)
            #expect(try await klaxon.post("/-/reload", "").status == 401)
            #expect(try await klaxon.get("/api/v1/incidents", headers: [("Authorization", "Bearer src-secret")]).status == 200)
        }

        // No credential anywhere: nothing to protect, and the 404 helps whoever set it up.
        try await withKlaxon(openRules) { klaxon in
            let unknown = try await klaxon.post("/webhook/json/nosuch", "{}")
            #expect(unknown.status == 404)
            #expect(unknown.json["detail"] as? String == #"no input named "nosuch" under inputs:"#)
            #expect(try await klaxon.post("/webhook/json/alertmanager", "{}").status == 404)
        }
    }

    /// Callbacks check `?token=` (or, for a signed Huawei provider, the signature) before
    /// telling whether the provider exists or what type it is.
    @Test func unknownProvidersAnswerStrangersLikeKnownOnes() async throws {
        let rules = yaml.replacingOccurrences(
            of: "providers:\n",
            with: """
                providers:
                  sim: {type: simulator}
                  huawei: {type: huawei-aicc, endpoint: "http://127.0.0.1:1", app_key: k, app_secret: s, callback_shared_key: shared}

                """
        )
        try await withKlaxon(rules) { klaxon in
            let big = String(repeating: "x", count: (1 << 20) + 1)
            for path in ["/callbacks/nosuch", "/callbacks/sim", "/callbacks/aliyun", "/callbacks/huawei"] {
                for query in ["", "?token=wrong"] {
                    for body in ["{}", "not json", big] {
                        let answer = try await klaxon.post(path + query, body)
                        #expect(answer.status == 401, "\(path)\(query) \(body.prefix(10))")
                        #expect(answer.body == #"{"error":"unauthorized"}"#, "\(path)\(query) \(body.prefix(10))")
                    }
                }
            }
            let unknown = try await klaxon.post("/callbacks/nosuch?token=cb-secret", "{}")
            #expect(unknown.status == 404)
            #expect(unknown.json["detail"] as? String == #"no provider named "nosuch" under providers:"#)
            let simulator = try await klaxon.post("/callbacks/sim?token=cb-secret", "{}")
            #expect(simulator.status == 404)
            #expect(simulator.json["error"] as? String == "no callbacks")
        }

        // Without callback_token, only Huawei's signature is a credential: no caller can
        // show one for a name that is no provider.
        try await withKlaxon(rules.replacingOccurrences(of: "  callback_token: cb-secret\n", with: "")) { klaxon in
            let unknown = try await klaxon.post("/callbacks/nosuch", "{}")
            #expect(unknown.body == #"{"error":"unauthorized"}"#)
            #expect(try await klaxon.post("/callbacks/huawei", "{}").body == #"{"error":"unauthorized"}"#)
        }

        // No callback credential anywhere: callbacks are open, and the 404 says why.
        try await withKlaxon(openRules) { klaxon in
            let unknown = try await klaxon.post("/callbacks/nosuch", "{}")
            #expect(unknown.status == 404)
        }
    }

    /// During a rotation `callback_token` lists the new token and the old one: reports with
    /// either are let in, others are not.
    @Test func everyListedCallbackTokenIsAccepted() async throws {
        let rules = yaml.replacingOccurrences(of: "  callback_token: cb-secret\n", with: "  callback_token: [cb-new, cb-secret]\n")
        #expect(rules != yaml)
        try await withKlaxon(rules.replacingOccurrences(of: "providers:\n", with: "providers:\n  sim: {type: simulator}\n")) { klaxon in
            for token in ["cb-new", "cb-secret"] {
                let answer = try await klaxon.post("/callbacks/sim?token=" + token, "{}")
                #expect(answer.status == 404, "\(token)")
                // The path form Huawei's URLs use, which may not hold `=`.
                #expect(try await klaxon.post("/callbacks/sim/" + token, "{}").status == 404, "\(token)")
            }
            for query in ["", "?token=cb-ne", "?token=cb-secretx", "?token=cb-new,cb-secret", "/cb-ne", "/cb-secretx", "/x?token=cb-new"] {
                let answer = try await klaxon.post("/callbacks/sim" + query, "{}")
                #expect(answer.status == 401, "\(query)")
            }
        }
    }

    /// During a rotation `api_token`, `source_token` and an input's `token` list the new
    /// token and the old one: either is let in, others are not.
    @Test func everyListedAPIAndSourceTokenIsAccepted() async throws {
        let rules = yaml.replacingOccurrences(of: "  api_token: api-secret\n", with: "  api_token: [api-new, api-secret]\n")
            .replacingOccurrences(of: "    token: am-secret\n", with: "    token: [am-new, am-secret]\n")
            .replacingOccurrences(of: "inputs:\n", with: "inputs:\n  plain: {type: json}\n")
            .replacingOccurrences(of: "server:\n", with: "server:\n  source_token: [src-new, src-old]\n")
        #expect(rules.contains("[am-new, am-secret]") && rules.contains("[api-new, api-secret]") && rules.contains("plain"))
        let fixture = try sample("alertmanager-0.25-firing.json")
        try await withKlaxon(rules) { klaxon in
            for token in ["api-new", "api-secret"] {
                #expect(try await klaxon.get("/api/v1/incidents", headers: [("Authorization", "Bearer " + token)]).status == 200, "\(token)")
            }
            for token in ["am-new", "am-secret", "api-new"] {
                let answer = try await klaxon.post("/webhook/alertmanager", fixture, headers: [("Authorization", "Bearer " + token)])
                #expect(answer.status == 200, "\(token)")
            }
            for token in ["src-new", "src-old"] {
                let answer = try await klaxon.post(
                    "/webhook/json/plain",
                    #"{"labels":{"alertname":"x"}}"#,
                    headers: [("Authorization", "Bearer " + token)]
                )
                #expect(answer.status == 200, "\(token)")
            }
            for token in ["api-ne", "am-secretx", "src-new,src-old", ""] {
                #expect(try await klaxon.get("/api/v1/incidents", headers: [("Authorization", "Bearer " + token)]).status == 401, "\(token)")
                let answer = try await klaxon.post("/webhook/alertmanager", fixture, headers: [("Authorization", "Bearer " + token)])
                #expect(answer.status == 401, "\(token)")
            }
            // An input's own tokens are its only ones: the sources' do not open it.
            #expect(try await klaxon.post("/webhook/alertmanager", fixture, headers: [("Authorization", "Bearer src-new")]).status == 401)
        }
    }

    /// A list cut by its limit says so: `klaxon incidents` must not pass for all of them.
    @Test func listsSayWhenTheirLimitCutThem() async throws {
        try await withKlaxon(yaml) { klaxon in
            let basic = [("Authorization", "Basic " + Data("ops:ops-pass".utf8).base64EncodedString())]
            for name in ["a", "b", "c"] {
                let body = #"{"labels":{"alertname":"\#(name)","oncall":"voice"}}"#
                #expect(try await klaxon.post("/webhook/json/ops", body, headers: basic).status == 200)
            }
            let cut = try await klaxon.get("/api/v1/incidents?state=all&limit=2", headers: apiAuth)
            #expect((cut.json["incidents"] as? [[String: Any]])?.compactMap { $0["title"] as? String } == ["c", "b"])
            #expect(cut.json["truncated"] as? Bool == true)
            let whole = try await klaxon.get("/api/v1/incidents?state=all&limit=3", headers: apiAuth)
            #expect((whole.json["incidents"] as? [[String: Any]])?.count == 3)
            #expect(whole.json["truncated"] as? Bool == false)
            #expect(try await klaxon.get("/api/v1/calls", headers: apiAuth).json["truncated"] as? Bool == false)
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
            // A name with a line break would forge a log line.
            let forged = try await klaxon.post(
                "/api/v1/incidents/1/ack",
                #"{"by":"alice\n2026-12-07 info klaxon: incident resolved"}"#,
                headers: apiAuth
            )
            #expect(forged.status == 400)
            #expect(forged.json["detail"] as? String == "by: control characters (line breaks, tabs) are not allowed in a name")
            #expect(
                try await klaxon.post("/api/v1/incidents/1/ack", #"{"by":7}"#, headers: apiAuth).json["detail"] as? String
                    == #"expected {"by": "name"}, with by a string"#
            )
            #expect(try await klaxon.post("/api/v1/incidents/1/resolve", "", headers: apiAuth).json["resolved_by"] as? String == "api")
            // Paths with no endpoint answer like every other error: JSON that says what.
            let nowhere = try await klaxon.get("/api/v1/incident/1", headers: apiAuth)
            #expect(nowhere.status == 404)
            #expect(nowhere.json["error"] as? String == "not found")
            #expect(nowhere.json["detail"] as? String == "no endpoint GET /api/v1/incident/1")
            let wrongMethod = try await klaxon.get("/-/reload", headers: apiAuth)
            #expect(wrongMethod.status >= 400 && wrongMethod.json["error"] != nil, "\(wrongMethod.status) \(wrongMethod.body)")
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

    /// Started with a token on a wider address than loopback (where `klaxon serve` would not
    /// have gone without one), a reload that drops every token is refused: it would open the
    /// API and ack to the network. On loopback the same rules load.
    @Test func aReloadThatDropsEveryTokenOnAWideAddressIsRefused() async throws {
        let wide = yaml.replacingOccurrences(of: "  api_token: api-secret\n", with: "  api_token: api-secret\n  listen: 0.0.0.0:9095\n")
        try await withKlaxon(wide) { klaxon in
            // The harness binds 127.0.0.1; the reloader is told what `klaxon serve` would bind.
            klaxon.reloader.serving = ServingSettings(
                options: ServeOptions(configPaths: []),
                repository: klaxon.engine.rules.repository,
                host: "0.0.0.0"
            )
            let rules = klaxon.directory.appendingPathComponent("rules.yaml")
            try wide.replacingOccurrences(of: "  api_token: api-secret\n", with: "").write(to: rules, atomically: true, encoding: .utf8)
            let refused = try await klaxon.post("/-/reload", "", headers: apiAuth)
            #expect(refused.status == 400)
            #expect(refused.json["error"] as? String == "rules rejected")
            let errors = refused.json["errors"] as? [String] ?? []
            #expect(errors.count == 1)
            #expect(errors.first?.contains("neither api_token nor source_token, but klaxon listens on 0.0.0.0") == true)
            #expect(try await klaxon.get("/api/v1/incidents").status == 401)

            klaxon.reloader.serving = ServingSettings(
                options: ServeOptions(configPaths: []),
                repository: klaxon.engine.rules.repository,
                host: "127.0.0.1"
            )
            #expect(try await klaxon.post("/-/reload", "", headers: apiAuth).status == 200)
            #expect(try await klaxon.get("/api/v1/incidents").status == 200)
        }
    }

    /// Incidents are keyed by route name and `dedupe.by`: a reload that renames the route of
    /// an open incident, or changes its `dedupe.by`, is refused with the incidents it would
    /// strand (a repeat would page again, a recovery leave it ringing). Resolved, it goes through.
    @Test func aReloadThatWouldStrandOpenIncidentsIsRefused() async throws {
        try await withKlaxon(yaml) { klaxon in
            let firing = try sample("alertmanager-0.25-firing.json")
            #expect(try await klaxon.post("/webhook/alertmanager", firing, headers: amAuth).json["opened"] as? [Int] == [1])
            let rules = klaxon.directory.appendingPathComponent("rules.yaml")
            for (changed, what) in [
                (yaml.replacingOccurrences(of: "- name: checkout", with: "- name: checkout-voice"), "the new rules have no route of that name"),
                (
                    yaml.replacingOccurrences(of: "    match: {oncall: voice}\n", with: "    match: {oncall: voice}\n    dedupe: {by: [service]}\n"),
                    "the new rules change its dedupe.by"
                ),
            ] {
                #expect(changed != yaml)
                try changed.write(to: rules, atomically: true, encoding: .utf8)
                let refused = try await klaxon.post("/-/reload", "", headers: apiAuth)
                #expect(refused.status == 400)
                let errors = refused.json["errors"] as? [String] ?? []
                #expect(
                    errors.count == 1
                        && errors.first?.hasPrefix("route \"checkout\" holds 1 open or acknowledged incident(s) (1) and \(what)") == true,
                    "\(errors)"
                )
            }
            #expect(try await klaxon.post("/api/v1/incidents/1/resolve", "", headers: apiAuth).status == 200)
            #expect(try await klaxon.post("/-/reload", "", headers: apiAuth).status == 200)
        }
    }

    /// `server.listen`, `server.shutdown_timeout` and `store` take effect only at a restart: a reload that changes them
    /// is refused with the key, and nothing else of it applies (the API token stays).
    @Test func aReloadThatChangesListenOrStoreIsRefused() async throws {
        try await withKlaxon(yaml) { klaxon in
            let rules = klaxon.directory.appendingPathComponent("rules.yaml")
            let rotated = yaml.replacingOccurrences(of: "api_token: api-secret", with: "api_token: api-rotated")
            let changes = [
                (
                    rotated.replacingOccurrences(of: "  api_token: api-rotated\n", with: "  api_token: api-rotated\n  listen: 0.0.0.0:9095\n"),
                    "server.listen changed from 127.0.0.1:9095 to 0.0.0.0:9095: it takes effect only when klaxon serve restarts"
                ),
                (
                    rotated.replacingOccurrences(of: "  api_token: api-rotated\n", with: "  api_token: api-rotated\n  shutdown_timeout: 1m\n"),
                    "server.shutdown_timeout changed from 25.0 seconds to 60.0 seconds: it takes effect only when klaxon serve restarts"
                ),
                (
                    rotated + "store: sqlite:other.db\n",
                    "store changed from sqlite:data/klaxon.db to sqlite:other.db: it takes effect only when klaxon serve restarts"
                ),
                (
                    rotated + "store: postgres://klaxon:hunter2@db.example/klaxon\n",
                    "store changed from sqlite:data/klaxon.db to postgres://klaxon:***@db.example/klaxon: it takes effect only when klaxon serve restarts"
                ),
            ]
            for (changed, error) in changes {
                try changed.write(to: rules, atomically: true, encoding: .utf8)
                let refused = try await klaxon.post("/-/reload", "", headers: apiAuth)
                #expect(refused.status == 400)
                #expect(refused.json["errors"] as? [String] == [error])
                #expect(try await klaxon.get("/api/v1/incidents", headers: apiAuth).status == 200)
            }

            // With --listen, server.listen is not what decides the address: it may change.
            klaxon.reloader.serving = ServingSettings(
                options: ServeOptions(configPaths: [], listen: "127.0.0.1:0"),
                repository: klaxon.engine.rules.repository,
                host: "127.0.0.1"
            )
            try changes[0].0.write(to: rules, atomically: true, encoding: .utf8)
            #expect(try await klaxon.post("/-/reload", "", headers: apiAuth).status == 200)
            #expect(try await klaxon.get("/api/v1/incidents", headers: [("Authorization", "Bearer api-rotated")]).status == 200)
        }
    }

    /// SIGHUP and `POST /-/reload` at once: the reload that read the files last installs
    /// last. The first reload is held inside its install (up to a second) while the files
    /// change and a second reload starts; the second must wait for it, not overtake it.
    @Test(.timeLimit(.minutes(1))) func concurrentReloadsInstallTheLaterFilesLast() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-reload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("rules.yaml")
        try yaml.replacingOccurrences(of: "token: am-secret", with: "token: am-1").write(to: file, atomically: true, encoding: .utf8)
        let reloader = RuleReloader(paths: [file.path], environment: [:], httpClient: .shared, logger: quietLogger)
        guard case .loaded(let initial, _) = reloader.load() else {
            Issue.record("rules rejected")
            return
        }
        let installed = InstallLog()
        let firstInstalling = DispatchSemaphore(value: 0)
        let secondDone = DispatchSemaphore(value: 0)
        async let first = onThread {
            reloader.reload(current: { initial }) { rules in
                firstInstalling.signal()
                _ = secondDone.wait(timeout: .now() + 1)
                installed.append(rules)
            }
        }
        await onThread { firstInstalling.wait() }
        try yaml.replacingOccurrences(of: "token: am-secret", with: "token: am-2").write(to: file, atomically: true, encoding: .utf8)
        async let second = onThread {
            let outcome = reloader.reload(current: { initial }) { installed.append($0) }
            secondDone.signal()
            return outcome
        }
        _ = await (first, second)
        #expect(installed.tokens == ["am-1", "am-2"])
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

/// The Alertmanager input's token of each rule set installed, in order.
private final class InstallLog: Sendable {
    private let values = Mutex<[String]>([])

    var tokens: [String] { values.withLock { $0 } }

    func append(_ rules: EngineRules) {
        values.withLock { $0.append(rules.repository.inputs["alertmanager"]?.token ?? "") }
    }
}

/// Runs `body` on a thread of its own: it blocks, and must not hold one of the few threads
/// Swift concurrency has.
private func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: body()) }
    }
}

/// The test rules without any token, password or vendor key.
private let openRules = aliyunRules(endpoint: "http://127.0.0.1:1")
    .replacingOccurrences(of: "  api_token: api-secret\n  callback_token: cb-secret\n", with: "  body_limit: 1MiB\n")
    .replacingOccurrences(of: "    token: am-secret\n", with: "")
    .replacingOccurrences(of: "    basic_auth: {username: ops, password: ops-pass}\n", with: "")

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
    // Generous: the answer is expected well before; the whole suite at once on two cores is slow.
    var timeout = timeval(tv_sec: 30, tv_usec: 0)
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

extension BadInputTests {
    /// Which providers' reports nothing authenticates, for the warning when klaxon listens
    /// beyond loopback: without `callback_token`, every one that takes reports but a Huawei
    /// provider with a shared key.
    @Test func uncheckedCallbackProvidersAreTheUnsignedOnesWithoutAToken() throws {
        let providers = """
            providers:
              ali: {type: aliyun, access_key_id: k, access_key_secret: s, called_show_number: "057100000000"}
              signed: {type: huawei-aicc, endpoint: "http://127.0.0.1:1", app_key: k, app_secret: s, callback_shared_key: shared}
              unsigned: {type: huawei-aicc, endpoint: "http://127.0.0.1:1", app_key: k, app_secret: s}
              sim: {type: simulator}

            """
        let open = try #require(RuleLoader(environment: [:], mode: .serve).load(yaml: providers).repository)
        #expect(KlaxonServe.uncheckedCallbackProviders(open) == ["ali", "unsigned"])
        let guarded = try #require(RuleLoader(environment: [:], mode: .serve).load(yaml: providers + "server: {callback_token: cb}\n").repository)
        #expect(KlaxonServe.uncheckedCallbackProviders(guarded).isEmpty)
    }
}

/// A store that cannot be reached: every use fails.
private struct UnreachableStore: IncidentStore {
    struct Down: Error, CustomStringConvertible {
        var description: String { "connection refused" }
    }

    func write<T: Sendable>(_ body: @Sendable (any IncidentTransaction) async throws -> T) async throws -> T { throw Down() }
    func read<T: Sendable>(_ body: @Sendable (any IncidentTransaction) async throws -> T) async throws -> T { throw Down() }
    func ping() async throws { throw Down() }
    func close() async throws {}
}

extension BadInputTests {
    /// A reload while the store is down cannot check the open incidents it must not strand:
    /// it is not done, and says the store is the reason, not the rules (503, not 400).
    @Test func aReloadWhileTheStoreIsDownSaysSo() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-reload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("rules.yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        let reloader = RuleReloader(paths: [file.path], environment: [:], httpClient: .shared, logger: quietLogger)
        guard case .loaded(let initial, _) = reloader.load() else {
            Issue.record("rules rejected")
            return
        }
        let engine = IncidentEngine(store: UnreachableStore(), rules: initial)
        guard case .storeUnavailable(let reason) = await reloader.reload(into: engine) else {
            Issue.record("a reload with the store down was not refused as such")
            return
        }
        #expect(reason == "the store cannot list the open incidents, which a reload must not strand: connection refused")
    }
}

extension BadInputTests {
    /// A start that cannot bind its port (another process has it) fails without claiming
    /// the step that is due: calls it began would be cut short by the failure and placed
    /// again by the next start, on every restart of a supervisor.
    @Test func aStartThatCannotBindItsPortClaimsNoStep() async throws {
        try await withKlaxon(yaml) { klaxon in
            let port = try #require(Int(klaxon.baseURL.split(separator: ":").last ?? ""))
            let store = try await SQLiteIncidentStore.open(path: klaxon.directory.appendingPathComponent("second.db").path, logger: quietLogger)
            defer { Task { try? await store.close() } }
            let engine = IncidentEngine(store: store, rules: klaxon.engine.rules, logger: quietLogger)
            let opened = try await engine.ingest([Alert(status: .firing, labels: ["alertname": "DiskFull", "oncall": "voice"])])
            let incident = try #require(opened.opened.first)
            let context = ServerContext(
                engine: engine,
                reloader: klaxon.reloader,
                metrics: nil,
                logger: quietLogger,
                bodyTimeout: .seconds(10),
                idleTimeout: .seconds(75)
            )
            let app = KlaxonServe.application(context, host: "127.0.0.1", port: port)
            await #expect(throws: (any Error).self) {
                try await ServiceGroup(configuration: ServiceGroupConfiguration(services: [app], logger: quietLogger)).run()
            }
            let detail = try #require(try await engine.detail(incidentID: incident))
            #expect(detail.calls.isEmpty)
            #expect(detail.steps.first?.state == .pending)
        }
    }
}

extension BadInputTests {
    /// Started without a token, klaxon keeps to loopback whatever `server.listen` asks; a
    /// reload that adds a token would not move it there, so it is refused with the reason
    /// instead of answering "reloaded".
    @Test func aReloadAddingTheFirstTokenToAWideListenAddressNeedsARestart() throws {
        let open = try #require(RuleLoader(environment: [:], mode: .serve).load(yaml: "server: {listen: \"0.0.0.0:9095\"}\n").repository)
        let guarded = try #require(
            RuleLoader(environment: [:], mode: .serve).load(yaml: "server: {listen: \"0.0.0.0:9095\", api_token: t}\n").repository
        )
        let loopback = ServingSettings(options: ServeOptions(configPaths: []), repository: open, host: "127.0.0.1")
        let refusals = loopback.refusals(replacing: open, with: guarded)
        #expect(refusals.count == 1)
        #expect(refusals.first?.contains("listens on 127.0.0.1 only: it takes effect only when klaxon serve restarts") == true)
        // Asked for loopback by --listen, or already on the wide address: nothing to refuse.
        let flagged = ServingSettings(options: ServeOptions(configPaths: [], listen: "127.0.0.1:9095"), repository: open, host: "127.0.0.1")
        #expect(flagged.refusals(replacing: open, with: guarded).isEmpty)
        let wide = ServingSettings(options: ServeOptions(configPaths: []), repository: open, host: "0.0.0.0")
        #expect(wide.refusals(replacing: open, with: guarded).isEmpty)
    }
}

extension BadInputTests {
    /// On a wide address, a reload that drops `callback_token` while providers that sign
    /// nothing take reports is refused: anyone could post "answered" and stop a page.
    @Test func aReloadDroppingTheCallbackTokenOnAWideAddressIsRefused() throws {
        let base = """
            server: {listen: "0.0.0.0:9095", api_token: t}
            providers:
              ali: {type: aliyun, access_key_id: k, access_key_secret: s, called_show_number: "057100000000"}

            """
        let guarded = try #require(
            RuleLoader(environment: [:], mode: .serve).load(yaml: base.replacingOccurrences(of: "t}", with: "t, callback_token: cb}")).repository
        )
        let open = try #require(RuleLoader(environment: [:], mode: .serve).load(yaml: base).repository)
        let wide = ServingSettings(options: ServeOptions(configPaths: []), repository: guarded, host: "0.0.0.0")
        let refusals = wide.refusals(replacing: guarded, with: open)
        #expect(refusals.count == 1)
        #expect(refusals.first?.contains("drop callback_token, but klaxon listens on 0.0.0.0") == true)
        #expect(refusals.first?.contains("for ali") == true)
        let loopback = ServingSettings(options: ServeOptions(configPaths: []), repository: guarded, host: "127.0.0.1")
        #expect(loopback.refusals(replacing: guarded, with: open).isEmpty)
    }
}
