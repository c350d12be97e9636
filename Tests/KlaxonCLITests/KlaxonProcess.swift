import Foundation
import KlaxonTestSupport

/// Runs the built `klaxon` binary the way a user or CI does, from the package root.
struct KlaxonProcess {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var binary: URL {
        let beside = Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("klaxon")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        return Bundle.main.bundleURL.appendingPathComponent("klaxon")
    }

    /// Runs the binary on a thread of its own: waiting for it must not hold one of the few
    /// threads Swift concurrency has, which the in-process fake servers need to answer it.
    static func run(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:]) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try runBlocking(arguments, stdin: stdin, environment: environment) })
            }
        }
    }

    private static func runBlocking(_ arguments: [String], stdin: Data?, environment: [String: String]) throws -> Output {
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let input = try makePipe()
        let output = try makePipe()
        // stderr goes to a file, so neither stream can fill a pipe and block the child.
        let (errURL, err) = try makeLogFile(name: "klaxon-stderr")
        defer { try? FileManager.default.removeItem(at: errURL) }
        let child: ChildProcess
        do {
            defer {
                close(input.read)
                close(output.write)
                close(err)
            }
            child = try ChildProcess(
                binary.path,
                arguments,
                environment: env,
                directory: packageRoot.path,
                stdin: input.read,
                stdout: output.write,
                stderr: err
            )
        }
        let writer = FileHandle(fileDescriptor: input.write, closeOnDealloc: true)
        // A child that stops reading early (klaxon email on a message over its limit) must not
        // crash the test with a broken pipe.
        if let stdin { try? writer.write(contentsOf: stdin) }
        try writer.close()
        let outData = FileHandle(fileDescriptor: output.read, closeOnDealloc: true).readDataToEndOfFile()
        let status = child.waitUntilExit()
        let errData = try Data(contentsOf: errURL)
        return Output(
            status: status,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self)
        )
    }
}
