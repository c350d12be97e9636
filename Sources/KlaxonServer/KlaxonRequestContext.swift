import Foundation
import Hummingbird
import NIOCore

/// The request context of every klaxon route: JSON answers with sorted snake_case keys and
/// RFC 3339 dates, so they read the same every time.
public struct KlaxonRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The request's connection, closed for reading when a body is too slow (``BodyReader``).
    let channel: any Channel

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    public var responseEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}

/// The design's error body, `{"error": "...", "detail": "..."}`, with its status.
public struct APIError: HTTPResponseError {
    public var status: HTTPResponse.Status
    public var error: String
    public var detail: String?

    public init(_ status: HTTPResponse.Status, _ error: String, detail: String? = nil) {
        self.status = status
        self.error = error
        self.detail = detail
    }

    struct Body: Encodable {
        let error: String
        let detail: String?
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(Body(error: error, detail: detail))
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if status == .unauthorized { headers[.wwwAuthenticate] = #"Bearer realm="klaxon""# }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static let unauthorized = APIError(.unauthorized, "unauthorized")
}
