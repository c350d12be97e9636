import Foundation
import KlaxonTestSupport
import NIOHTTP1

/// A `klaxon serve` process on 127.0.0.1 with an OS-chosen port, as an operator runs it.
final class ServerProcess: @unchecked Sendable {
    let process: ChildProcess
    let logURL: URL
    private(set) var baseURL = ""

    /// Starts the binary and waits until it logs the address it listens on. `signal` is sent
    /// that long after the start, right after `beforeSignal` ran.
    /// `fileSizeLimitBlocks`: each file the process writes may grow to that many 512-byte
    /// blocks (`ulimit -f`) and no further, as on a full disk; writes past it fail.
    init(
        arguments: [String],
        listen: String = "127.0.0.1:0",
        environment: [String: String] = [:],
        fileSizeLimitBlocks: Int? = nil,
        signal: (number: Int32, after: Duration)? = nil,
        beforeSignal: (@Sendable () throws -> Void)? = nil
    ) async throws {
        let executable: String
        let allArguments: [String]
        if let fileSizeLimitBlocks {
            // Ignored, SIGXFSZ stays ignored across exec: a write past the limit then fails
            // with EFBIG instead of killing the process.
            executable = "/bin/sh"
            allArguments =
                ["-c", "trap '' XFSZ; ulimit -f \(fileSizeLimitBlocks); exec \"$0\" \"$@\"", KlaxonProcess.binary.path, "serve", "--listen", listen]
                + arguments
        } else {
            executable = KlaxonProcess.binary.path
            allArguments = ["serve", "--listen", listen] + arguments
        }
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let (logURL, log) = try makeLogFile(name: "klaxon-serve")
        defer { close(log) }
        self.logURL = logURL
        process = try ChildProcess(
            executable,
            allArguments,
            environment: env,
            directory: KlaxonProcess.packageRoot.path,
            stdout: log,
            stderr: log
        )
        if let signal {
            Task { [process] in
                try? await Task.sleep(for: signal.after)
                // In the same task: what the test changes is done before the signal, however
                // late a loaded machine runs the task.
                try? beforeSignal?()
                process.signal(signal.number)
            }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let range = self.log().range(of: #"address=127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
                baseURL = "http://" + self.log()[range].dropFirst("address=".count)
                return
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.signal(SIGTERM)
        throw ServerProcessError(message: "klaxon serve did not start:\n\(self.log())")
    }

    func log() -> String {
        (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
    }

    /// SIGTERM, then waits for the exit status.
    func stop() async -> Int32 {
        process.signal(SIGTERM)
        return await process.exitStatus()
    }

    /// SIGKILL: no chance to finish anything.
    func kill() async {
        process.signal(SIGKILL)
        await process.exitStatus()
    }

    deinit {
        process.signal(SIGKILL)
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
