import Foundation

/// Test inputs: the captured Alertmanager payloads (bundled) and the example payloads under
/// `examples/alerts/` (read from the source tree, so the examples stay valid).
enum Fixtures {
    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    static func payload(_ name: String) throws -> [UInt8] {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
            throw Missing(description: "no fixture \(name).json")
        }
        return Array(try Data(contentsOf: url))
    }

    /// A message of the e-mail corpus under `Fixtures/email/`, by file name with its extension.
    static func email(_ name: String) throws -> [UInt8] {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/email") else {
            throw Missing(description: "no fixture email/\(name)")
        }
        return Array(try Data(contentsOf: url))
    }

    static func example(_ name: String) throws -> [UInt8] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return Array(try Data(contentsOf: root.appendingPathComponent("examples/alerts/\(name)")))
    }

    static func bytes(_ text: String) -> [UInt8] {
        Array(text.utf8)
    }

    /// Seconds since 1970 of a date, for comparisons.
    static func seconds(_ date: Date?) -> Double? {
        date?.timeIntervalSince1970
    }
}
