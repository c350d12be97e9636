/// The SQLite schema as numbered migrations. `PRAGMA user_version` holds the number of
/// migrations applied; opening a file runs the missing ones in one transaction each, so an
/// older file is upgraded in place. Never edit a released migration: append a new one.
/// Times are whole milliseconds since 1970, so a due time compares exactly.
public enum SQLiteSchema {
    static let migrations: [[String]] = [
        // 1: incidents, alerts, steps, calls, timeline.
        [
            """
            CREATE TABLE incidents (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                key TEXT NOT NULL,
                route TEXT NOT NULL,
                state TEXT NOT NULL,
                severity TEXT NOT NULL,
                priority INTEGER NOT NULL,
                title TEXT NOT NULL,
                voice TEXT,
                providers TEXT NOT NULL,
                escalation TEXT,
                opened_at INTEGER NOT NULL,
                last_seen INTEGER NOT NULL,
                count INTEGER NOT NULL,
                acked_at INTEGER,
                acked_by TEXT,
                resolved_at INTEGER,
                resolved_by TEXT,
                storm INTEGER NOT NULL DEFAULT 0
            )
            """,
            "CREATE INDEX incidents_state ON incidents (state, id)",
            "CREATE INDEX incidents_route_opened ON incidents (route, opened_at)",
            "CREATE INDEX incidents_key ON incidents (key, resolved_at)",
            """
            CREATE TABLE alerts (
                incident_id INTEGER NOT NULL REFERENCES incidents (id),
                fingerprint TEXT NOT NULL,
                key TEXT NOT NULL,
                status TEXT NOT NULL,
                labels TEXT NOT NULL,
                annotations TEXT NOT NULL,
                severity TEXT NOT NULL,
                source TEXT NOT NULL,
                starts_at INTEGER,
                ends_at INTEGER,
                first_seen INTEGER NOT NULL,
                last_seen INTEGER NOT NULL,
                PRIMARY KEY (incident_id, fingerprint)
            )
            """,
            "CREATE INDEX alerts_key ON alerts (key)",
            """
            CREATE TABLE steps (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                incident_id INTEGER NOT NULL REFERENCES incidents (id),
                step INTEGER NOT NULL,
                due_at INTEGER NOT NULL,
                state TEXT NOT NULL,
                recipients TEXT NOT NULL
            )
            """,
            "CREATE INDEX steps_due ON steps (state, due_at)",
            "CREATE INDEX steps_incident ON steps (incident_id)",
            """
            CREATE TABLE calls (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                call_id TEXT NOT NULL,
                incident_id INTEGER NOT NULL REFERENCES incidents (id),
                step_id INTEGER NOT NULL REFERENCES steps (id),
                step INTEGER NOT NULL,
                recipient TEXT NOT NULL,
                phone TEXT NOT NULL,
                state TEXT NOT NULL,
                provider TEXT,
                attempts INTEGER NOT NULL,
                vendor_call_id TEXT,
                status TEXT,
                error TEXT,
                started_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            )
            """,
            "CREATE INDEX calls_call_id ON calls (call_id)",
            "CREATE INDEX calls_vendor ON calls (provider, vendor_call_id)",
            "CREATE INDEX calls_phone ON calls (phone, started_at)",
            "CREATE INDEX calls_step ON calls (step_id)",
            "CREATE INDEX calls_incident ON calls (incident_id)",
            """
            CREATE TABLE events (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                incident_id INTEGER NOT NULL REFERENCES incidents (id),
                at INTEGER NOT NULL,
                kind TEXT NOT NULL,
                actor TEXT NOT NULL,
                detail TEXT NOT NULL,
                call_id TEXT
            )
            """,
            "CREATE INDEX events_incident ON events (incident_id, id)",
        ],
        // 2: keys a callee pressed, from vendors that collect them.
        [
            "ALTER TABLE calls ADD COLUMN digits TEXT"
        ],
        // 3: the dedupe keys a storm incident holds, in a table of their own: an index on
        // every alert's key, kept for that lookup alone, cost a tenth of each webhook.
        [
            """
            CREATE TABLE storm_keys (
                key TEXT NOT NULL,
                incident_id INTEGER NOT NULL REFERENCES incidents (id),
                PRIMARY KEY (key, incident_id)
            ) WITHOUT ROWID
            """,
            """
            INSERT OR IGNORE INTO storm_keys (key, incident_id)
            SELECT alerts.key, alerts.incident_id FROM alerts JOIN incidents ON incidents.id = alerts.incident_id
            WHERE incidents.storm = 1
            """,
            "DROP INDEX alerts_key",
        ],
        // 4: ids without AUTOINCREMENT: its `sqlite_sequence` row was one more read and write
        // for every insert and one more page for every commit. Nothing is ever deleted, so
        // the largest id plus one (what SQLite gives instead) is never an id used before.
        // SQLite cannot drop AUTOINCREMENT in place: each table is copied into a new one.
        rebuild(
            "incidents",
            """
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL,
            route TEXT NOT NULL,
            state TEXT NOT NULL,
            severity TEXT NOT NULL,
            priority INTEGER NOT NULL,
            title TEXT NOT NULL,
            voice TEXT,
            providers TEXT NOT NULL,
            escalation TEXT,
            opened_at INTEGER NOT NULL,
            last_seen INTEGER NOT NULL,
            count INTEGER NOT NULL,
            acked_at INTEGER,
            acked_by TEXT,
            resolved_at INTEGER,
            resolved_by TEXT,
            storm INTEGER NOT NULL DEFAULT 0
            """,
            indexes: [
                "CREATE INDEX incidents_state ON incidents (state, id)",
                "CREATE INDEX incidents_route_opened ON incidents (route, opened_at)",
                "CREATE INDEX incidents_key ON incidents (key, resolved_at)",
            ]
        )
            + rebuild(
                "steps",
                """
                id INTEGER PRIMARY KEY,
                incident_id INTEGER NOT NULL REFERENCES incidents (id),
                step INTEGER NOT NULL,
                due_at INTEGER NOT NULL,
                state TEXT NOT NULL,
                recipients TEXT NOT NULL
                """,
                indexes: [
                    "CREATE INDEX steps_due ON steps (state, due_at)",
                    "CREATE INDEX steps_incident ON steps (incident_id)",
                ]
            )
            + rebuild(
                "calls",
                """
                id INTEGER PRIMARY KEY,
                call_id TEXT NOT NULL,
                incident_id INTEGER NOT NULL REFERENCES incidents (id),
                step_id INTEGER NOT NULL REFERENCES steps (id),
                step INTEGER NOT NULL,
                recipient TEXT NOT NULL,
                phone TEXT NOT NULL,
                state TEXT NOT NULL,
                provider TEXT,
                attempts INTEGER NOT NULL,
                vendor_call_id TEXT,
                status TEXT,
                error TEXT,
                started_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                digits TEXT
                """,
                indexes: [
                    "CREATE INDEX calls_call_id ON calls (call_id)",
                    "CREATE INDEX calls_vendor ON calls (provider, vendor_call_id)",
                    "CREATE INDEX calls_phone ON calls (phone, started_at)",
                    "CREATE INDEX calls_step ON calls (step_id)",
                    "CREATE INDEX calls_incident ON calls (incident_id)",
                ]
            )
            + rebuild(
                "events",
                """
                id INTEGER PRIMARY KEY,
                incident_id INTEGER NOT NULL REFERENCES incidents (id),
                at INTEGER NOT NULL,
                kind TEXT NOT NULL,
                actor TEXT NOT NULL,
                detail TEXT NOT NULL,
                call_id TEXT
                """,
                indexes: ["CREATE INDEX events_incident ON events (incident_id, id)"]
            ),
        // 5: the storm guard's index holds only the incidents of routes that had a guard when
        // they opened. Indexing every incident by route cost each new incident an index entry
        // and every commit two or three more pages, for a count that only guarded routes make.
        // Incidents from before keep counting, as they did.
        [
            "ALTER TABLE incidents ADD COLUMN storm_guarded INTEGER NOT NULL DEFAULT 0",
            "UPDATE incidents SET storm_guarded = 1",
            "DROP INDEX incidents_route_opened",
            "CREATE INDEX incidents_storm_guarded ON incidents (route, opened_at) WHERE storm_guarded = 1",
        ],
        // 6: unresolved incidents are found by key in memory (`ActiveIncidentKeys`): the index
        // on the key cost each new incident an insert at a random place. The reopen window
        // still reads resolved incidents by key, from an index that holds only them.
        [
            "DROP INDEX incidents_key",
            "CREATE INDEX incidents_resolved_key ON incidents (key, resolved_at) WHERE resolved_at IS NOT NULL",
        ],
        // 7: when a storm incident last took in a new alert (NULL: when it opened). A storm
        // lasts while new alerts come; `last_seen`, moved by repeats and recoveries too, kept
        // it going while its members fired. Storms from before keep their `last_seen`.
        [
            "ALTER TABLE incidents ADD COLUMN storm_joined_at INTEGER",
            "UPDATE incidents SET storm_joined_at = last_seen WHERE storm = 1",
        ],
    ]

    /// The statements that replace `table` by a copy with a new definition (one column a
    /// line, its name first) and the same rows and ids (SQLite's way to change what
    /// `ALTER TABLE` cannot), then its indexes. The columns copied are read from the
    /// definition, so none can be left out of the copy.
    private static func rebuild(_ table: String, _ definition: String, indexes: [String]) -> [String] {
        let columns = definition.split(separator: "\n").compactMap { $0.split(separator: " ").first }.joined(separator: ", ")
        return [
            "CREATE TABLE \(table)_rebuilt (\(definition))",
            "INSERT INTO \(table)_rebuilt (\(columns)) SELECT \(columns) FROM \(table)",
            "DROP TABLE \(table)",
            "ALTER TABLE \(table)_rebuilt RENAME TO \(table)",
        ] + indexes
    }

    public static var version: Int { migrations.count }
}
