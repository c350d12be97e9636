import Foundation
import Hummingbird
import NIOCore

/// A loopback Bitel (VENDORS.md §3.7) that checks requests as Bitel would and answers with
/// Bitel's envelope, codes and HTTP statuses.
///
/// `POST /api/v2/voice/single`:
/// - `Authorization` must be `Bearer <token>`, else 401 `{"result":null,"error":"Unauthorized"}`.
/// - The body must be a JSON object (`Content-Type: application/json`) with
///   `phoneNumber` (string), `voiceId` (string), optional `retryCount` (whole number 0–1)
///   and optional `serverId` (string); a missing field, a wrong type, a voice id that is
///   not 32 hex digits or not an uploaded voice, a retry count out of range, or any other
///   key (a misspelt `serverID`, say) → 400 `InvalidRequest`.
/// - `phoneNumber` must be `09` and 9 digits → else 400 `InvalidPhoneNumber`.
/// - `serverId`, when given, must be a known dialer → else 400 `InvalidServer`.
/// - Success: 200 with the §3.2 envelope, a fresh 32-hex `id`, status `WAITING`.
///
/// Rejecting unknown keys is stricter than Bitel is known to be; it turns a client typo
/// into a failing test instead of a silently ignored field.
///
/// `GET /api/v2/voice/status/{id}`: 401 as above; the call's record as a bare object
/// (the Call Status page's form) for an id the fake issued; 404
/// `{"result":null,"error":"NotFound"}` otherwise. Tests move a call on with ``setStatus(_:billSec:for:)``.
///
/// Every request first goes through ``state`` (recorded; queued faults applied).
public struct BitelFake: Sendable {
    /// A call the fake accepted.
    public struct Call: Sendable, Hashable {
        public var id: String
        public var phoneNumber: String
        public var voiceID: String
        public var retryCount: Int?
        public var serverID: String?
        public var status: String
        public var statusCode: Int
        public var billSec: Int
        public var requestDate: Int
        public var executionDate: Int
        public var price: Double
    }

    /// Bitel's statuses and their codes (§3.4).
    public static let statusCodes: [String: Int] = [
        "WAITING": 0, "NORMAL": 1, "NO_ANSWER": 2, "USER_BUSY": 3, "EXPIRED": 10, "ERROR": 11, "UNKNOWN": 20,
    ]

    public let state: FakeVendorState
    public let token: String
    /// Ids of the voices "uploaded" to this account.
    public let voices: Set<String>
    /// Known dialer ids for `serverId`.
    public let servers: Set<String>
    private let ledger = Ledger()
    private let now: @Sendable () -> Date
    private let makeID: @Sendable () -> String

    public init(
        token: String = "test-jwt",
        voices: Set<String> = ["08e815cbcd724386805103ac0d45e4c2"],
        servers: Set<String> = ["srv-1"],
        state: FakeVendorState = FakeVendorState(),
        now: @escaping @Sendable () -> Date = { Date(timeIntervalSince1970: 1_700_000_000) },
        makeID: @escaping @Sendable () -> String = { UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }
    ) {
        self.token = token
        self.voices = voices
        self.servers = servers
        self.state = state
        self.now = now
        self.makeID = makeID
    }

