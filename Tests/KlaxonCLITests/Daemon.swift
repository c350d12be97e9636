import AsyncHTTPClient
import Foundation
import KlaxonTestSupport
import NIOCore
import NIOHTTP1

/// A third-party server (Alertmanager, a mail server) started for one test on 127.0.0.1
/// and killed when the test ends.
final class Daemon: @unchecked Sendable {
    let process: ChildProcess
    let logURL: URL

    convenience init(binary: String, arguments: [String], readyURL: String) async throws {
        try await self.init(binary: binary, arguments: arguments) {
            (try? await HTTP.send(.GET, readyURL))?.status == 200
        }
    }

    /// Starts `binary` and waits until `ready` says so.
    init(binary: String, arguments: [String], ready: @Sendable () async -> Bool) async throws {
        let (logURL, log) = try makeLogFile(name: "klaxon-daemon")
        defer { close(log) }
        self.logURL = logURL
        process = try ChildProcess(binary, arguments, stdout: log, stderr: log)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline, process.isRunning {
            if await ready() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        stop()
        throw ServerProcessError(message: "\(binary) did not become ready:\n\(self.log())")
    }

    func log() -> String {
        (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
    }

    /// SIGTERM, and SIGKILL when it is still there after two seconds (exim's foreground
    /// daemon keeps running after SIGTERM while it has children).
    func stop() {
        guard process.isRunning else { return }
        process.signal(SIGTERM)
        for _ in 0..<200 where process.isRunning { usleep(10_000) }
        process.signal(SIGKILL)
        for _ in 0..<200 where process.isRunning { usleep(10_000) }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: logURL)
    }
}

enum HTTP {
    struct Answer {
        var status: Int
        var body: String
    }

    static func send(_ method: HTTPMethod, _ url: String, body: String? = nil, headers: [(String, String)] = []) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return Answer(status: Int(response.status.code), body: String(buffer: try await response.body.collect(upTo: 1 << 24)))
    }
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
func isListening(port: Int) -> Bool {
    let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { return false }
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}
