import Foundation
import Hummingbird
import NIOCore

/// A loopback infin8linx batch IVR endpoint (VENDORS.md §4.4) that checks a post as the
/// vendor would and answers in the vendor's envelopes.
///
/// `POST /api/yunhu`, checked in this order:
/// - The body must be `multipart/form-data` with the boundary the `Content-Type` names,
///   CRLF line ends, one `Content-Disposition: form-data; name="…"` text part per field,
///   each field once, UTF-8 values; only the documented field names.
/// - `service` must be `App.Sip_Call.PlayVoice`; `appid` and `accesskey` present.
/// - `appid`/`accesskey` must match → else `{"ret":601,"data":[],"msg":"appid is not authorized"}`.
/// - `nationcode` ∈ {in, id, ph, mx, co, tha}; `destnumber` ASCII digits joined with ASCII
///   commas (a full-width `，`, a `+`, a space or an empty item is invalid), at most 5,000
///   numbers, no duplicates (see ``acceptsDuplicates``); `voicetype` 1|2; `voicefile`
///   present (an http(s) URL for type 2); `userkey` 0|1, `todayonly` 1|2, `waittime` and
///   `conntime` positive whole numbers, `disnumber` digits, when present.
/// - Any failure above, other than credentials, answers
///   `{"ret":400,"data":[],"msg":"Illegal request: invalid parameter"}`.
/// - Success: `{"code":200,"msg":"successful request","data":{"desc":"Play command sent successfully","reqtime":…,"rsptime":…}}`,
///   and the post is recorded as a ``Batch``.
///
/// Error answers come with HTTP 200, as PhalApi-style services send them (the real HTTP
/// status is not documented). Rejecting unknown field names, repeated fields and, by
/// default, duplicate numbers is stricter than the vendor is known to be: the vendor's own
/// sample repeats a number, so it presumably dials it twice; the fake refuses so that a
/// client that fails to dedupe fails its tests.
///
/// Every request first goes through ``state`` (recorded; queued faults applied).
public struct Infin8linxFake: Sendable {
    /// A post the fake accepted.
    public struct Batch: Sendable, Hashable {
        /// Every field as received.
        public var fields: [String: String]
        /// The field names in the order they came.
        public var fieldOrder: [String]
        /// `destnumber` split at the commas.
        public var numbers: [String]
        /// Numbers that occurred more than once (only possible with ``acceptsDuplicates``).
        public var duplicates: [String]
    }

