import Foundation
import NIOHTTP1

/// A `klaxon serve` process on 127.0.0.1 with an OS-chosen port, as an operator runs it.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let logURL: URL
    private(set) var baseURL = ""

    /// Starts the binary and waits until it logs the address it listens on.
    /// `fileSizeLimitBlocks`: each file the process writes may grow to that many 512-byte
    /// blocks (`ulimit -f`) and no further, as on a full disk; writes past it fail.
    init(
        arguments: [String],
        listen: String = "127.0.0.1:0",
        environment: [String: String] = [:],
        fileSizeLimitBlocks: Int? = nil
    ) async throws {
        if let fileSizeLimitBlocks {
            // Ignored, SIGXFSZ stays ignored across exec: a write past the limit then fails
            // with EFBIG instead of killing the process.
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments =
                ["-c", "trap '' XFSZ; ulimit -f \(fileSizeLimitBlocks); exec \"$0\" \"$@\"", KlaxonProcess.binary.path, "serve", "--listen", listen]
                + arguments
        } else {
            process.executableURL = KlaxonProcess.binary
            process.arguments = ["serve", "--listen", listen] + arguments
        }
        process.currentDirectoryURL = KlaxonProcess.packageRoot
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        logURL = try process.runLogged(name: "klaxon-serve")
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let range = log().range(of: #"address=127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
                baseURL = "http://" + log()[range].dropFirst("address=".count)
                return
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.terminate()
        throw ServerProcessError(message: "klaxon serve did not start:\n\(log())")
    }

    func log() -> String {
        (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
    }

    /// SIGTERM, then waits for the exit status.
    func stop() async -> Int32 {
        process.terminate()
        return await waitForExit()
    }

    /// SIGKILL: no chance to finish anything.
    func kill() async {
        Foundation.kill(process.processIdentifier, SIGKILL)
        _ = await waitForExit()
    }

    private func waitForExit() async -> Int32 {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: logURL)
    }

    func request(_ method: HTTPMethod, _ path: String, body: String? = nil) async throws -> HTTP.Answer {
        try await HTTP.send(method, baseURL + path, body: body)
    }
}

struct ServerProcessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
