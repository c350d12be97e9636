import KlaxonCore
import KlaxonProviders
import Testing

@Suite struct Infin8linxCallbackTests {
    static func parse(_ text: String) throws -> [CallStatusReport] {
        try Infin8linxCallbackParser.parse(Array(text.utf8))
    }

    /// VENDORS.md §4.3's sample with the commas the vendor page leaves out put back.
    static let documentedSample = #"""
        {"callmethod":6,"starttime":"2018-03-14 12:18:21","answertime":"","endtime":"2018-03-14 12:18:35","duration":14,"billsec":0,"crmid":"2001","hangupdirection":10015,"chengshudu":"0","hangupcause":10001,"memberid":"18533700187590656","disnumber":"02566823420","destnumber":"015029913692","downloadip":"120.76.152.137","recordfilename":"","companycode":20000013,"type":"callout","id":982,"extnumber":"7003","uuid":"cda5c6c4-0a17-11e8-b177-e7cbf2bd1f36","userkey":1,"customuuid":"customuuid"}
        """#

    @Test func theDocumentedSampleIsAnUnansweredCall() throws {
        #expect(
            try Self.parse(Self.documentedSample) == [
                CallStatusReport(
                    vendorCallID: "customuuid:015029913692",
                    callID: "customuuid",
                    callee: "015029913692",
                    status: .noAnswer,
                    duration: .seconds(0),
                    vendorCode: "hangupcause=10001 hangupdirection=10015"
                )
            ]
        )
    }

    @Test func theVendorPagesSampleAsPrintedIsNotJSONAndIsRefused() {
        // The page's sample lacks the commas after extnumber, uuid and userkey.
        let printed = #"""
            {"callmethod": 3, "starttime": "2018-03-14 12:18:21", "answertime": "", "endtime": "2018-03-14 12:18:35", "duration": 14, "billsec": 0,
             "destnumber": "015029913692", "extnumber": "7003" "uuid": "cda5c6c4-0a17-11e8-b177-e7cbf2bd1f36" "userkey":1 "customuuid": "customuuid"}
            """#
        #expect(throws: Infin8linxCallbackParser.Failure.self) { try Self.parse(printed) }
    }

    @Test func anAnsweredCallWithTheIDKlaxonSent() throws {
        let body = #"""
            {"callmethod":6,"starttime":"2024-05-01 03:00:00","answertime":"2024-05-01 03:00:09","endtime":"2024-05-01 03:00:41","duration":41,"billsec":32,"hangupcause":10020,"hangupdirection":10015,"destnumber":"9876543210","uuid":"0a1b","userkey":"","customuuid":"klx42abcdefg"}
            """#
        let report = try #require(try Self.parse(body).first)
        #expect(report.vendorCallID == "klx42abcdefg:9876543210")  // what Infin8linxClient called the accepted call
        #expect(report.callID == "klx42abcdefg")
        #expect(report.callee == "9876543210")
        #expect(report.status == .answered)
        #expect(report.duration == .seconds(32))
        #expect(report.digits == nil)
    }

    @Test func aKeyPressIsReportedWithTheDigits() throws {
        let body =
            #"{"answertime":"2024-05-01 03:00:09","duration":20,"billsec":11,"destnumber":"9876543210","customuuid":"klx42abcdefg","userkey":"5"}"#
        let report = try #require(try Self.parse(body).first)
        #expect(report.status == .keyPressed)
        #expect(report.digits == "5")
        #expect(report.duration == .seconds(11))
    }

    /// `userkey` reads `1` when a key press was asked for (`userkey=1` in the request), even
    /// on a call nobody answered (the vendor's sample): on an answered call it is no proof
    /// that a key was pressed, so it does not stop a `key_pressed` escalation.
    @Test func userkeyOneOnAnAnsweredCallIsNoKeyPress() throws {
        let body =
            #"{"answertime":"2024-05-01 03:00:09","duration":20,"billsec":11,"destnumber":"9876543210","customuuid":"klx42abcdefg","userkey":1}"#
        let report = try #require(try Self.parse(body).first)
        #expect(report.status == .answered)
        #expect(report.digits == nil)
    }

    @Test(
        arguments: [
            (##""userkey":"#""##, CallStatus.keyPressed, "#"),
            (#""userkey":12"#, .keyPressed, "12"),
            (#""userkey":"0""#, .answered, nil),
            (#""userkey":0"#, .answered, nil),
            (#""userkey":"""#, .answered, nil),
            (#""userkey":null"#, .answered, nil),
            (#""userkey":"none""#, .answered, nil),
        ] as [(String, CallStatus, String?)]
    )
    func keyPressesOnAnsweredCalls(field: String, status: CallStatus, digits: String?) throws {
        let body =
            #"{"answertime":"2024-05-01 03:00:09","billsec":5,"destnumber":"9876543210","customuuid":"klx42abcdefg","#
            + field + "}"
        let report = try #require(try Self.parse(body).first)
        #expect(report.status == status)
        #expect(report.digits == digits)
    }