    /// A body that is not well-formed multipart/form-data.
    public struct MultipartError: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public var description: String { "malformed multipart/form-data: \(message)" }
    }

    public static let path = "/api/yunhu"
    public static let service = "App.Sip_Call.PlayVoice"
    public static let nationCodes: Set<String> = ["in", "id", "ph", "mx", "co", "tha"]
    public static let maxNumbers = 5000
    public static let fieldNames: Set<String> = [
        "service", "appid", "accesskey", "nationcode", "destnumber", "voicetype", "voicefile", "userkey", "chengshudu",
        "disnumber", "customuuid", "waittime", "conntime", "todayonly",
    ]

    public let state: FakeVendorState
    public let appID: String
    public let accessKey: String
    /// Accept posts that repeat a number (recorded in ``Batch/duplicates``) instead of
    /// refusing them.
    public let acceptsDuplicates: Bool
    private let ledger = Ledger()
    private let now: @Sendable () -> Date

    public init(
        appID: String = "APPID1",
        accessKey: String = "KEY1",
        acceptsDuplicates: Bool = false,
        state: FakeVendorState = FakeVendorState(),
        now: @escaping @Sendable () -> Date = { Date(timeIntervalSince1970: 1_700_000_000) }
    ) {
        self.appID = appID
        self.accessKey = accessKey
        self.acceptsDuplicates = acceptsDuplicates
        self.state = state
        self.now = now
    }

    /// A router serving ``path``, for ``withFakeServer(_:_:)``.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        addRoutes(to: router)
        return router
    }

    public func addRoutes(to router: Router<BasicRequestContext>) {
        router.post(RouterPath(Self.path)) { request, _ -> Response in
            let body = try await request.body.collect(upTo: 4 << 20)
            if let fault = try await state.intercept(request, body: body) { return fault }
            return await playVoice(contentType: request.headers[.contentType] ?? "", body: Array(body.readableBytesView))
        }
    }

    /// The posts accepted so far, oldest first.
    public func batches() async -> [Batch] { await ledger.batches }

    /// Why each refused post was refused, oldest first (for test failure messages).
    public func rejections() async -> [String] { await ledger.rejections }

    // MARK: - Handler

    private func playVoice(contentType: String, body: [UInt8]) async -> Response {
        let parts: [(name: String, value: String)]
        do {
            parts = try Self.parseMultipart(body, contentType: contentType)
        } catch {
            return await invalid("\(error)")
        }
        var fields: [String: String] = [:]
        for part in parts {
            guard Self.fieldNames.contains(part.name) else { return await invalid("unknown field \(part.name)") }
            guard fields[part.name] == nil else { return await invalid("field \(part.name) sent twice") }
            fields[part.name] = part.value
        }
        guard fields["service"] == Self.service else { return await invalid("service is not \(Self.service)") }
        guard let appid = fields["appid"], let accesskey = fields["accesskey"] else { return await invalid("appid or accesskey missing") }
        guard appid == appID, accesskey == accessKey else {
            await ledger.reject("601: appid/accesskey not authorised")
            return Self.answer(#"{"ret":601,"data":[],"msg":"appid is not authorized"}"#)
        }
        guard let nationcode = fields["nationcode"], Self.nationCodes.contains(nationcode) else {
            return await invalid("nationcode missing or not one of in, id, ph, mx, co, tha")
        }
        guard let destnumber = fields["destnumber"], !destnumber.isEmpty else { return await invalid("destnumber missing") }
        guard !destnumber.contains("，") else { return await invalid("destnumber joined with a full-width comma") }
        let numbers = destnumber.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard numbers.allSatisfy(Self.isDigits) else {
            return await invalid("destnumber is not ASCII digits joined with ASCII commas")
        }
        guard numbers.count <= Self.maxNumbers else { return await invalid("destnumber has \(numbers.count) numbers, more than 5000") }
        var seen: Set<String> = []
        let duplicates = numbers.filter { !seen.insert($0).inserted }
        guard duplicates.isEmpty || acceptsDuplicates else { return await invalid("destnumber repeats \(duplicates.count) number(s)") }
        guard let voicetype = fields["voicetype"], voicetype == "1" || voicetype == "2" else {
            return await invalid("voicetype missing or not 1|2")
        }
        guard let voicefile = fields["voicefile"], !voicefile.isEmpty else { return await invalid("voicefile missing") }
        if voicetype == "2", !(voicefile.hasPrefix("http://") || voicefile.hasPrefix("https://")) {
            return await invalid("voicetype 2 needs an http(s) URL in voicefile")
        }
        if let userkey = fields["userkey"], userkey != "0", userkey != "1" { return await invalid("userkey not 0|1") }
        if let todayonly = fields["todayonly"], todayonly != "1", todayonly != "2" { return await invalid("todayonly not 1|2") }
        for key in ["waittime", "conntime"] {
            if let value = fields[key], !Self.isDigits(value) || Int(value) == 0 { return await invalid("\(key) not a positive whole number") }
        }
        if let disnumber = fields["disnumber"], !Self.isDigits(disnumber) { return await invalid("disnumber not digits") }

        await ledger.add(Batch(fields: fields, fieldOrder: parts.map(\.name), numbers: numbers, duplicates: duplicates))
        let time = Int(now().timeIntervalSince1970)
        return Self.answer(
            #"{"code":200,"msg":"successful request","data":{"desc":"Play command sent successfully","reqtime":\#(time),"rsptime":\#(time)}}"#
        )
    }

    private func invalid(_ reason: String) async -> Response {
        await ledger.reject("400: \(reason)")
        return Self.answer(#"{"ret":400,"data":[],"msg":"Illegal request: invalid parameter"}"#)
    }

    private static func isDigits(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }

    private static func answer(_ json: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    // MARK: - multipart/form-data

    /// The text fields of a multipart/form-data body, in order, read strictly: the
    /// boundary from `contentType` (quoted or not), every line ending CRLF, the body
    /// starting with the first delimiter and closed by `--boundary--`, each part with a
    /// `Content-Disposition: form-data; name="…"` header, no file parts, UTF-8 values.
    public static func parseMultipart(_ body: [UInt8], contentType: String) throws(MultipartError) -> [(name: String, value: String)] {
        let parameters = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parameters.first?.lowercased() == "multipart/form-data" else {
            throw MultipartError(message: "Content-Type is \"\(contentType)\", not multipart/form-data")
        }
        guard let boundaryParameter = parameters.dropFirst().first(where: { $0.lowercased().hasPrefix("boundary=") }) else {
            throw MultipartError(message: "Content-Type has no boundary")
        }
        var boundary = String(boundaryParameter.dropFirst("boundary=".count))
        if boundary.hasPrefix("\""), boundary.hasSuffix("\""), boundary.count >= 2 { boundary = String(boundary.dropFirst().dropLast()) }
        guard (1...70).contains(boundary.utf8.count) else { throw MultipartError(message: "the boundary is not 1–70 characters") }

        let crlf: [UInt8] = [0x0D, 0x0A]
        let opening = Array("--\(boundary)".utf8)
        let delimiter = crlf + opening
        guard body.starts(with: opening + crlf) else { throw MultipartError(message: "the body does not start with --boundary CRLF") }
        var position = opening.count + 2
        var parts: [(name: String, value: String)] = []
        while true {
            guard let end = find(delimiter, in: body, from: position) else { throw MultipartError(message: "a part is not closed by a delimiter") }
            parts.append(try part(Array(body[position..<end])))
            position = end + delimiter.count
            if body[position...].starts(with: [0x2D, 0x2D]) {
                let rest = body[(position + 2)...]
                guard rest.isEmpty || rest.starts(with: crlf) else { throw MultipartError(message: "junk after the closing delimiter") }
                return parts
            }
            guard body[position...].starts(with: crlf) else { throw MultipartError(message: "a delimiter is not followed by CRLF") }
            position += 2
        }
    }

    private static func part(_ bytes: [UInt8]) throws(MultipartError) -> (name: String, value: String) {
        guard let split = find([0x0D, 0x0A, 0x0D, 0x0A], in: bytes, from: 0) else {
            throw MultipartError(message: "a part has no blank line after its headers")
        }
        guard let headerText = String(validating: bytes[..<split], as: UTF8.self) else {
            throw MultipartError(message: "a part's headers are not UTF-8")
        }
        let lines = headerText.components(separatedBy: "\r\n")
        guard !lines.contains(where: { $0.contains("\n") || $0.contains("\r") }) else {
            throw MultipartError(message: "a part's headers have a bare CR or LF")
        }
        var name: String?
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw MultipartError(message: "header line without a colon") }
            let field = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch field {
            case "content-disposition":
                let items = value.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                guard items.first?.lowercased() == "form-data" else { throw MultipartError(message: "Content-Disposition is not form-data") }
                for item in items.dropFirst() {
                    if item.lowercased().hasPrefix("filename") { throw MultipartError(message: "a file part, not a text field") }
                    if item.hasPrefix("name=\""), item.hasSuffix("\""), item.count >= 7 { name = String(item.dropFirst(6).dropLast()) }
                }
            case "content-type":
                guard value.lowercased().hasPrefix("text/plain") else { throw MultipartError(message: "a part is \(value), not text") }
            default:
                throw MultipartError(message: "unexpected part header \(field)")
            }
        }
        guard let name, !name.isEmpty else { throw MultipartError(message: "a part has no name") }
        guard let value = String(validating: bytes[(split + 4)...], as: UTF8.self) else {
            throw MultipartError(message: "the value of \(name) is not UTF-8")
        }
        return (name, value)
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    /// The accepted posts and the refusals, shared by the handlers.
    private actor Ledger {
        private(set) var batches: [Batch] = []
        private(set) var rejections: [String] = []

        func add(_ batch: Batch) { batches.append(batch) }
        func reject(_ reason: String) { rejections.append(reason) }
    }
}
