import Foundation
import KlaxonCore
import KlaxonProviders
import Testing
import VendorFakes

/// Huawei's release callback: the signature (VENDORS.md §2.8 V-H5, V-H6), tampering, the
/// freshness window, and the release-reason mapping.
@Suite struct HuaweiCallbackTests {
    /// V-H6.
    static let sharedKey = "testSharedKey123"
    static let timestamp = "1645074630001"
    static let nonce = "4f9a2c1e8b7d4e6f"
    static let vectorBody =
        #"{"callSerialNo":"1308434073450058757","called":"8899","callerPresent":"2222201","createCallTime":"2022/02/17,13:10:06:836","alertingTime":"2022/02/17,13:10:08:120","talkingTime":"2022/02/17,13:10:12:500","releaseTime":"2022/02/17,13:10:30:001","talkDuration":"18","releaseReason":"1"}"#
    static let vectorToSign =
        "testSharedKey123_1645074630001_4f9a2c1e8b7d4e6f_alertingTime=2022/02/17,13:10:08:120,callSerialNo=1308434073450058757,called=8899,callerPresent=2222201,createCallTime=2022/02/17,13:10:06:836,releaseReason=1,releaseTime=2022/02/17,13:10:30:001,talkDuration=18,talkingTime=2022/02/17,13:10:12:500"
    static let vectorSignature = "iI3FTwWkl55OBxJTQn2ZSZO93KvJ5gaPo0tE7FhNOgY="
    /// The callback's own time.
    static let callbackTime = Date(timeIntervalSince1970: 1_645_074_630.001)

    static func signedVector() throws -> [String: String] {
        var fields = try HuaweiCallbackParser.fields(Array(vectorBody.utf8))
        fields["timestamp"] = timestamp
        fields["nonce"] = nonce
        fields["signature"] = vectorSignature
        return fields
    }

    static func rejection(
        _ verifier: HuaweiCallbackVerifier,
        _ fields: [String: String],
        now: Date = callbackTime
    )
        -> HuaweiCallbackVerifier.Rejection.Reason?
    {
        do throws(HuaweiCallbackVerifier.Rejection) {
            try verifier.verify(fields, now: now)
            return nil
        } catch {
            return error.reason
        }
    }

    // MARK: - Vectors

    @Test func toyVectorH5() throws {
        let fields = try HuaweiCallbackParser.fields(Array(#"{"b":"2","a":1}"#.utf8))
        #expect(fields == ["a": "1", "b": "2"])
        #expect(
            HuaweiCallbackVerifier.stringToSign(fields: fields, sharedKey: "sharedKey", timestamp: "1700000000000", nonce: "abc")
                == "sharedKey_1700000000000_abc_a=1,b=2"
        )
        #expect(
            HuaweiCallbackVerifier.signature(fields: fields, sharedKey: "sharedKey", timestamp: "1700000000000", nonce: "abc")
                == "VCsUq5KszXAJ/1KbCzXml99ej0jGNA+IYR5cAxGB5zU="
        )
    }

