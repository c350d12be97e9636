/// Addresses and message ids pulled out of raw header values.
enum MailAddress {
    /// The first address of an address list (`"Ops, Team" <ops@example.com>`, `ops@example.com (Ops)`,
    /// a group `Team: a@x, b@y;`), lower-cased; nil when there is none.
    static func first(in value: String) -> String? {
        let scalars = Array(stripComments(value).unicodeScalars)
        // An angle-addr outside quotes wins.
        var inQuote = false
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "\\" {
                index += 2
                continue
            }
            if scalar == "\"" { inQuote.toggle() }
            if !inQuote, scalar == "<" {
                var end = index + 1
                while end < scalars.count, scalars[end] != ">" { end += 1 }
                let inside = String(String.UnicodeScalarView(scalars[(index + 1)..<end])).trimmingWhitespace()
                // Source routes (`<@relay:user@host>`) keep only the address.
                let address = inside.split(separator: ":").last.map(String.init) ?? inside
                return address.contains("@") ? address.lowercased() : nil
            }
            index += 1
        }
        // A bare addr-spec: the first whitespace-, comma- or semicolon-separated token with an @.
        let text = String(String.UnicodeScalarView(scalars))
        for token in text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," || $0 == ";" || $0 == "\"" }) {
            var candidate = Substring(token)
            if let colon = candidate.lastIndex(of: ":") { candidate = candidate[candidate.index(after: colon)...] }
            if candidate.contains("@") { return candidate.lowercased() }
        }
        return nil
    }

    /// The Return-Path address: "" for the null sender `<>`, nil when there is no address at all.
    static func returnPath(_ value: String) -> String? {
        let trimmed = stripComments(value).trimmingWhitespace()
        if trimmed == "<>" || trimmed.isEmpty { return "" }
        return first(in: trimmed)
    }

    /// The message ids of a Message-ID, In-Reply-To or References value, in order, without the
    /// angle brackets. Text outside `<…>` (phrases some mailers add) is ignored; a value with no
    /// brackets at all is split on whitespace.
    static func messageIDs(in value: String) -> [String] {
        var ids: [String] = []
        var rest = Substring(value)
        while let open = rest.firstIndex(of: "<") {
            guard let close = rest[open...].firstIndex(of: ">") else { break }
            let id = String(rest[rest.index(after: open)..<close]).trimmingWhitespace()
            if !id.isEmpty { ids.append(id) }
            rest = rest[rest.index(after: close)...]
        }
        if ids.isEmpty, !value.contains("<") {
            ids = value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }).map(String.init).filter { $0.contains("@") }
        }
        return ids
    }

    /// The value without `(comments)`; quoted strings are left alone.
    static func stripComments(_ value: String) -> String {
        guard value.contains("(") else { return value }
        var out = String.UnicodeScalarView()
        var depth = 0
        var inQuote = false
        var escaped = false
        for scalar in value.unicodeScalars {
            if escaped {
                escaped = false
                if depth == 0 { out.append(scalar) }
                continue
            }
            if scalar == "\\" {
                escaped = true
                if depth == 0 { out.append(scalar) }
                continue
            }
            if depth == 0, scalar == "\"" { inQuote.toggle() }
            if !inQuote, scalar == "(" {
                depth += 1
                continue
            }
            if !inQuote, scalar == ")", depth > 0 {
                depth -= 1
                if depth == 0 { out.append(" ") }
                continue
            }
            if depth == 0 { out.append(scalar) }
        }
        return String(out)
    }
}
