import Foundation
import Logging
import Synchronization

/// swift-log's `StreamLogHandler` line format on standard error, at a lower cost per
/// request: metadata is rendered when a line is written rather than each time it is set
/// (Hummingbird sets a request id on every request's logger), the timestamp is formatted
/// at most once a second, and lines go out through a ``LogLineWriter``, whole and in
/// order, without the logging task waiting for the disk.
public struct StandardErrorLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadataProvider: Logger.MetadataProvider?
    /// The logger's metadata. Hummingbird sets one key, its request id, on every request's
    /// logger: the first key is kept inline, so that costs no dictionary. A key is in one of
    /// the two, never both.
    private var firstMetadata: (key: String, value: Logger.MetadataValue)?
    private var moreMetadata: Logger.Metadata = [:]
    private let label: String
    private let writer: LogLineWriter

    public init(
        label: String,
        level: Logger.Level,
        metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider,
        writer: LogLineWriter = .standardError
    ) {
        self.label = label
        self.writer = writer
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    public var metadata: Logger.Metadata {
        get {
            guard let first = firstMetadata else { return moreMetadata }
            var all = moreMetadata
            all[first.key] = first.value
            return all
        }
        set {
            firstMetadata = nil
            moreMetadata = newValue
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { firstMetadata?.key == key ? firstMetadata?.value : moreMetadata[key] }
        set {
            if firstMetadata?.key == key {
                firstMetadata = newValue.map { (key, $0) }
            } else if firstMetadata == nil, moreMetadata.isEmpty, let newValue {
                firstMetadata = (key, newValue)
            } else {
                moreMetadata[key] = newValue
            }
        }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty {
            merged.merge(provided) { _, provided in provided }
        }
        if let explicit = event.metadata, !explicit.isEmpty {
            // Most lines carry only their own metadata ("incident opened" for every new
            // incident): taken as it is, without building a merged dictionary.
            if merged.isEmpty { merged = explicit } else { merged.merge(explicit) { _, explicit in explicit } }
        }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        // Appended piece by piece: interpolating the level goes through reflection, and
        // each interpolation builds a string of its own.
        let message = event.message.description
        var line = Self.timestamp()
        line.reserveCapacity(line.utf8.count + label.utf8.count + message.utf8.count + 64)
        line += " "
        line += event.level.rawValue
        line += " "
        line += label
        line += ":"
        if merged.count == 1, let (key, value) = merged.first {
            line += " "
            line += key
            line += "="
            line += value.description
        } else if !merged.isEmpty {
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
                line += " "
                line += key
                line += "="
                line += value.description
            }
        }
        line += " ["
        line += event.source
        line += "] "
        line += message
        line += "\n"
        writer.write(line)
    }

    /// localtime_r, unlike localtime, does not read the zone itself.
    private static let zone: Void = tzset()
    private static let lastTimestamp = Mutex<(second: time_t, text: String)>((-1, ""))

    /// Local time as `StreamLogHandler` writes it: `2026-11-23T01:20:34+0000`.
    private static func timestamp() -> String {
        _ = zone
        var now = time(nil)
        if let cached = lastTimestamp.withLock({ $0.second == now ? $0.text : nil }) { return cached }
        var local = tm()
        localtime_r(&now, &local)
        var buffer = [CChar](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        let text = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        lastTimestamp.withLock { $0 = (now, text) }
        return text
    }
}