    @Test func releaseVectorH6() throws {
        let fields = try HuaweiCallbackParser.fields(Array(Self.vectorBody.utf8))
        #expect(
            HuaweiCallbackVerifier.stringToSign(fields: fields, sharedKey: Self.sharedKey, timestamp: Self.timestamp, nonce: Self.nonce)
                == Self.vectorToSign
        )
        #expect(
            HuaweiCallbackVerifier.signature(fields: fields, sharedKey: Self.sharedKey, timestamp: Self.timestamp, nonce: Self.nonce)
                == Self.vectorSignature
        )
        let verifier = HuaweiCallbackVerifier(sharedKey: Self.sharedKey)
        #expect(Self.rejection(verifier, try Self.signedVector()) == nil)
    }

    @Test func fakeSignsLikeTheVectorsAndTheVerifierAccepts() throws {
        let fields = try HuaweiCallbackParser.fields(Array(Self.vectorBody.utf8))
        let signed = HuaweiAICCFake.signedCallback(fields: fields, sharedKey: Self.sharedKey, timestamp: Self.timestamp, nonce: Self.nonce)
        #expect(signed["signature"] == Self.vectorSignature)
        // Round trip through the JSON body the fake would POST.
        let received = try HuaweiCallbackParser.fields(Array(HuaweiAICCFake.callbackBody(signed).utf8))
        #expect(received == signed)
        #expect(Self.rejection(HuaweiCallbackVerifier(sharedKey: Self.sharedKey), received) == nil)
    }

    @Test func signedFieldsAreSortedByUTF16AndSpacesRemoved() {
        #expect(
            HuaweiCallbackVerifier.canonicalParameters(["a": "3", "B": "1", "_": "2", "timestamp": "9", "nonce": "n", "signature": "s"])
                == "B=1,_=2,a=3"
        )
        // Every space goes, values included: Huawei signs "x=ab" for "a b".
        #expect(HuaweiCallbackVerifier.canonicalParameters(["x": "a b", "y": " c "]) == "x=ab,y=c")
        #expect(HuaweiCallbackVerifier.canonicalParameters([:]) == "")
    }

    // MARK: - Tampering and freshness

    @Test func changedFieldIsRejected() throws {
        let verifier = HuaweiCallbackVerifier(sharedKey: Self.sharedKey)
        for (key, value) in [("releaseReason", "4"), ("talkDuration", "180"), ("called", "8898"), ("extra", "1")] {
            var fields = try Self.signedVector()
            fields[key] = value
            #expect(Self.rejection(verifier, fields) == .badSignature, "\(key)")
        }
        var dropped = try Self.signedVector()
        dropped["callerPresent"] = nil
        #expect(Self.rejection(verifier, dropped) == .badSignature)
        var otherNonce = try Self.signedVector()
        otherNonce["nonce"] = "4f9a2c1e8b7d4e60"
        #expect(Self.rejection(verifier, otherNonce) == .badSignature)
        var notBase64 = try Self.signedVector()
        notBase64["signature"] = "not base64!"
        #expect(Self.rejection(verifier, notBase64) == .badSignature)
    }

    @Test func wrongKeyIsRejected() throws {
        #expect(Self.rejection(HuaweiCallbackVerifier(sharedKey: "testSharedKey124"), try Self.signedVector()) == .badSignature)
        #expect(Self.rejection(HuaweiCallbackVerifier(sharedKey: ""), try Self.signedVector()) == .badSignature)
    }

    @Test func unsignedCallbackIsRejected() throws {
        let verifier = HuaweiCallbackVerifier(sharedKey: Self.sharedKey)
        for key in ["signature", "timestamp", "nonce"] {
            var fields = try Self.signedVector()
            fields[key] = nil
            #expect(Self.rejection(verifier, fields) == .unsigned, "\(key)")
        }
    }

    @Test func staleOrMalformedTimestampIsRejected() throws {
        let verifier = HuaweiCallbackVerifier(sharedKey: Self.sharedKey)
        let fields = try Self.signedVector()
        #expect(Self.rejection(verifier, fields, now: Self.callbackTime.addingTimeInterval(299)) == nil)
        #expect(Self.rejection(verifier, fields, now: Self.callbackTime.addingTimeInterval(-299)) == nil)
        #expect(Self.rejection(verifier, fields, now: Self.callbackTime.addingTimeInterval(301)) == .staleTimestamp)
        #expect(Self.rejection(verifier, fields, now: Self.callbackTime.addingTimeInterval(-301)) == .staleTimestamp)
        #expect(
            Self.rejection(
                HuaweiCallbackVerifier(sharedKey: Self.sharedKey, tolerance: .seconds(600)),
                fields,
                now: Self.callbackTime.addingTimeInterval(500)
            ) == nil
        )

        let body = try HuaweiCallbackParser.fields(Array(Self.vectorBody.utf8))
        for timestamp in ["soon", "-5", ""] {
            let signed = HuaweiAICCFake.signedCallback(fields: body, sharedKey: Self.sharedKey, timestamp: timestamp, nonce: Self.nonce)
            #expect(Self.rejection(verifier, signed) == (timestamp.isEmpty ? .unsigned : .malformedTimestamp), "\(timestamp)")
        }
    }

    @Test func secondsTimestampsAreAcceptedToo() throws {
        let body = try HuaweiCallbackParser.fields(Array(Self.vectorBody.utf8))
        let signed = HuaweiAICCFake.signedCallback(fields: body, sharedKey: Self.sharedKey, timestamp: "1645074630", nonce: "n1")
        let verifier = HuaweiCallbackVerifier(sharedKey: Self.sharedKey)
        #expect(Self.rejection(verifier, signed) == nil)
        #expect(Self.rejection(verifier, signed, now: Self.callbackTime.addingTimeInterval(400)) == .staleTimestamp)
    }

    @Test func sharedKeyNeverShows() throws {
        let verifier = HuaweiCallbackVerifier(sharedKey: Self.sharedKey)
        var fields = try Self.signedVector()
        fields["talkDuration"] = "19"
        do throws(HuaweiCallbackVerifier.Rejection) {
            try verifier.verify(fields, now: Self.callbackTime)
            Issue.record("a changed body should be rejected")
        } catch {
            #expect(!"\(error)".contains(Self.sharedKey))
            #expect(!String(reflecting: error).contains(Self.sharedKey))
        }
        var out = ""
        dump(verifier, to: &out)
        #expect(!out.contains(Self.sharedKey))
        #expect(!"\(verifier)".contains(Self.sharedKey))
        #expect(!String(reflecting: verifier).contains(Self.sharedKey))
    }

    // MARK: - The report

    @Test func releaseEventBecomesAReport() throws {
        let report = try HuaweiCallbackParser.report(from: try Self.signedVector())
        #expect(
            report
                == CallStatusReport(vendorCallID: "1308434073450058757", callee: "8899", status: .answered, duration: .seconds(18), vendorCode: "1")
        )
        #expect(try HuaweiCallbackParser.parse(Array(Self.vectorBody.utf8)) == report)
        #expect(HuaweiCallbackParser.replyBody == #"{"retCode":"0","retMsg":"success"}"#)
    }

    @Test(arguments: [
        ("0", CallStatus.answered), ("1", .answered), ("4", .noAnswer), ("6", .failed), ("8", .failed), ("9", .failed),
        ("10", .failed), ("999", .failed), ("77", .failed),
    ])
    func releaseReasonsMap(reason: String, status: CallStatus) throws {
        let fields = HuaweiAICCFake.releaseEvent(callSerialNo: "1308434073450058757", called: "8613700000000", releaseReason: reason)
        let report = try HuaweiCallbackParser.report(from: fields)
        #expect(report.status == status)
        #expect(report.vendorCode == reason)
        #expect(report.duration == .zero)
        #expect(report.callee == "8613700000000")
    }

    @Test func missingReasonIsAFailedCall() throws {
        var fields = HuaweiAICCFake.releaseEvent(callSerialNo: "1", called: "8899", releaseReason: "1")
        fields["releaseReason"] = nil
        fields["talkDuration"] = nil
        let report = try HuaweiCallbackParser.report(from: fields)
        #expect(report.status == .failed)
        #expect(report.vendorCode == "missing")
        #expect(report.duration == nil)
    }

    /// A reason Huawei does not document, or none, with talk time: the call was answered
    /// (read as failed, `stop_on: answered` would not stop the escalation). A documented
    /// failure stays one.
    @Test(arguments: [
        (String?("77"), "18", String?.none, CallStatus.answered), (nil, "18", nil, .answered), (nil, "0", "2022/02/17,13:10:12:500", .answered),
        ("77", "0", nil, .failed), (nil, "0", nil, .failed), ("6", "18", nil, .failed), ("4", "0", nil, .noAnswer),
    ])
    func talkTimeAnswersAnUnknownReason(reason: String?, talkDuration: String, talkingTime: String?, status: CallStatus) throws {
        var fields = HuaweiAICCFake.releaseEvent(callSerialNo: "1", called: "8899", releaseReason: reason ?? "", talkDuration: talkDuration)
        fields["releaseReason"] = reason
        fields["talkingTime"] = talkingTime
        let report = try HuaweiCallbackParser.report(from: fields)
        #expect(report.status == status)
        #expect(report.vendorCode == reason ?? "missing")
    }

    @Test func numbersAndNullsAreReadAsHuaweisSignerRendersThem() throws {
        let fields = try HuaweiCallbackParser.fields(
            Array(#"{"callSerialNo":1308434073450058757,"talkDuration":2.5,"recordfile":null,"x":true}"#.utf8)
        )
        #expect(fields == ["callSerialNo": "1308434073450058757", "talkDuration": "2.5", "recordfile": "null", "x": "true"])
        #expect(try HuaweiCallbackParser.report(from: fields).duration == .milliseconds(2500))
    }

    /// A duration that is no number of seconds, or one past a day (1e16 s would not fit
    /// `Int64` in milliseconds), is read as absent: the answer the report carries is kept.
    @Test func aTalkDurationKlaxonCannotReadIsLeftOut() throws {
        var fields = HuaweiAICCFake.releaseEvent(callSerialNo: "1", called: "8899", releaseReason: "1")
        for text in ["1e16", "9223372036854775807", "86400.5", "-1", "abc", "nan", "inf", ""] {
            fields["talkDuration"] = text
            let report = try HuaweiCallbackParser.report(from: fields)
            #expect(report.duration == nil && report.status == .answered, "\(text)")
        }
        fields["talkDuration"] = "86400"
        #expect(try HuaweiCallbackParser.report(from: fields).duration == .seconds(86_400))
    }

    @Test func malformedCallbacksThrow() {
        #expect(throws: HuaweiCallbackParser.ParseError.self) { try HuaweiCallbackParser.parse(Array("not json".utf8)) }
        #expect(throws: HuaweiCallbackParser.ParseError.self) { try HuaweiCallbackParser.parse(Array("[1,2]".utf8)) }
        #expect(throws: HuaweiCallbackParser.ParseError.self) {
            try HuaweiCallbackParser.parse(Array(#"{"called":"8899","releaseReason":"1"}"#.utf8))
        }
    }
}
