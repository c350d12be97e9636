import Logging
import PostgresNIO

/// A leased connection with the deadline its statements are answered within.
///
/// A server that stops answering (a frozen host, a failover that leaves the connection
/// open, a network that drops packets without a reset) would otherwise hold a statement,
/// and the write lock's queue behind it, until TCP gives up: some fifteen minutes. Past
/// the deadline the connection is closed, which fails the statement; the operation fails
/// as a store outage (a 503, a step tried again) and the pool connects anew.
struct PostgresSession: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    /// Nil for no deadline: the schema migrations, which may rebuild large tables.
    let answerTimeout: Duration?

    /// Runs one statement and reads all its rows, so that its error, if any, is thrown
    /// here. `extraWait` lengthens the deadline for a statement that may wait that long
    /// on purpose (for the write lock).
    @discardableResult
    func execute(_ sql: String, _ binds: [PostgresBind] = [], extraWait: Duration = .zero) async throws -> [PostgresRandomAccessRow] {
        // PostgresNIO 1.33 writes a query to a closed channel without a promise, so the query
        // would wait for good on a connection the server has ended (an idle-in-transaction
        // timeout, a restart): fail it here instead.
        guard !connection.isClosed else { throw StoreError("store unavailable: the connection to PostgreSQL was closed") }
        let query = PostgresQuery(unsafeSQL: sql, binds: PostgresBindings(binds))
        let (connection, logger) = (self.connection, self.logger)
        do {
            guard let answerTimeout else { return try await Self.rows(of: query, on: connection, logger: logger) }
            let deadline = answerTimeout + extraWait
            return try await withThrowingTaskGroup(of: [PostgresRandomAccessRow]?.self) { group in
                group.addTask { try await Self.rows(of: query, on: connection, logger: logger) }
                group.addTask {
                    try await Task.sleep(for: deadline)
                    return nil
                }
                if let rows = try await group.next()! {
                    group.cancelAll()
                    return rows
                }
                // Closing fails the statement, and the group's wait for it ends.
                connection.close().whenComplete { _ in }
                logger.warning(
                    "PostgreSQL did not answer a statement in time; its connection is closed",
                    metadata: ["deadline": "\(deadline)"]
                )
                throw StoreError("store unavailable: PostgreSQL did not answer within \(deadline); its connection was closed")
            }
        } catch let error as PSQLError {
            throw StoreError(PostgresIncidentStore.describe(error))
        }
    }

    private static func rows(of query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws -> [PostgresRandomAccessRow] {
        try await connection.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
    }
}
