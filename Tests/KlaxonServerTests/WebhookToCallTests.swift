import Foundation
import KlaxonCore
import Testing
import VendorFakes

/// Rules that call through the Aliyun fake at `endpoint`.
func aliyunRules(endpoint: String, extra: String = "") -> String {
    """
    server:
      api_token: api-secret
      callback_token: cb-secret
    inputs:
      alertmanager:
        type: alertmanager
        token: am-secret
      ops:
        type: json
        basic_auth: {username: ops, password: ops-pass}
    providers:
      aliyun:
        type: aliyun
        endpoint: \(endpoint)
        access_key_id: testid
        access_key_secret: testsecret
        retry: {attempts: 1, initial_backoff: 1s, max_backoff: 1s}
    recipients:
      alice: {phone: "+8613700000001"}
      bob: {phone: "+8613700000002"}
    voices:
      checkout:
        text: "{{labels.service}} failing"
        params: ["{{labels.service}}"]
        aliyun:
          tts_code: TTS_100000002
          tts_params:
            service: "{{labels.service}}"
            count: "{{count}}"
    escalations:
      voice:
        steps:
          - after: 0s
            notify: [alice]
          - after: 10m
            notify: [bob]
        stop_on: [answered]
    routes:
      - name: checkout
        match: {oncall: voice}
        voice: checkout
        providers: [aliyun]
        escalation: voice
        priority: 1
    \(extra)
    """
}

let amAuth = [("Authorization", "Bearer am-secret")]
let apiAuth = [("Authorization", "Bearer api-secret")]

@Suite("klaxon serve: webhook to call over real HTTP")
struct WebhookToCallTests {
    @Test func alertmanagerPayloadRingsOnceAndResolveCancelsTheNextStep() async throws {
        let aliyun = AliyunFake()
        try await withFakeServer(aliyun.router()) { endpoint in
            try await withKlaxon(aliyunRules(endpoint: endpoint)) { klaxon in
                let firing = try sample("alertmanager-0.25-firing.json")
                let first = try await klaxon.post("/webhook/alertmanager", firing, headers: amAuth)
                #expect(first.status == 200)
                #expect(first.json["opened"] as? [Int] == [1])
                try await eventually("the first call") { await aliyun.acceptedCalls().count == 1 }
                let call = try #require(await aliyun.acceptedCalls().first)
                #expect(call.parameters["Action"] == "SingleCallByTts")
                #expect(call.parameters["CalledNumber"] == "13700000001")
                #expect(call.parameters["TtsCode"] == "TTS_100000002")
                #expect(call.parameters["TtsParam"] == #"{"count":"3","service":"checkout"}"#)

                // Alertmanager repeats the notification: no second call.
                let repeated = try await klaxon.post("/webhook/alertmanager", firing, headers: amAuth)
                #expect(repeated.status == 200)
                #expect(
                    repeated.body
                        == #"{"alerts":3,"deduplicated":3,"dropped":0,"opened":[],"resolved":[],"status":"accepted","unrouted":0,"updated":[1]}"#
                )
                await klaxon.settle()
                #expect(await aliyun.acceptedCalls().count == 1)

                // Cut by the receiver's max_alerts, the same recovery resolves nothing: the
                // alerts left out may still fire.
                let cut = try sample("alertmanager-0.25-resolved.json")
                    .replacingOccurrences(of: #""truncatedAlerts":0"#, with: #""truncatedAlerts":2"#)
                #expect(cut.contains(#""truncatedAlerts":2"#))
                let kept = try await klaxon.post("/webhook/alertmanager", cut, headers: amAuth)
                #expect(kept.status == 200)
                #expect(kept.json["resolved"] as? [Int] == [])

                // Resolved: the 10-minute step never fires.
                let resolved = try await klaxon.post("/webhook/alertmanager", try sample("alertmanager-0.25-resolved.json"), headers: amAuth)
                #expect(resolved.json["resolved"] as? [Int] == [1])
                await klaxon.advance(.seconds(3600))
                #expect(await aliyun.acceptedCalls().count == 1)

                let incident = try await klaxon.get("/api/v1/incidents/1", headers: apiAuth)
                #expect(incident.status == 200)
                let body = incident.json
                #expect((body["incident"] as? [String: Any])?["state"] as? String == "resolved")
                #expect((body["incident"] as? [String: Any])?["priority"] as? Int == 1)
                #expect((body["steps"] as? [[String: Any]])?.map { $0["state"] as? String } == ["done", "cancelled"])
                let calls = body["calls"] as? [[String: Any]] ?? []
                #expect(calls.map { $0["to"] as? String } == ["+86137****0001"])
                #expect(calls.first?["vendor_call_id"] as? String == call.callID)
                #expect(calls.first?["state"] as? String == "accepted")
            }
        }
    }

