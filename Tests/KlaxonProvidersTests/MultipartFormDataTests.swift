import Testing
import VendorFakes

@testable import KlaxonProviders

@Suite struct MultipartFormDataTests {
    @Test func encodesByteForByteWithAFixedBoundary() {
        var form = MultipartFormData(boundary: "XyZ")
        form.append("service", "App.Sip_Call.PlayVoice")
        form.append("destnumber", "9876543210,9876543211")
        form.append("empty", "")
        let expected =
            "--XyZ\r\n"
            + "Content-Disposition: form-data; name=\"service\"\r\n"
            + "\r\n"
            + "App.Sip_Call.PlayVoice\r\n"
            + "--XyZ\r\n"
            + "Content-Disposition: form-data; name=\"destnumber\"\r\n"
            + "\r\n"
            + "9876543210,9876543211\r\n"
            + "--XyZ\r\n"
            + "Content-Disposition: form-data; name=\"empty\"\r\n"
            + "\r\n"
            + "\r\n"
            + "--XyZ--\r\n"
        #expect(form.encoded() == Array(expected.utf8))
        #expect(form.contentType == "multipart/form-data; boundary=XyZ")
    }

    @Test func valuesAreUTF8BytesUnchanged() {
        var form = MultipartFormData(boundary: "b")
        form.append("voicefile", "磁盘满了 — disk full.wav")
        form.append("multi", "line one\r\nline two\nthree")
        var expected: [UInt8] = Array("--b\r\nContent-Disposition: form-data; name=\"voicefile\"\r\n\r\n".utf8)
        expected += [0xE7, 0xA3, 0x81, 0xE7, 0x9B, 0x98, 0xE6, 0xBB, 0xA1, 0xE4, 0xBA, 0x86, 0x20, 0xE2, 0x80, 0x94]
        expected += Array(
            " disk full.wav\r\n--b\r\nContent-Disposition: form-data; name=\"multi\"\r\n\r\nline one\r\nline two\nthree\r\n--b--\r\n".utf8
        )
        #expect(form.encoded() == expected)
    }

    @Test func quotesAndLineBreaksInNamesAreEscaped() {
        var form = MultipartFormData(boundary: "b")
        form.append("a\"b\r\nc", "v")
        #expect(form.encoded() == Array("--b\r\nContent-Disposition: form-data; name=\"a%22b%0D%0Ac\"\r\n\r\nv\r\n--b--\r\n".utf8))
    }

    @Test func anEmptyFormIsTheClosingDelimiter() {
        #expect(MultipartFormData(boundary: "b").encoded() == Array("--b--\r\n".utf8))
    }

    @Test func randomBoundariesAreFreshValidAndAvoidTheValues() {
        let boundaries = (0..<50).map { _ in MultipartFormData().boundary }
        #expect(Set(boundaries).count == 50)
        for boundary in boundaries {
            #expect(boundary.hasPrefix("klaxon-"))
            #expect((1...70).contains(boundary.utf8.count))
            #expect(boundary.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x2D })
        }
        // The first boundary drawn occurs in the value, so a second one is drawn.
        var generator = CountingGenerator()
        let zeros = "klaxon-" + String(repeating: "0", count: 32)
        let form = MultipartFormData(fields: [.init(name: "x", value: "--" + zeros + "--")], using: &generator)
        #expect(form.boundary == "klaxon-" + String(repeating: "1", count: 32))
    }

    @Test func theFakeReadsBackWhatTheEncoderWrites() throws {
        var form = MultipartFormData()
        let fields = [("service", "App.Sip_Call.PlayVoice"), ("voicefile", "磁盘满了.wav"), ("empty", ""), ("crlf", "a\r\nb")]
        for (name, value) in fields { form.append(name, value) }
        let parsed = try Infin8linxFake.parseMultipart(form.encoded(), contentType: form.contentType)
        #expect(parsed.map(\.name) == fields.map(\.0))
        #expect(parsed.map(\.value) == fields.map(\.1))
    }

    @Test(arguments: [
        ("--b\nContent-Disposition: form-data; name=\"a\"\n\nv\n--b--\n", "multipart/form-data; boundary=b"),  // LF line ends
        ("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--b\r\n", "multipart/form-data; boundary=b"),  // never closed
        ("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--b--\r\n", "multipart/form-data; boundary=c"),  // other boundary
        ("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--b--\r\n", "application/x-www-form-urlencoded"),
        ("--b\r\nContent-Disposition: form-data\r\n\r\nv\r\n--b--\r\n", "multipart/form-data; boundary=b"),  // no name
        ("--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.wav\"\r\n\r\nv\r\n--b--\r\n", "multipart/form-data; boundary=b"),
    ])
    func theFakeRefusesMalformedBodies(body: String, contentType: String) {
        #expect(throws: Infin8linxFake.MultipartError.self) { try Infin8linxFake.parseMultipart(Array(body.utf8), contentType: contentType) }
    }

    @Test func theFakeAcceptsAQuotedBoundary() throws {
        let body = "--a b\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nv\r\n--a b--\r\n"
        let parsed = try Infin8linxFake.parseMultipart(Array(body.utf8), contentType: "multipart/form-data; boundary=\"a b\"")
        #expect(parsed.map(\.name) == ["k"])
        #expect(parsed.map(\.value) == ["v"])
    }

    /// Gives 0 for the first two draws (one boundary of zeros), then 0x1111… for ever.
    struct CountingGenerator: RandomNumberGenerator {
        var draws = 0

        mutating func next() -> UInt64 {
            defer { draws += 1 }
            return draws < 2 ? 0 : 0x1111_1111_1111_1111
        }
    }
}
