import Hummingbird

/// What a fake does with the next request instead of answering it as the vendor would.
public enum FakeFault: Sendable, Hashable {
    /// Answer with this HTTP status and body.
    case respond(status: Int, body: String)
    /// Wait this long, then answer normally.
    case delay(Duration)
    /// Never answer (until the server shuts down): the client's timeout fires.
    case hang
    /// Send the response head, then close the connection before the promised body.
    case dropConnection
}

/// A request as a fake received it, for tests to assert on field by field.
public struct RecordedRequest: Sendable, Hashable {
    public var method: String
    /// The path without the query string.
    public var path: String
    public var query: String?
    /// Header names lower-cased; repeated headers joined with ", ".
    public var headers: [String: String]
    public var body: [UInt8]

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// The mutable part of a fake: what it recorded and what it has been told to do.
public actor FakeVendorState {
    public private(set) var requests: [RecordedRequest] = []
    private var faults: [FakeFault] = []
    /// Applied to every request once the queued faults are used up.
    private var standingFault: FakeFault?

    public init() {}

    /// Queues faults for the next requests, one each, in order.
    public func enqueue(_ fault: FakeFault...) { faults.append(contentsOf: fault) }

    /// A fault for every request from now on (nil: behave).
    public func setStandingFault(_ fault: FakeFault?) { standingFault = fault }

    public func record(_ request: RecordedRequest) { requests.append(request) }

    public func nextFault() -> FakeFault? {
        faults.isEmpty ? standingFault : faults.removeFirst()
    }

    public func reset() {
        requests = []
        faults = []
        standingFault = nil
    }
}

extension FakeVendorState {
    /// Records the request, then applies the next fault: a response to send instead of
    /// the vendor's, or nil to go on and answer as the vendor would.
    public func intercept(_ request: Request, body: ByteBuffer) async throws -> Response? {
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        record(
            RecordedRequest(
                method: request.method.rawValue,
                path: request.uri.path,
                query: request.uri.query,
                headers: headers,
                body: Array(body.readableBytesView)
            )
        )
        switch nextFault() {
        case nil:
            return nil
        case .respond(let status, let text):
            return Response(
                status: .init(code: status),
                headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: text))
            )
        case .delay(let duration):
            try await Task.sleep(for: duration)
            return nil
        case .hang:
            try await Task.sleep(for: .seconds(3600))
            return nil
        case .dropConnection:
            // A body that fails after the head went out makes the server close the connection.
            return Response(
                status: .ok,
                headers: [.contentType: "application/json", .contentLength: "1024"],
                body: ResponseBody { _ in throw FakeServerError(message: "connection dropped on purpose") }
            )
        }
    }
}