    @Test(
        arguments: [
            (#""answertime":"","billsec":0,"duration":25"#, CallStatus.noAnswer),
            (#""answertime":"","billsec":0,"duration":0"#, .failed),
            (#""answertime":"0000-00-00 00:00:00","billsec":"0","duration":"0""#, .failed),
            (#""answertime":"","billsec":0"#, .noAnswer),
            (#""billsec":"7""#, .answered),
            (#""answertime":"2024-05-01 03:00:09""#, .answered),
            (#""answertime":"","billsec":0,"duration":12,"userkey":"1""#, .noAnswer),
        ] as [(String, CallStatus)]
    )
    func answeredOrNot(fields: String, status: CallStatus) throws {
        let body = #"{"destnumber":"9876543210","customuuid":"klx42abcdefg","# + fields + "}"
        #expect(try Self.parse(body).first?.status == status)
    }

    @Test func theNewerRevisionsStringsAndExtraFieldsAreRead() throws {
        let body = #"""
            {"callmethod":"6","direction":"1","userid":"3","ext":"x","taskid":"77","round":"1","recordurl":"","starttime":"2024-05-01 03:00:00","answertime":"2024-05-01 03:00:05","endtime":"2024-05-01 03:00:20","duration":"20","billsec":"15","hangupcause":"10001","hangupdirection":"10040","destnumber":"9876543210","companycode":"20000013","uuid":"u-1","userkey":"2","customuuid":"klx42abcdefg"}
            """#
        let report = try #require(try Self.parse(body).first)
        #expect(report.status == .keyPressed)
        #expect(report.digits == "2")
        #expect(report.duration == .seconds(15))
        #expect(report.vendorCode == "hangupcause=10001 hangupdirection=10040")
    }

    @Test func anArrayOfRecordsGivesOneReportEachInOrder() throws {
        let body = "[" + Self.documentedSample + #",{"destnumber":"9876543211","customuuid":"klx42abcdefg","billsec":3}]"#
        let reports = try Self.parse(body)
        #expect(reports.map(\.callee) == ["015029913692", "9876543211"])
        #expect(reports.map(\.status) == [.noAnswer, .answered])
        #expect(try Self.parse("[]").isEmpty)
    }

    @Test func withoutCustomUUIDTheVendorsUUIDIsTheID() throws {
        let report = try #require(try Self.parse(#"{"destnumber":"9876543210","uuid":"cda5c6c4","billsec":0,"duration":9}"#).first)
        #expect(report.vendorCallID == "cda5c6c4")
        #expect(report.callID == nil)
        #expect(report.status == .noAnswer)
    }

    @Test(arguments: [
        "",
        "not json",
        "{",
        "42",
        #""a string""#,
        "[1, 2]",
        #"{"customuuid":"klx42abcdefg"}"#,  // no destnumber
        #"{"destnumber":"","customuuid":"klx42abcdefg"}"#,
        #"{"destnumber":"9876543210"}"#,  // neither customuuid nor uuid
        #"{"destnumber":"9876543210","customuuid":"","uuid":""}"#,
        #"{"destnumber":"9876543210","customuuid":"k","billsec":"twelve"}"#,
        #"{"destnumber":"9876543210","customuuid":"k","billsec":1.5}"#,
        #"{"destnumber":"9876543210","customuuid":"k","duration":true}"#,
        #"{"destnumber":["9876543210"],"customuuid":"k"}"#,
        #"[{"destnumber":"9876543210","customuuid":"k"},{"customuuid":"k"}]"#,
    ])
    func malformedBodiesAreRefused(body: String) {
        #expect(throws: Infin8linxCallbackParser.Failure.self) { try Self.parse(body) }
    }

    @Test func failuresDoNotEchoTheBody() {
        do {
            _ = try Infin8linxCallbackParser.parse(Array(#"{"destnumber":"9876543210","customuuid":"k","billsec":"sekret"}"#.utf8))
            Issue.record("should fail")
        } catch {
            #expect(!error.description.contains("sekret"))
            #expect(!error.description.contains("9876543210"))
            #expect(error.description.contains("billsec"))
        }
    }
}

extension Infin8linxCallbackTests {
    /// An array's readable records are kept beside the ones klaxon cannot read, each named
    /// by its place; the strict parse refuses the body.
    @Test func aBadRecordDoesNotLoseTheOthers() throws {
        let answered = #"{"destnumber":"9876543210","customuuid":"k","answertime":"2026-11-22 10:00:05","billsec":12,"duration":20}"#
        let body = "[\(answered), {\"customuuid\":\"k\"}, {\"destnumber\":\"9876543211\",\"customuuid\":\"k\",\"billsec\":\"sekret\"}]"
        let batch = try Infin8linxCallbackParser.parseBatch(Array(body.utf8))
        #expect(batch.reports.map(\.status) == [.answered])
        #expect(batch.reports.first?.vendorCallID == "k:9876543210")
        #expect(batch.problems.map(\.message).map { $0.prefix(9) } == ["record 1:", "record 2:"])
        #expect(throws: Infin8linxCallbackParser.Failure.self) { try Self.parse(body) }
        #expect(throws: Infin8linxCallbackParser.Failure.self) { try Infin8linxCallbackParser.parseBatch(Array("[1,".utf8)) }
        #expect(throws: Infin8linxCallbackParser.Failure.self) { try Infin8linxCallbackParser.parseBatch(Array(#"{"customuuid":"k"}"#.utf8)) }
    }
}