    /// A router serving Bitel's paths, for ``withFakeServer(_:_:)``.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        addRoutes(to: router)
        return router
    }

    public func addRoutes(to router: Router<BasicRequestContext>) {
        router.post("/api/v2/voice/single") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            if let fault = try await state.intercept(request, body: body) { return fault }
            return await single(request, body: Array(body.readableBytesView))
        }
        router.get("/api/v2/voice/status/:id") { request, context -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            if let fault = try await state.intercept(request, body: body) { return fault }
            guard isAuthorized(request) else { return Self.answer(.unauthorized, Self.error("Unauthorized")) }
            guard let id = context.parameters.get("id"), let call = await ledger.call(id) else {
                return Self.answer(.notFound, Self.error("NotFound"))
            }
            return Self.answer(.ok, Self.json(call))
        }
    }

    /// The calls accepted so far, oldest first.
    public func calls() async -> [Call] { await ledger.all() }

    /// Why each refused request was refused, oldest first (for test failure messages).
    public func rejections() async -> [String] { await ledger.rejections }

    /// Moves the call `id` to `status` (a §3.4 name) with `billSec` seconds of talk time;
    /// false when the fake never issued `id` or does not know `status`.
    @discardableResult
    public func setStatus(_ status: String, billSec: Int = 0, for id: String) async -> Bool {
        guard let code = Self.statusCodes[status] else { return false }
        return await ledger.update(id) { call in
            call.status = status
            call.statusCode = code
            call.billSec = billSec
            call.executionDate = code == 0 ? 0 : Int(now().timeIntervalSince1970)
            call.price = billSec > 0 ? -(Double(billSec) * 285).rounded() / 100 : 0
        }
    }

    // MARK: - Handlers

    private func single(_ request: Request, body: [UInt8]) async -> Response {
        guard isAuthorized(request) else {
            return await reject(.unauthorized, "Unauthorized", because: "Authorization is not Bearer <token>")
        }
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true else {
            return await reject(.badRequest, "InvalidRequest", because: "Content-Type is not application/json")
        }
        guard case .object(let fields)? = try? JSONDecoder().decode(Value.self, from: Data(body)) else {
            return await reject(.badRequest, "InvalidRequest", because: "the body is not a JSON object")
        }
        let unknown = Set(fields.keys).subtracting(["phoneNumber", "voiceId", "retryCount", "serverId"])
        guard unknown.isEmpty else {
            return await reject(.badRequest, "InvalidRequest", because: "unknown keys \(unknown.sorted())")
        }
        guard case .string(let phoneNumber)? = fields["phoneNumber"] else {
            return await reject(.badRequest, "InvalidRequest", because: "phoneNumber is missing or not a string")
        }
        guard case .string(let voiceID)? = fields["voiceId"] else {
            return await reject(.badRequest, "InvalidRequest", because: "voiceId is missing or not a string")
        }
        var retryCount: Int?
        switch fields["retryCount"] {
        case nil: break
        case .number(let value)? where value == value.rounded() && (0...1).contains(value): retryCount = Int(value)
        default: return await reject(.badRequest, "InvalidRequest", because: "retryCount is not a whole number 0–1")
        }
        var serverID: String?
        switch fields["serverId"] {
        case nil: break
        case .string(let value)?: serverID = value
        default: return await reject(.badRequest, "InvalidRequest", because: "serverId is not a string")
        }
        guard phoneNumber.utf8.count == 11, phoneNumber.hasPrefix("09"), phoneNumber.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            return await reject(.badRequest, "InvalidPhoneNumber", because: "phoneNumber is not 09 and 9 digits")
        }
        guard voiceID.utf8.count == 32, voiceID.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }),
            voices.contains(voiceID)
        else {
            return await reject(.badRequest, "InvalidRequest", because: "voiceId is not an uploaded voice")
        }
        if let serverID, !servers.contains(serverID) {
            return await reject(.badRequest, "InvalidServer", because: "serverId is not a known dialer")
        }
        let call = Call(
            id: makeID(),
            phoneNumber: phoneNumber,
            voiceID: voiceID,
            retryCount: retryCount,
            serverID: serverID,
            status: "WAITING",
            statusCode: 0,
            billSec: 0,
            requestDate: Int(now().timeIntervalSince1970),
            executionDate: 0,
            price: 0
        )
        await ledger.add(call)
        return Self.answer(.ok, #"{"result":"# + Self.json(call) + #","error":null}"#)
    }

    private func isAuthorized(_ request: Request) -> Bool {
        request.headers[.authorization] == "Bearer \(token)"
    }

    private func reject(_ status: HTTPResponse.Status, _ code: String, because reason: String) async -> Response {
        await ledger.reject("\(code): \(reason)")
        return Self.answer(status, Self.error(code))
    }

    private static func error(_ code: String) -> String { #"{"result":null,"error":""# + code + #""}"# }

    private static func json(_ call: Call) -> String {
        #"{"id":""# + call.id + #"","phoneNumber":""# + call.phoneNumber + #"","status":""# + call.status
            + #"","statusCode":\#(call.statusCode),"billSec":\#(call.billSec),"requestDate":\#(call.requestDate),"#
            + #""executionDate":\#(call.executionDate),"price":\#(call.price)}"#
    }

    private static func answer(_ status: HTTPResponse.Status, _ json: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: json))
        )
    }

    /// The calls issued and the refusals, shared by the handlers.
    private actor Ledger {
        private var calls: [String: Call] = [:]
        private var order: [String] = []
        private(set) var rejections: [String] = []

        func add(_ call: Call) {
            calls[call.id] = call
            order.append(call.id)
        }

        func call(_ id: String) -> Call? { calls[id] }

        func all() -> [Call] { order.compactMap { calls[$0] } }

        func update(_ id: String, _ change: (inout Call) -> Void) -> Bool {
            guard var call = calls[id] else { return false }
            change(&call)
            calls[id] = call
            return true
        }

        func reject(_ reason: String) { rejections.append(reason) }
    }

    /// A JSON value with its type kept, to check the body as a typed API would.
    private enum Value: Decodable {
        case null
        case bool(Bool)
        case number(Double)
        case string(String)
        case array([Value])
        case object([String: Value])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .null
            } else if let value = try? container.decode(Bool.self) {
                self = .bool(value)
            } else if let value = try? container.decode(Double.self) {
                self = .number(value)
            } else if let value = try? container.decode(String.self) {
                self = .string(value)
            } else if let value = try? container.decode([Value].self) {
                self = .array(value)
            } else {
                self = .object(try container.decode([String: Value].self))
            }
        }
    }
}
