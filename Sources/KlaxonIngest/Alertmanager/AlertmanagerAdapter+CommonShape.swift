import Foundation
import KlaxonCore

extension AlertmanagerAdapter {
    /// The payload of a body in the shape Alertmanager itself sends, read in one pass
    /// without building the generic JSON tree (that tree was 18 % of a 100-alert webhook's
    /// CPU). Nil for anything else: Grafana's fields, `null`s, numbers where strings are
    /// expected, a repeated key, an unknown key, a key with an escape, any error. The tree
    /// decoder then decides, and it alone words the errors: whatever this reader accepts,
    /// the tree decoder accepts with the same result, and the tests compare the two.
    ///
    /// Without `groupFields`, `groupLabels`, `commonLabels` and `commonAnnotations` are
    /// checked but left empty: the alerts do not carry them, and building them was half of a
    /// one-alert body's decoding.
    static func decodeCommonShape(_ bytes: [UInt8], groupFields: Bool = true) -> AlertmanagerPayload? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = CommonShapeReader(scanner: JSONScanner(buffer, maxDepth: JSONParser.defaultMaxDepth), groupFields: groupFields)
            return reader.payload()
        }
    }
}

private struct CommonShapeReader {
    var scanner: JSONScanner
    let groupFields: Bool

    mutating func payload() -> AlertmanagerPayload? {
        guard scanner.consume(UInt8(ascii: "{")) else { return nil }
        var payload = AlertmanagerPayload(version: nil)
        var seen = SeenKeys()
        repeat {
            guard let key = key(), seen.insert(key), scanner.consume(UInt8(ascii: ":")) else { return nil }
            switch key {
            case .version, .groupKey, .receiver, .externalURL:
                guard let text = string() else { return nil }
                switch key {
                case .version: payload.version = text
                case .groupKey: payload.groupKey = text
                case .receiver: payload.receiver = text
                default: payload.externalURL = text
                }
            case .groupLabels, .commonLabels, .commonAnnotations:
                guard groupFields else {
                    guard skipLabels() else { return nil }
                    continue
                }
                guard let labels = labels() else { return nil }
                switch key {
                case .groupLabels: payload.groupLabels = labels
                case .commonLabels: payload.commonLabels = labels
                default: payload.commonAnnotations = labels
                }
            case .status:
                guard let status = status() else { return nil }
                payload.status = status
            case .truncatedAlerts:
                guard case .number(let number, _)? = try? scanner.parseValue(), let truncated = Int(exactly: number) else { return nil }
                payload.truncatedAlerts = truncated
            case .alerts:
                guard scanner.consume(UInt8(ascii: "[")) else { return nil }
                if !scanner.consume(UInt8(ascii: "]")) {
                    repeat {
                        guard let alert = alert() else { return nil }
                        payload.alerts.append(alert)
                    } while scanner.consume(UInt8(ascii: ","))
                    guard scanner.consume(UInt8(ascii: "]")) else { return nil }
                }
            default:
                return nil
            }
        } while scanner.consume(UInt8(ascii: ","))
        guard scanner.consume(UInt8(ascii: "}")), scanner.isAtEnd(), seen.contains(.alerts), payload.isKnownVersion else { return nil }
        return payload
    }

    private mutating func alert() -> AlertmanagerAlert? {
        guard scanner.consume(UInt8(ascii: "{")) else { return nil }
        var alert = AlertmanagerAlert(status: .firing, labels: [:])
        var seen = SeenKeys()
        repeat {
            guard let key = key(), seen.insert(key), scanner.consume(UInt8(ascii: ":")) else { return nil }
            switch key {
            case .status:
                guard let status = status() else { return nil }
                alert.status = status
            case .labels:
                guard let labels = labels(), !labels.isEmpty else { return nil }
                alert.labels = labels
            case .annotations:
                guard let annotations = labels() else { return nil }
                alert.annotations = annotations
            case .startsAt, .endsAt:
                guard let text = string(), let date = RFC3339.parse(text) else { return nil }
                let time = RFC3339.isZeroTime(date) ? nil : date
                if key == .startsAt { alert.startsAt = time } else { alert.endsAt = time }
            case .generatorURL:
                guard let url = string() else { return nil }
                alert.generatorURL = url
            case .fingerprint:
                guard let fingerprint = string() else { return nil }
                alert.fingerprint = fingerprint.isEmpty ? nil : fingerprint
            default:
                return nil
            }
        } while scanner.consume(UInt8(ascii: ","))
        guard scanner.consume(UInt8(ascii: "}")), seen.contains(.status), seen.contains(.labels) else { return nil }
        return alert
    }

    private mutating func status() -> AlertStatus? {
        string().flatMap(AlertStatus.init(rawValue:))
    }

