/// The wire formats klaxon ingests.
public enum PayloadFormat: String, Sendable, Hashable, CaseIterable {
    /// An Alertmanager (or Grafana unified alerting) webhook notification.
    case alertmanager
    /// Any other JSON: the canonical generic shape or a payload for a field mapping.
    case json
    /// An RFC 5322 message.
    case email

    /// Guesses the format of a payload whose sender did not say (`klaxon route FILE`).
    ///
    /// - JSON whose top level is an object with `receiver` and `alerts` and either `version`
    ///   or `groupKey` → ``alertmanager``;
    /// - other input starting with `{` or `[` → ``json`` (even when it is not valid JSON, so
    ///   the JSON adapter reports where it breaks);
    /// - input whose first line is an RFC 5322 header field (`Name: value`, or an mbox
    ///   `From ` line) → ``email``;
    /// - anything else → ``json``.
    public static func detect(_ bytes: [UInt8]) -> PayloadFormat {
        var start = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { start = 3 }
        while start < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start]) { start += 1 }
        guard start < bytes.count else { return .json }
        switch bytes[start] {
        case UInt8(ascii: "{"):
            guard case .object(let object) = try? JSONParser.parse(bytes) else { return .json }
            if object["receiver"] != nil, object["alerts"] != nil, object["version"] != nil || object["groupKey"] != nil {
                return .alertmanager
            }
            return .json
        case UInt8(ascii: "["):
            return .json
        default:
            return startsWithHeaderField(bytes) ? .email : .json
        }
    }

    /// Whether the first line is `field-name ":"` with a field name of printable ASCII other
    /// than `:` (RFC 5322 section 3.6.8), or an mbox `From ` separator line.
    private static func startsWithHeaderField(_ bytes: [UInt8]) -> Bool {
        if bytes.starts(with: Array("From ".utf8)) { return true }
        var index = 0
        while index < bytes.count, index < 1000 {
            let byte = bytes[index]
            if byte == UInt8(ascii: ":") { return index > 0 }
            guard (33...126).contains(byte) else { return false }
            index += 1
        }
        return false
    }
}
