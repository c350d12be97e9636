/// `key: value` (or `key = value`) lines of a body, as Zabbix, Nagios, cron jobs and
/// Alertmanager's text template write them.
///
/// A line counts when, after trimming and an optional list bullet (`-`, `*`, `•`), it has a key
/// of 1–64 characters (letters, digits, spaces, `_`, `-`, `.`, starting with a letter) before
/// the first `:` or `=`, and a non-empty value after it. Keys are normalized into label names by
/// ``normalize(_:)`` (`Original problem ID` → `original_problem_id`). A value starting with `//`
/// is a URL (`https://…`), not a field. The first occurrence of a key wins; only the first
/// ``maxLines`` lines are read.
enum BodyFields {
    static let maxLines = 2000

    static func read(_ text: String) -> [(key: String, value: String)] {
        var result: [(key: String, value: String)] = []
        var seen: Set<String> = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            guard number < maxLines else { break }
            var content = Substring(line.trimmingWhitespace())
            if let first = content.first, first == "-" || first == "*" || first == "•", content.dropFirst().first == " " {
                content = content.dropFirst(2)
            }
            guard let separator = content.firstIndex(where: { $0 == ":" || $0 == "=" || $0 == "：" }) else { continue }
            let rawKey = content[..<separator].trimmingWhitespace()
            let value = content[content.index(after: separator)...].trimmingWhitespace()
            guard !value.isEmpty, !value.hasPrefix("//"), isKey(rawKey) else { continue }
            let key = normalize(rawKey)
            guard !key.isEmpty, seen.insert(key).inserted else { continue }
            result.append((key, value))
        }
        return result
    }

    private static func isKey(_ key: String) -> Bool {
        guard (1...64).contains(key.count), key.first?.isLetter == true else { return false }
        for character in key {
            let allowed: Bool =
                character.isLetter || character.isNumber || character == " " || character == "_" || character == "-" || character == "."
            if !allowed { return false }
        }
        return true
    }

    /// A key as a label name: lower-cased ASCII letters and digits, every other run of characters
    /// replaced by one `_`, no `_` at either end (`Trigger Severity` → `trigger_severity`). Keys
    /// with non-ASCII letters keep only their ASCII parts; a key with none gives "".
    static func normalize(_ key: String) -> String {
        var out = ""
        var pendingUnderscore = false
        for scalar in key.unicodeScalars {
            let isWord = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
            if isWord {
                if pendingUnderscore, !out.isEmpty { out.append("_") }
                pendingUnderscore = false
                out.unicodeScalars.append(("A"..."Z").contains(scalar) ? Unicode.Scalar(scalar.value + 32)! : scalar)
            } else {
                pendingUnderscore = true
            }
        }
        if let first = out.unicodeScalars.first, ("0"..."9").contains(first) { out = "_" + out }
        return out
    }
}