    /// An object whose values are all strings, the last of a repeated name winning. When
    /// the text is exactly what ``LabelSet/json`` writes (as Go writes a string map: names
    /// sorted, no whitespace, its own escapes), the set keeps it for the store.
    private mutating func labels() -> LabelSet? {
        guard scanner.peek() == UInt8(ascii: "{") else { return nil }
        let start = scanner.position
        _ = scanner.consume(UInt8(ascii: "{"))
        var labels = [String: String](minimumCapacity: 16)
        // The length of the text in that form, and whether it still may be in it.
        var length = 2
        var canonical = true
        var previous = ""
        if !scanner.consume(UInt8(ascii: "}")) {
            repeat {
                guard let name = labelString(), scanner.consume(UInt8(ascii: ":")), let value = labelString() else { return nil }
                if canonical {
                    canonical = name.canonical && value.canonical && (labels.isEmpty || previous < name.text)
                    length += name.length + value.length + (labels.isEmpty ? 1 : 2)
                    previous = name.text
                }
                labels[name.text] = value.text
            } while scanner.consume(UInt8(ascii: ","))
            guard scanner.consume(UInt8(ascii: "}")) else { return nil }
        }
        // Every string in that form, names increasing, and nothing else in between.
        let end = scanner.position
        guard canonical, end - start == length else { return LabelSet(labels) }
        return LabelSet(labels, json: String(decoding: scanner.bytes(start..<end), as: UTF8.self))
    }

    /// The string that comes next; its length as written, quotes included; and whether it
    /// is written as ``JSONStringLiteral`` writes it escaping HTML.
    private mutating func labelString() -> (text: String, length: Int, canonical: Bool)? {
        guard scanner.peek() == UInt8(ascii: "\"") else { return nil }
        let start = scanner.position
        var escaped = false
        guard let text = try? scanner.parseString(escaped: &escaped) else { return nil }
        let raw = scanner.bytes(start..<scanner.position)
        if !escaped {
            return (text, raw.count, !scanner.stringHeldWhatGoEscapes)
        }
        var written: [UInt8] = []
        written.reserveCapacity(raw.count)
        JSONStringLiteral.append(text, to: &written, escapingHTML: true)
        return (text, raw.count, written.withUnsafeBufferPointer { $0.elementsEqual(raw) })
    }

    /// What ``labels()`` accepts, without building it.
    private mutating func skipLabels() -> Bool {
        guard scanner.consume(UInt8(ascii: "{")) else { return false }
        if scanner.consume(UInt8(ascii: "}")) { return true }
        repeat {
            guard skipString(), scanner.consume(UInt8(ascii: ":")), skipString() else { return false }
        } while scanner.consume(UInt8(ascii: ","))
        return scanner.consume(UInt8(ascii: "}"))
    }

    /// The string that comes next, or nil when something else does.
    private mutating func string() -> String? {
        guard scanner.peek() == UInt8(ascii: "\"") else { return nil }
        return try? scanner.parseString()
    }

    /// Steps over the string that comes next; false when something else does.
    private mutating func skipString() -> Bool {
        guard scanner.peek() == UInt8(ascii: "\"") else { return false }
        do {
            if try scanner.plainString() == nil { _ = try scanner.parseString() }
            return true
        } catch {
            return false
        }
    }

    /// The key that comes next, read from its bytes without making a `String`; nil for a key
    /// this reader does not know or one written with an escape.
    private mutating func key() -> Key? {
        guard scanner.peek() == UInt8(ascii: "\""), let bytes = try? scanner.plainString() else { return nil }
        return Key(bytes)
    }
}

/// The keys of Alertmanager's payload and of its alerts.
private enum Key: Int, CaseIterable {
    case version, groupKey, receiver, externalURL, status, groupLabels, commonLabels, commonAnnotations, truncatedAlerts, alerts
    case labels, annotations, startsAt, endsAt, generatorURL, fingerprint

    /// Each case's name as it is written in JSON (a case prints as its name).
    private static let names: [[UInt8]] = allCases.map { Array(String(describing: $0).utf8) }

    init?(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let index = Self.names.firstIndex(where: { $0.count == bytes.count && $0.elementsEqual(bytes) }) else { return nil }
        self.init(rawValue: index)
    }
}

/// The keys an object has shown so far, as bits: a `Set<String>` per object cost a fifth
/// of the reader's time.
private struct SeenKeys {
    private var bits: UInt32 = 0

    /// False when `key` came before.
    mutating func insert(_ key: Key) -> Bool {
        let bit = UInt32(1) << key.rawValue
        defer { bits |= bit }
        return bits & bit == 0
    }

    func contains(_ key: Key) -> Bool {
        bits & (UInt32(1) << key.rawValue) != 0
    }
}
