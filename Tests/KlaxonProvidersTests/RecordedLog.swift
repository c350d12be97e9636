import Logging
import Synchronization

/// Every log entry a client wrote, one line of text each (level, message, metadata), so
/// tests can prove secrets never reach the logs and numbers appear masked.
final class RecordedLog: Sendable {
    // Guards the lines; held only to append or copy.
    private let lines = Mutex<[String]>([])

    var entries: [String] { lines.withLock { $0 } }
    var text: String { entries.joined(separator: "\n") }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    /// A logger at trace level writing into this log.
    var logger: Logger { Logger(label: "test", factory: { _ in RecordingLogHandler(log: self) }) }
}

struct RecordingLogHandler: LogHandler {
    let log: RecordedLog
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        log.append("\(event.level) \(event.message) " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
    }
}
