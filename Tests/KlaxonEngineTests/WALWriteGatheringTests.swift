import Foundation
import KlaxonCore
import SQLiteNIO
import Testing

@testable import KlaxonEngine

@Suite("WAL writes gathered: one write a commit")
struct WALWriteGatheringTests {
    /// What the file holds, read by a connection of its own once the store is closed.
    private func contents(of path: String) async throws -> (integrity: String, incidents: Int, alerts: Int) {
        let connection = try await SQLiteConnection.open(storage: .file(path: path))
        defer { Task { try? await connection.close() } }
        let integrity = try await connection.query("PRAGMA integrity_check").first?.column("integrity_check")?.string ?? ""
        let incidents = try await connection.query("SELECT count(*) AS n FROM incidents").first?.column("n")?.integer ?? -1
        let alerts = try await connection.query("SELECT count(*) AS n FROM alerts").first?.column("n")?.integer ?? -1
        return (integrity, incidents, alerts)
    }

    /// A commit is written in pieces of at most 128 KiB: SQLite's own VFS takes no more a
    /// call, and a larger write failed the commit with "database or disk is full".
    @Test(.timeLimit(.minutes(1))) func aCommitLargerThanOneWriteIsKeptWhole() async throws {
        let harness = try await EngineHarness.make()
        defer { Task { try? await harness.close() } }
        let alerts = (0..<400).map { dbAlert("db-\($0)") }
        let summary = try await harness.engine.ingest(alerts)
        #expect(summary.opened.count == 400)
        let wal = (try FileManager.default.attributesOfItem(atPath: harness.path + "-wal")[.size] as? Int) ?? 0
        #expect(wal > 0x20000, "WAL of \(wal) bytes: the commit should need more than one write")
        #expect(try await harness.engine.incidents(.open).count == 400)
        try await harness.store.close()
        let stored = try await contents(of: harness.path)
        #expect(stored.integrity == "ok")
        #expect(stored.incidents == 400 && stored.alerts == 400)
    }

    /// Commits go on while checkpoints copy the WAL back and the WAL starts over (its new
    /// header is synced at once, frames are not): every commit is there afterwards.
    @Test(.timeLimit(.minutes(1))) func commitsAcrossWALRestartsAreAllKept() async throws {
        let harness = try await EngineHarness.make()
        defer { Task { try? await harness.close() } }
        // The WAL header's checkpoint sequence number (bytes 12..<16) counts its restarts.
        let restarts = {
            let header = FileManager.default.contents(atPath: harness.path + "-wal")?.prefix(16) ?? Data()
            return header.count == 16 ? header.suffix(4).reduce(0) { $0 << 8 | Int($1) } : 0
        }
        let restartsBefore = restarts()
        for round in 0..<40 {
            _ = try await harness.engine.ingest((0..<25).map { dbAlert("db-\(round)-\($0)") })
            _ = try await harness.engine.ingest([dbAlert("solo-\(round)")])
            // Room for the checkpointer, which runs every 100 ms.
            if round % 8 == 7 { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(restarts() > restartsBefore, "the WAL never started over")
        #expect(try await harness.engine.incidents(.open, limit: 5000).count == 40 * 26)
        try await harness.store.close()
        let stored = try await contents(of: harness.path)
        #expect(stored.integrity == "ok")
        #expect(stored.incidents == 40 * 26 && stored.alerts == 40 * 26)
    }
}
