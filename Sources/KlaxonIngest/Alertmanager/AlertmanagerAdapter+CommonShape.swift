import Foundation
import KlaxonCore

extension AlertmanagerAdapter {
    /// The payload of a body in the shape Alertmanager itself sends, read in one pass
    /// without building the generic JSON tree (that tree was 18 % of a 100-alert webhook's
    /// CPU). Nil for anything else: Grafana's fields, `null`s, numbers where strings are
    /// expected, a repeated key, an unknown key, any error. The tree decoder then decides,
    /// and it alone words the errors: whatever this reader accepts, the tree decoder accepts
    /// with the same result, and the tests compare the two.
    static func decodeCommonShape(_ bytes: [UInt8]) -> AlertmanagerPayload? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = CommonShapeReader(scanner: JSONScanner(buffer, maxDepth: JSONParser.defaultMaxDepth))
            return reader.payload()
        }
    }
}

private struct CommonShapeReader {
    var scanner: JSONScanner

    /// The fields read alike, by key.
    private static let payloadTexts: [String: WritableKeyPath<AlertmanagerPayload, String?> & Sendable] = [
        "version": \.version, "groupKey": \.groupKey, "receiver": \.receiver, "externalURL": \.externalURL,
    ]
    private static let payloadLabels: [String: WritableKeyPath<AlertmanagerPayload, LabelSet> & Sendable] = [
        "groupLabels": \.groupLabels, "commonLabels": \.commonLabels, "commonAnnotations": \.commonAnnotations,
    ]
    private static let alertTimes: [String: WritableKeyPath<AlertmanagerAlert, Date?> & Sendable] = [
        "startsAt": \.startsAt, "endsAt": \.endsAt,
    ]

    mutating func payload() -> AlertmanagerPayload? {
        guard scanner.consume(UInt8(ascii: "{")) else { return nil }
        var payload = AlertmanagerPayload(version: nil)
        var seen = SeenKeys()
        repeat {
            guard let key = string(), seen.insert(key), scanner.consume(UInt8(ascii: ":")) else { return nil }
            if let field = Self.payloadTexts[key] {
                guard let text = string() else { return nil }
                payload[keyPath: field] = text
            } else if let field = Self.payloadLabels[key] {
                guard let labels = labels() else { return nil }
                payload[keyPath: field] = labels
            } else if key == "status" {
                guard let status = status() else { return nil }
                payload.status = status
            } else if key == "truncatedAlerts" {
                guard case .number(let number, _)? = try? scanner.parseValue(), let truncated = Int(exactly: number) else { return nil }
                payload.truncatedAlerts = truncated
            } else if key == "alerts" {
                guard scanner.consume(UInt8(ascii: "[")) else { return nil }
                if !scanner.consume(UInt8(ascii: "]")) {
                    repeat {
                        guard let alert = alert() else { return nil }
                        payload.alerts.append(alert)
                    } while scanner.consume(UInt8(ascii: ","))
                    guard scanner.consume(UInt8(ascii: "]")) else { return nil }
                }
            } else {
                return nil
            }
        } while scanner.consume(UInt8(ascii: ","))
        guard scanner.consume(UInt8(ascii: "}")), scanner.isAtEnd(), seen.contains("alerts"), payload.isKnownVersion else { return nil }
        return payload
    }

    private mutating func alert() -> AlertmanagerAlert? {
        guard scanner.consume(UInt8(ascii: "{")) else { return nil }
        var alert = AlertmanagerAlert(status: .firing, labels: [:])
        var seen = SeenKeys()
        repeat {
            guard let key = string(), seen.insert(key), scanner.consume(UInt8(ascii: ":")) else { return nil }
            if let field = Self.alertTimes[key] {
                guard let text = string(), let date = RFC3339.parse(text) else { return nil }
                alert[keyPath: field] = RFC3339.isZeroTime(date) ? nil : date
                continue
            }
            switch key {
            case "status":
                guard let status = status() else { return nil }
                alert.status = status
            case "labels":
                guard let labels = labels(), !labels.isEmpty else { return nil }
                alert.labels = labels
            case "annotations":
                guard let annotations = labels() else { return nil }
                alert.annotations = annotations
            case "generatorURL":
                guard let url = string() else { return nil }
                alert.generatorURL = url
            case "fingerprint":
                guard let fingerprint = string() else { return nil }
                alert.fingerprint = fingerprint.isEmpty ? nil : fingerprint
            default:
                return nil
            }
        } while scanner.consume(UInt8(ascii: ","))
        guard scanner.consume(UInt8(ascii: "}")), seen.contains("status"), seen.contains("labels") else { return nil }
        return alert
    }

    private mutating func status() -> AlertStatus? {
        string().flatMap(AlertStatus.init(rawValue:))
    }

    /// An object whose values are all strings, the last of a repeated name winning.
    private mutating func labels() -> LabelSet? {
        guard scanner.consume(UInt8(ascii: "{")) else { return nil }
        var labels = [String: String](minimumCapacity: 16)
        if scanner.consume(UInt8(ascii: "}")) { return LabelSet(labels) }
        repeat {
            guard let name = string(), scanner.consume(UInt8(ascii: ":")), let value = string() else { return nil }
            labels[name] = value
        } while scanner.consume(UInt8(ascii: ","))
        guard scanner.consume(UInt8(ascii: "}")) else { return nil }
        return LabelSet(labels)
    }

    /// The string that comes next, or nil when something else does.
    private mutating func string() -> String? {
        guard scanner.peek() == UInt8(ascii: "\"") else { return nil }
        return try? scanner.parseString()
    }
}

/// The known keys an object has shown so far, as bits: a `Set<String>` per object cost a
/// fifth of the reader's time. Any other key makes the reader give up anyway.
private struct SeenKeys {
    private static let known = [
        "version", "groupKey", "receiver", "externalURL", "status", "groupLabels", "commonLabels", "commonAnnotations",
        "truncatedAlerts", "alerts", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint",
    ]
    private var bits: UInt32 = 0

    /// False when `key` came before; an unknown key is let through for the caller to refuse.
    mutating func insert(_ key: String) -> Bool {
        guard let index = Self.known.firstIndex(of: key) else { return true }
        let bit = UInt32(1) << index
        defer { bits |= bit }
        return bits & bit == 0
    }

    func contains(_ key: String) -> Bool {
        guard let index = Self.known.firstIndex(of: key) else { return false }
        return bits & (UInt32(1) << index) != 0
    }
}
