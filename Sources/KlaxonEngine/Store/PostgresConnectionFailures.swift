import Logging
import Synchronization

/// The last reason the PostgreSQL pool could not make a connection. The pool keeps trying
/// and only logs why each attempt failed; a store operation that gave up waiting tells the
/// sender (and the log) this reason instead of only that it waited.
final class PostgresConnectionFailures: Sendable {
    private let last = Mutex<String?>(nil)

    var lastFailure: String? { last.withLock { $0 } }

    /// `logger` as the pool's background logger: its lines pass through unchanged, at
    /// `logger`'s level. The pool says "Connection established" at debug level, which must
    /// reach this whatever that level is: otherwise a failure long past would be given as
    /// the reason for every later wait.
    func recording(_ logger: Logger) -> Logger {
        var recorded = Logger(label: logger.label) { _ in Handler(forward: logger, failures: self) }
        recorded.logLevel = min(logger.logLevel, .debug)
        return recorded
    }

    fileprivate func record(_ message: Logger.Message, _ metadata: Logger.Metadata?) {
        switch message.description {
        case "Connection creation failed":
            // PostgresNIO's key for the error; the text names the server and the cause, never the password.
            if let error = metadata?["psql_error"] { last.withLock { $0 = "\(error)" } }
        case "Connection established":
            last.withLock { $0 = nil }
        default:
            break
        }
    }

    private struct Handler: LogHandler {
        let forward: Logger
        let failures: PostgresConnectionFailures
        var metadata: Logger.Metadata = [:]
        /// What reaches this handler; `forward` drops what is below its own level.
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            failures.record(event.message, event.metadata)
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            forward.log(
                level: event.level,
                event.message,
                metadata: merged,
                source: event.source,
                file: event.file,
                function: event.function,
                line: event.line
            )
        }
    }
}