    @Test func secondStepRingsAtItsDelayAndAckThroughTheAPIStopsTheChain() async throws {
        let aliyun = AliyunFake()
        try await withFakeServer(aliyun.router()) { endpoint in
            let yaml = aliyunRules(endpoint: endpoint).replacingOccurrences(
                of: "    stop_on: [answered]",
                with: "    repeat: 3\n    repeat_after: 5m"
            )
            try await withKlaxon(yaml) { klaxon in
                #expect(try await klaxon.post("/webhook/alertmanager", try sample("alertmanager-0.25-firing.json"), headers: amAuth).status == 200)
                try await eventually("alice's call") { await aliyun.acceptedCalls().count == 1 }
                await klaxon.settle()
                await klaxon.advance(.seconds(599))
                #expect(await aliyun.acceptedCalls().count == 1)
                await klaxon.advance(.seconds(1))
                try await eventually("bob's call") { await aliyun.acceptedCalls().count == 2 }
                #expect(await aliyun.acceptedCalls().map { $0.parameters["CalledNumber"] } == ["13700000001", "13700000002"])

                let ack = try await klaxon.post("/api/v1/incidents/1/ack", #"{"by": "bob"}"#, headers: apiAuth)
                #expect(ack.status == 200)
                #expect(ack.json["state"] as? String == "acked")
                #expect(ack.json["acked_by"] as? String == "bob")
                await klaxon.advance(.seconds(7200))
                #expect(await aliyun.acceptedCalls().count == 2)

                let list = try await klaxon.get("/api/v1/incidents?state=acked", headers: apiAuth)
                #expect((list.json["incidents"] as? [[String: Any]])?.count == 1)
                let calls = try await klaxon.get("/api/v1/calls", headers: apiAuth)
                #expect((calls.json["calls"] as? [[String: Any]])?.count == 2)
            }
        }
    }

    @Test func answeredCallbackAcknowledgesAndDuplicatesAreHarmless() async throws {
        let aliyun = AliyunFake()
        try await withFakeServer(aliyun.router()) { endpoint in
            try await withKlaxon(aliyunRules(endpoint: endpoint)) { klaxon in
                #expect(try await klaxon.post("/webhook/alertmanager", try sample("alertmanager-0.25-firing.json"), headers: amAuth).status == 200)
                try await eventually("the call") { await aliyun.acceptedCalls().count == 1 }
                let call = try #require(await aliyun.acceptedCalls().first)
                // The push also holds a record klaxon cannot read, and the answered one a talk
                // time it cannot: the answer is kept all the same (Aliyun would push the same
                // bytes again, to the same end).
                let receipt = """
                    [{"call_id":"\(call.callID)","status_code":"200000","status_msg":"ok","out_id":"\(call.parameters["OutId"] ?? "")",
                      "callee":"13700000001","duration":"12.5","start_time":"2026-11-22 10:00:00","end_time":"2026-11-22 10:00:12"},
                     {"status_code":"200000"}]
                    """
                #expect(try await klaxon.post("/callbacks/aliyun", receipt).status == 401)
                #expect(try await klaxon.post("/callbacks/aliyun?token=wrong", receipt).status == 401)
                let accepted = try await klaxon.post("/callbacks/aliyun?token=cb-secret", receipt)
                #expect(accepted.status == 200)
                #expect(accepted.body == #"{"code":0,"msg":"接收成功"}"#)
                #expect(try await klaxon.post("/callbacks/aliyun?token=cb-secret", receipt).status == 200)

                let detail = try await klaxon.get("/api/v1/incidents/1", headers: apiAuth).json
                #expect((detail["incident"] as? [String: Any])?["state"] as? String == "acked")
                #expect((detail["incident"] as? [String: Any])?["acked_by"] as? String == "alice")
                let kinds = (detail["timeline"] as? [[String: Any]])?.compactMap { $0["kind"] as? String } ?? []
                #expect(kinds.filter { $0 == "call_status" }.count == 1)
                #expect(kinds.last == "acked")
                await klaxon.advance(.seconds(3600))
                #expect(await aliyun.acceptedCalls().count == 1)
            }
        }
    }
}
