import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Throw-away PostgreSQL clusters for the tests, on 127.0.0.1 and a free port, stopped
/// when the process exits. One is shared by the whole test process, with a fresh database
/// for each test; a test that stops its server makes one of its own. Needs Debian's
/// `postgresql` (which `scripts/test` installs); as root the server runs as the `postgres`
/// user, since PostgreSQL refuses to run as root.
public enum TestPostgres {
    /// The URL of a new, empty database on the shared cluster.
    public static func makeDatabase() async throws -> String {
        try await shared.value.makeDatabase()
    }

    /// Runs `sql` in the database of `url` (one from ``makeDatabase()``) through `psql`.
    @discardableResult
    public static func execute(_ sql: String, in url: String) async throws -> String {
        try await shared.value.execute(sql, in: url)
    }

    private static let shared = Task { try await TestPostgresCluster.start() }
}

/// One throw-away cluster (``TestPostgres``).
public final class TestPostgresCluster: Sendable {
    let binaries: String
    let directory: String
    public let port: Int
    let asUser: String?
    let durable: Bool
    let tls: Bool

    private init(binaries: String, directory: String, port: Int, asUser: String?, durable: Bool, tls: Bool) {
        self.binaries = binaries
        self.directory = directory
        self.port = port
        self.asUser = asUser
        self.durable = durable
        self.tls = tls
    }

