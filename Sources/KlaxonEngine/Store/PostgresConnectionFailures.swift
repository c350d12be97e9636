import Logging
import Synchronization

/// The last reason the PostgreSQL pool could not make a connection. The pool keeps trying
/// and only logs why each attempt failed; a store operation that gave up waiting tells the
/// sender (and the log) this reason instead of only that it waited.
final class PostgresConnectionFailures: Sendable {
    private let last = Mutex<String?>(nil)

    var lastFailure: String? { last.withLock { $0 } }

    /// `logger` as the pool's background logger: its lines pass through unchanged.
    func recording(_ logger: Logger) -> Logger {
        var recorded = Logger(label: logger.label) { _ in Handler(forward: logger, failures: self) }
        recorded.logLevel = logger.logLevel
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
        var forward: Logger
        let failures: PostgresConnectionFailures
        var metadata: Logger.Metadata = [:]

        var logLevel: Logger.Level {
            get { forward.logLevel }
            set { forward.logLevel = newValue }
        }

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
