import ArgumentParser
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

    /// `--token-file` wins over `KLAXON_API_TOKEN`: mail servers run pipes with a clean
    /// environment, so a file the pipe's user can read is how they get the token.
    init(_ options: APIOptions, environment: [String: String] = ProcessInfo.processInfo.environment) throws(TokenFileError) {
        self.init(server: options.server, environment: environment)
        if let path = options.tokenFile { token = try Self.token(fromFile: path) }
    }

    /// The file's content without surrounding whitespace (the newline editors add).
    static func token(fromFile path: String) throws(TokenFileError) -> String {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw TokenFileError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        // A token is short; a bound keeps a wrong path (a log, /dev/zero) from being read whole.
        let limit = 64 << 10
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count <= limit {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0 { throw TokenFileError(path: path, reason: String(cString: strerror(errno))) }
            if count == 0 { break }
            bytes += buffer[..<count]
        }
        guard bytes.count <= limit else { throw TokenFileError(path: path, reason: "larger than \(limit) bytes; is it the token file?") }
        let token = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw TokenFileError(path: path, reason: "the file is empty") }
        guard !token.contains(where: \.isNewline) else { throw TokenFileError(path: path, reason: "the file has more than one line") }
        return token
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

/// A `--token-file` that cannot give a token.
struct TokenFileError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "cannot read the token file \(path): \(reason)" }
}

/// Where the server is and how to authenticate, for every command that uses the API.
struct APIOptions: ParsableArguments {
    @Option(help: "The server's URL.")
    var server = "http://127.0.0.1:9095"

    @Option(help: ArgumentHelp("Read the API token from this file (trimmed) instead of KLAXON_API_TOKEN.", valueName: "path"))
    var tokenFile: String?
}