    /// Makes a new cluster and starts its server. Not `durable`, it skips disk syncs: the
    /// tests check klaxon's behaviour, not PostgreSQL's durability, unless they stop the
    /// server, whose commits must then survive it. With `tls`, the server offers TLS with a
    /// self-signed certificate made for it.
    public static func start(durable: Bool = false, tls: Bool = false) async throws -> TestPostgresCluster {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = versions.compactMap(Int.init).max() else {
            throw TestPostgresError("PostgreSQL's server is not installed (/usr/lib/postgresql/*/bin); scripts/test installs Debian's postgresql")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-test-postgres-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var asUser: String?
        if getuid() == 0 {
            guard let user = getpwnam("postgres") else { throw TestPostgresError("running as root, and there is no postgres user") }
            chown(directory, user.pointee.pw_uid, user.pointee.pw_gid)
            asUser = "postgres"
        }
        let cluster = TestPostgresCluster(
            binaries: "/usr/lib/postgresql/\(version)/bin",
            directory: directory,
            port: try FreePort.pick(),
            asUser: asUser,
            durable: durable,
            tls: tls
        )
        try await cluster.run("initdb", ["-D", "\(directory)/data", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"])
        if tls {
            try await cluster.run(
                "/usr/bin/openssl",
                [
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=klaxon-test",
                    "-keyout", "\(directory)/server.key", "-out", "\(directory)/server.crt",
                ]
            )
        }
        stopAtExit(cluster)
        // A free port can be taken before the server binds it (another test, or an outgoing
        // connection's own port): then the same cluster on another port.
        var started = cluster
        for attempt in 1...5 {
            do {
                try await started.startServer()
                return started
            } catch let error as TestPostgresError where error.description.contains("Address already in use") && attempt < 5 {
                started = TestPostgresCluster(
                    binaries: cluster.binaries,
                    directory: directory,
                    port: try FreePort.pick(),
                    asUser: asUser,
                    durable: durable,
                    tls: tls
                )
                stopAtExit(started)
            }
        }
        return started
    }

    /// Starts the server (again, after ``stopServer()``) and waits until it answers.
    public func startServer() async throws {
        var arguments = ["-D", "\(directory)/data", "-p", "\(port)", "-k", directory, "-c", "listen_addresses=127.0.0.1"]
        if !durable { arguments += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"] }
        if tls { arguments += ["-c", "ssl=on", "-c", "ssl_cert_file=\(directory)/server.crt", "-c", "ssl_key_file=\(directory)/server.key"] }
        let log = "\(directory)/server.log"
        let output = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw TestPostgresError("cannot open \(log)") }
        defer { close(output) }
        // What this start writes, after what earlier starts wrote.
        let earlier = lseek(output, 0, SEEK_END)
        let server = try spawn("postgres", arguments, output: output)
        // By the clock, not by tries: under the whole suite each try starts a process.
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline, server.isRunning {
            // Over this cluster's own socket: on 127.0.0.1 another cluster that took the port
            // first would answer, while this one exits for want of it, and the test would
            // then run on a server another test stops.
            if (try? await run("pg_isready", ["-q", "-h", directory, "-p", "\(port)"])) != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        let written = (try? Data(contentsOf: URL(fileURLWithPath: log)))?.dropFirst(Int(max(earlier, 0))) ?? Data()
        let text = String(decoding: written, as: UTF8.self)
        if let status = server.terminationStatus {
            throw TestPostgresError("PostgreSQL exited (status \(status)) before it answered: \(text)")
        }
        throw TestPostgresError("PostgreSQL did not start within 30 s: \(text)")
    }

    /// Stops the server at once (an immediate shutdown, as a crash or a lost network looks
    /// to a client) and waits until it has gone.
    public func stopServer() async {
        guard let pid = serverPID() else { return }
        kill(pid, SIGQUIT)
        for _ in 0..<250 where kill(pid, 0) == 0 { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// The URL of a new, empty database.
    public func makeDatabase() async throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await run("psql", ["-q", "-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-c", "CREATE DATABASE \(name)"])
        return "postgres://postgres@127.0.0.1:\(port)/\(name)?sslmode=disable"
    }

    /// Runs `sql` in the database of `url` through `psql` (over the server's Unix socket)
    /// and returns what it printed, unaligned and without headers.
    @discardableResult
    public func execute(_ sql: String, in url: String) async throws -> String {
        guard let name = URLComponents(string: url)?.path.dropFirst(), !name.isEmpty else { throw TestPostgresError("no database in \(url)") }
        return try await run(
            "psql",
            ["-qAt", "-v", "ON_ERROR_STOP=1", "-h", directory, "-p", "\(port)", "-U", "postgres", "-d", String(name), "-c", sql]
        )
    }

    private func serverPID() -> pid_t? {
        guard let text = try? String(contentsOfFile: "\(directory)/data/postmaster.pid", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first.flatMap { pid_t($0) }
    }

    /// One of the cluster's programs (or another, by its absolute path), run as the
    /// postgres user when root, with its output on `output`.
    private func spawn(_ program: String, _ arguments: [String], output: Int32) throws -> ChildProcess {
        let path = program.hasPrefix("/") ? program : "\(binaries)/\(program)"
        if let asUser {
            return try ChildProcess(
                "/usr/sbin/runuser",
                ["-u", asUser, "--", path] + arguments,
                directory: directory,
                stdout: output,
                stderr: output
            )
        }
        return try ChildProcess(path, arguments, directory: directory, stdout: output, stderr: output)
    }

    /// Runs one of the cluster's programs, waits for it and returns what it printed.
    @discardableResult
    func run(_ program: String, _ arguments: [String]) async throws -> String {
        let log = "\(directory)/\((program as NSString).lastPathComponent).log"
        let output = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw TestPostgresError("cannot open \(log)") }
        let child: ChildProcess
        do {
            defer { close(output) }
            child = try spawn(program, arguments, output: output)
        }
        let status = await child.exitStatus()
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw TestPostgresError("\(program) \(arguments.joined(separator: " ")) failed (\(status)): \(text)")
        }
        return text
    }

    private static let clusters = Mutex<[TestPostgresCluster]>([])

    /// Stops the servers at exit (nothing in them is worth keeping) and removes their files.
    private static func stopAtExit(_ cluster: TestPostgresCluster) {
        let first = clusters.withLock { clusters in
            clusters.append(cluster)
            return clusters.count == 1
        }
        guard first else { return }
        atexit {
            for cluster in TestPostgresCluster.clusters.withLock({ $0 }) {
                if let pid = cluster.serverPID() {
                    kill(pid, SIGQUIT)
                    for _ in 0..<100 where kill(pid, 0) == 0 { usleep(20_000) }
                }
                try? FileManager.default.removeItem(atPath: cluster.directory)
            }
        }
    }
}

public struct TestPostgresError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
