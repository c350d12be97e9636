import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A throw-away PostgreSQL cluster for the tests: started once per test process on
/// 127.0.0.1 and a free port, with a fresh database for each test, and stopped when the
/// process exits. Needs Debian's `postgresql` (which `scripts/test` installs); as root the
/// server runs as the `postgres` user, since PostgreSQL refuses to run as root.
public enum TestPostgres {
    /// The URL of a new, empty database.
    public static func makeDatabase() async throws -> String {
        let cluster = try await shared.value
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await cluster.run("psql", ["-q", "-h", "127.0.0.1", "-p", "\(cluster.port)", "-U", "postgres", "-c", "CREATE DATABASE \(name)"])
        return "postgres://postgres@127.0.0.1:\(cluster.port)/\(name)?sslmode=disable"
    }

    /// Runs `sql` in the database of `url` (one from ``makeDatabase()``) through `psql`.
    public static func execute(_ sql: String, in url: String) async throws {
        let cluster = try await shared.value
        guard let name = URLComponents(string: url)?.path.dropFirst(), !name.isEmpty else { throw TestPostgresError("no database in \(url)") }
        try await cluster.run(
            "psql",
            ["-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "\(cluster.port)", "-U", "postgres", "-d", String(name), "-c", sql]
        )
    }

    private static let shared = Task { try await Cluster.start() }

    struct Cluster: Sendable {
        let binaries: String
        let directory: String
        let port: Int
        let asUser: String?

        static func start() async throws -> Cluster {
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
            let cluster = Cluster(binaries: "/usr/lib/postgresql/\(version)/bin", directory: directory, port: try freePort(), asUser: asUser)
            try await cluster.run("initdb", ["-D", "\(directory)/data", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"])
            // The server as a child of its own, not through pg_ctl: a daemon started that way
            // inherits the descriptor by which Foundation sees pg_ctl exit, and it never does.
            // No disk syncs: the tests check klaxon's behaviour, not PostgreSQL's durability.
            let server = cluster.process(
                "postgres",
                [
                    "-D", "\(directory)/data", "-p", "\(cluster.port)", "-k", directory, "-c", "listen_addresses=127.0.0.1",
                    "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                ]
            )
            let log = "\(directory)/server.log"
            FileManager.default.createFile(atPath: log, contents: nil)
            server.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            server.standardError = server.standardOutput
            try server.run()
            stopAtExit(cluster)
            for _ in 0..<200 {
                if (try? await cluster.run("pg_isready", ["-q", "-h", "127.0.0.1", "-p", "\(cluster.port)"])) != nil { return cluster }
                try await Task.sleep(for: .milliseconds(50))
            }
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw TestPostgresError("PostgreSQL did not start within 10 s: \(text)")
        }

        /// One of the cluster's programs, to run as the postgres user when root.
        func process(_ program: String, _ arguments: [String]) -> Process {
            let process = Process()
            let path = "\(binaries)/\(program)"
            if let asUser {
                process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
                process.arguments = ["-u", asUser, "--", path] + arguments
            } else {
                process.executableURL = URL(fileURLWithPath: path)
                process.arguments = arguments
            }
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            return process
        }

        /// Runs one of the cluster's programs and waits for it.
        func run(_ program: String, _ arguments: [String]) async throws {
            let process = process(program, arguments)
            let log = "\(directory)/\(program).log"
            FileManager.default.createFile(atPath: log, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.standardError = process.standardOutput
            try process.run()
            await Task.detached { process.waitUntilExit() }.value
            guard process.terminationStatus == 0 else {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                throw TestPostgresError("\(program) \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(text)")
            }
        }
    }

    /// A port nothing listens on now: the kernel's pick for a socket bound to port 0.
    private static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw TestPostgresError("socket failed") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw TestPostgresError("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    nonisolated(unsafe) private static var running: Cluster?

    /// Stops the server at exit (an immediate shutdown: nothing in it is worth keeping)
    /// and removes its files.
    private static func stopAtExit(_ cluster: Cluster) {
        running = cluster
        atexit {
            guard let cluster = TestPostgres.running,
                let pidFile = try? String(contentsOfFile: "\(cluster.directory)/data/postmaster.pid", encoding: .utf8),
                let pid = pidFile.split(separator: "\n").first.flatMap({ pid_t($0) })
            else { return }
            kill(pid, SIGQUIT)
            for _ in 0..<100 where kill(pid, 0) == 0 { usleep(20_000) }
            try? FileManager.default.removeItem(atPath: cluster.directory)
        }
    }
}

public struct TestPostgresError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
