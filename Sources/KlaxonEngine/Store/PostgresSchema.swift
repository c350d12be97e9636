/// The PostgreSQL schema as numbered migrations, the same tables as ``SQLiteSchema`` plus
/// what several instances sharing the database need: who claimed a running step, and
/// which instances are alive. `klaxon_schema` holds the number of migrations applied.
/// Never edit a released migration: append a new one. Times are whole milliseconds since
/// 1970, as in SQLite, so a due time compares exactly.
public enum PostgresSchema {
    static let migrations: [[String]] = [
        // 1: incidents, alerts, storm keys, steps, calls, timeline, instances.
        [
            """
            CREATE TABLE incidents (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                key TEXT NOT NULL,
                route TEXT NOT NULL,
                state TEXT NOT NULL,
                severity TEXT NOT NULL,
                priority BIGINT NOT NULL,
                title TEXT NOT NULL,
                voice TEXT,
                providers TEXT NOT NULL,
                escalation TEXT,
                opened_at BIGINT NOT NULL,
                last_seen BIGINT NOT NULL,
                count BIGINT NOT NULL,
                acked_at BIGINT,
                acked_by TEXT,
                resolved_at BIGINT,
                resolved_by TEXT,
                storm BOOLEAN NOT NULL DEFAULT FALSE
            )
            """,
            "CREATE INDEX incidents_state ON incidents (state, id)",
            "CREATE INDEX incidents_route_opened ON incidents (route, opened_at)",
            "CREATE INDEX incidents_key ON incidents (key, resolved_at)",
            """
            CREATE TABLE alerts (
                incident_id BIGINT NOT NULL REFERENCES incidents (id),
                fingerprint TEXT NOT NULL,
                key TEXT NOT NULL,
                status TEXT NOT NULL,
                labels TEXT NOT NULL,
                annotations TEXT NOT NULL,
                severity TEXT NOT NULL,
                source TEXT NOT NULL,
                starts_at BIGINT,
                ends_at BIGINT,
                first_seen BIGINT NOT NULL,
                last_seen BIGINT NOT NULL,
                PRIMARY KEY (incident_id, fingerprint)
            )
            """,
            """
            CREATE TABLE storm_keys (
                key TEXT NOT NULL,
                incident_id BIGINT NOT NULL REFERENCES incidents (id),
                PRIMARY KEY (key, incident_id)
            )
            """,
            """
            CREATE TABLE steps (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                incident_id BIGINT NOT NULL REFERENCES incidents (id),
                step BIGINT NOT NULL,
                due_at BIGINT NOT NULL,
                state TEXT NOT NULL,
                recipients TEXT NOT NULL,
                claimed_by TEXT
            )
            """,
            "CREATE INDEX steps_due ON steps (state, due_at)",
            "CREATE INDEX steps_incident ON steps (incident_id)",
            """
            CREATE TABLE calls (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                call_id TEXT NOT NULL,
                incident_id BIGINT NOT NULL REFERENCES incidents (id),
                step_id BIGINT NOT NULL REFERENCES steps (id),
                step BIGINT NOT NULL,
                recipient TEXT NOT NULL,
                phone TEXT NOT NULL,
                state TEXT NOT NULL,
                provider TEXT,
                attempts BIGINT NOT NULL,
                vendor_call_id TEXT,
                status TEXT,
                digits TEXT,
                error TEXT,
                started_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX calls_call_id ON calls (call_id)",
            "CREATE INDEX calls_vendor ON calls (provider, vendor_call_id)",
            "CREATE INDEX calls_phone ON calls (phone, started_at)",
            "CREATE INDEX calls_step ON calls (step_id)",
            "CREATE INDEX calls_incident ON calls (incident_id)",
            """
            CREATE TABLE events (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                incident_id BIGINT NOT NULL REFERENCES incidents (id),
                at BIGINT NOT NULL,
                kind TEXT NOT NULL,
                actor TEXT NOT NULL,
                detail TEXT NOT NULL,
                call_id TEXT
            )
            """,
            "CREATE INDEX events_incident ON events (incident_id, id)",
            // Every serving process, and when the database last heard from it (the
            // server's clock, so the instances' own clocks need not agree).
            """
            CREATE TABLE instances (
                id TEXT PRIMARY KEY,
                host TEXT NOT NULL,
                pid BIGINT NOT NULL,
                started_at BIGINT NOT NULL,
                seen_at BIGINT NOT NULL
            )
            """,
        ],
        // 2: the storm guard's index holds only the incidents of routes that had a guard when
        // they opened (as SQLite's schema 5). Incidents from before keep counting: they take
        // the column's first default, kept in the catalog, so no row is rewritten.
        [
            "ALTER TABLE incidents ADD COLUMN storm_guarded BOOLEAN NOT NULL DEFAULT TRUE",
            "ALTER TABLE incidents ALTER COLUMN storm_guarded SET DEFAULT FALSE",
            "DROP INDEX incidents_route_opened",
            "CREATE INDEX incidents_storm_guarded ON incidents (route, opened_at) WHERE storm_guarded",
        ],
        // 3: since when the database has heard from each instance without a gap, so that an
        // instance just back from an outage does not take for dead the ones the outage also
        // silenced; and a goodbye kept as a flag, so a heartbeat already in flight when an
        // instance closes cannot bring its row back. Rows from before count as heard always.
        [
            "ALTER TABLE instances ADD COLUMN heard_since BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE instances ADD COLUMN stopped BOOLEAN NOT NULL DEFAULT FALSE",
        ],
        // 4: when a storm incident last took in a new alert (as SQLite's schema 7).
        [
            "ALTER TABLE incidents ADD COLUMN storm_joined_at BIGINT",
            "UPDATE incidents SET storm_joined_at = last_seen WHERE storm",
        ],
    ]

    public static var version: Int { migrations.count }
}
