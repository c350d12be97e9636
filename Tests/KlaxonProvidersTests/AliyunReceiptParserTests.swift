import Foundation
import KlaxonCore
import KlaxonProviders
import Testing

@Suite struct AliyunReceiptParserTests {
    /// VENDORS.md §1.7's push sample.
    static let sample = """
        [{"call_id":"116004767703^102806207703","start_time":"2024-01-02 11:04:20","end_time":"2024-01-02 11:04:41","duration":"21","status_code":"200000","smart_status_code":"ANSWERED","status_msg":"用户听完语音","out_id":"abcdefgh","caller":"4001112222","callee":"13700000000","hangup_direction":"机器","originate_time":"2024-01-02 11:04:10","ring_time":"2024-01-02 11:04:12","voice_type":"voice","toll_type":"UNKNOWN"}]
        """

    static func parse(_ text: String, prefix: String = "") throws(AliyunReceiptParser.ParseError) -> [CallStatusReport] {
        try AliyunReceiptParser.parse(Array(text.utf8), outIDPrefix: prefix)
    }

    static func record(_ status: String, duration: String = "0", extra: String = "") -> String {
        #"[{"call_id":"1^2","status_code":"\#(status)","duration":"\#(duration)","out_id":"klx0123456789ab","callee":"13700000000"\#(extra)}]"#
    }

    @Test func parsesTheDocumentedSample() throws {
        let reports = try Self.parse(Self.sample)
        #expect(
            reports == [
                CallStatusReport(
                    vendorCallID: "116004767703^102806207703",
                    callID: "abcdefgh",
                    callee: "13700000000",
                    status: .answered,
                    duration: .seconds(21),
                    vendorCode: "200000"
                )
            ]
        )
    }

    /// A push with a bad record keeps its good ones; a bad optional field is read as absent.
    @Test func aBatchKeepsItsGoodRecords() throws {
        let body = #"""
            [{"call_id":"a^1","status_code":"200000","duration":"12.5","dtmf":"A"},
             {"status_code":"200000"},
             {"call_id":"b^2","status_code":"200003","duration":"0"}]
            """#
        let batch = try AliyunReceiptParser.parseBatch(Array(body.utf8))
        #expect(batch.reports.map(\.vendorCallID) == ["a^1", "b^2"])
        #expect(batch.reports.map(\.status) == [.answered, .noAnswer])
        #expect(batch.reports[0].duration == nil)
        #expect(batch.reports[0].digits == nil)
        #expect(batch.problems.map(\.path) == ["$[0].duration", "$[0].dtmf", "$[1].call_id"])
    }

    @Test(arguments: [
        ("200000", CallStatus.answered), ("200001", .answered), ("200008", .answered), ("200002", .busy), ("200003", .noAnswer),
        ("200004", .failed), ("200005", .failed), ("200006", .failed), ("200007", .failed), ("200010", .failed), ("200011", .failed),
        ("200012", .failed), ("200117", .failed), ("200118", .failed), ("200119", .failed), ("200121", .failed), ("200130", .failed),
        ("400", .failed), ("500", .failed), ("999999", .failed), ("482", .failed), ("476", .failed),
    ])
    func mapsStatusCodes(code: String, status: CallStatus) throws {
        let reports = try Self.parse(Self.record(code))
        #expect(reports.map(\.status) == [status])
        #expect(reports.first?.vendorCode == code)
    }

    @Test func stripsTheConfiguredPrefix() throws {
        #expect(try Self.parse(Self.record("200000"), prefix: "klx").first?.callID == "0123456789ab")
        // Not our prefix: not our call id.
        #expect(try Self.parse(Self.record("200000"), prefix: "abc").first?.callID == nil)
        #expect(try Self.parse(Self.record("200000")).first?.callID == "klx0123456789ab")
    }

    @Test func dtmfDigitsMeanKeyPressed() throws {
        let reports = try Self.parse(Self.record("200008", duration: "9", extra: #","dtmf":"1#""#))
        #expect(reports.first?.status == .keyPressed)
        #expect(reports.first?.digits == "1#")
        #expect(reports.first?.duration == .seconds(9))
        // An empty dtmf changes nothing.
        #expect(try Self.parse(Self.record("200001", extra: #","dtmf":"""#)).first?.status == .answered)
    }

    @Test func batchesKeepOrderAndSkipProgressReports() throws {
        let body = """
            [{"call_id":"a^1","status_code":"200002","duration":"0","callee":"13700000001"},
             {"call_id":"b^2","status_code":"200101","status_time":"2024-01-02 11:04:10"},
             {"call_id":"c^3","status_code":200003,"duration":0,"b_duration":12,"out_id":""}]
            """
        let reports = try Self.parse(body)
        #expect(reports.map(\.vendorCallID) == ["a^1", "c^3"])
        #expect(reports.map(\.status) == [.busy, .noAnswer])
        #expect(reports[1].callID == nil)
        #expect(reports[1].duration == .zero)
        #expect(try Self.parse("[]").isEmpty)
    }

    @Test(arguments: [
        ("", "$", "not JSON"),
        ("{", "$", "not JSON"),
        (#"{"call_id":"1"}"#, "$", "expected a JSON array"),
        (#"[1]"#, "$[0]", "expected a call record object, got a number"),
        (#"[{"call_id":"1^2","duration":"3"}]"#, "$[0].status_code", "missing"),
        (#"[{"status_code":"200000"}]"#, "$[0].call_id", "missing"),
        (#"[{"call_id":"1^2","status_code":"200000","duration":"21s"}]"#, "$[0].duration", "whole seconds"),
        (#"[{"call_id":"1^2","status_code":"200000","duration":-4}]"#, "$[0].duration", "whole seconds"),
        (#"[{"call_id":"1^2","status_code":true}]"#, "$[0].status_code", "got a boolean"),
        (#"[{"call_id":["x"],"status_code":"200000"}]"#, "$[0].call_id", "got an array"),
        (#"[{"call_id":"1^2","status_code":"200000","dtmf":"yes"}]"#, "$[0].dtmf", "key digits"),
        (#"[{"call_id":"1^2","status_code":"200000"},"x"]"#, "$[1]", "got a string"),
    ])
    func malformedBodiesSayWhatAndWhere(body: String, path: String, fragment: String) {
        #expect {
            try Self.parse(body)
        } throws: { error in
            guard let error = error as? AliyunReceiptParser.ParseError else { return false }
            return error.path == path && error.message.contains(fragment) && error.description.contains(path)
        }
    }

    @Test func replyIsWhatAliyunExpects() throws {
        let reply = try JSONSerialization.jsonObject(with: Data(AliyunReceiptParser.replyBody.utf8)) as? [String: Any]
        #expect(reply?["code"] as? Int == 0)
        #expect(reply?["msg"] as? String == "接收成功")
    }
}
