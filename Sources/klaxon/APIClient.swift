import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Talks to a running `klaxon serve` for the commands that act through its API.
struct APIClient {
    var server: String
    var token: String?
    var timeout: Duration = .seconds(10)

    init(server: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.token = environment["KLAXON_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
    }

    struct Answer {
        var status: Int
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Sends one request; throws when the server cannot be reached or does not answer in time.
    func send(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json") async throws -> Answer {
        var request = HTTPClientRequest(url: server + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        // A refused connection fails at once: the caller (an operator, a mail server) retries.
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let response = try await client.execute(request, timeout: .seconds(Int64(timeout.components.seconds)))
            let buffer = try await response.body.collect(upTo: 16 << 20)
            try await client.shutdown()
            return Answer(status: Int(response.status.code), body: Array(buffer.readableBytesView))
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// `{"error": "...", "detail": "..."}` as one line, or the raw body.
    static func errorLine(_ answer: Answer) -> String {
        if let object = try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any], let error = object["error"] as? String {
            return (object["detail"] as? String).map { "\(error): \($0)" } ?? error
        }
        return answer.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
