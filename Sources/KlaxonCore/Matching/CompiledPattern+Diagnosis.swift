extension CompiledPattern {
    /// Why ICU rejected `pattern`, in the words Go's regexp uses where it can tell.
    ///
    /// NSRegularExpression on Linux reports only "the value is invalid", so this scans the
    /// pattern for the usual mistakes; it runs only after compilation failed.
    static func diagnose(_ pattern: String) -> String {
        let scalars = Array(pattern.unicodeScalars)
        var index = 0
        var depth = 0
        // Whether the previous item can take a repetition operator, and whether it has one.
        var hasOperand = false
        var isRepeated = false

        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "\\":
                if index + 1 == scalars.count { return "trailing backslash at end of expression" }
                index += 1
                hasOperand = true
                isRepeated = false
            case "[":
                guard let end = classEnd(scalars, openingAt: index) else { return "missing closing ]" }
                index = end
                hasOperand = true
                isRepeated = false
            case "(":
                if scalars[index...].starts(with: "(?P<".unicodeScalars) {
                    return "write named groups as (?<name>…), not (?P<name>…)"
                }
                // `(?` starts a group with flags or a name; the `?` is not a repetition.
                if index + 1 < scalars.count, scalars[index + 1] == "?" { index += 1 }
                depth += 1
                hasOperand = false
                isRepeated = false
            case ")":
                if depth == 0 { return "unexpected )" }
                depth -= 1
                hasOperand = true
                isRepeated = false
            case "|":
                hasOperand = false
                isRepeated = false
            case "*", "+", "?", "{":
                var text = String(scalar)
                if scalar == "{" {
                    guard let (end, lower, upper) = interval(scalars, openingAt: index) else {
                        hasOperand = true  // a literal brace
                        isRepeated = false
                        break
                    }
                    text = String(String.UnicodeScalarView(scalars[index...end]))
                    if let upper, upper < lower { return "invalid repeat count \(text)" }
                    index = end
                }
                if isRepeated {
                    // A lazy marker after a repetition is fine; another repetition is not.
                    if scalar == "?" {
                        isRepeated = false
                        break
                    }
                    return "invalid nested repetition operator \(text)"
                }
                if !hasOperand { return "missing argument to repetition operator \(text)" }
                isRepeated = true
            default:
                hasOperand = true
                isRepeated = false
            }
            index += 1
        }
        if depth > 0 { return "missing closing )" }
        return "invalid or unsupported syntax"
    }

    /// The index of the `]` closing the class that opens at `start`, or nil.
    private static func classEnd(_ scalars: [Unicode.Scalar], openingAt start: Int) -> Int? {
        var index = start + 1
        if index < scalars.count, scalars[index] == "^" { index += 1 }
        // A `]` right after `[` or `[^` is a literal member.
        if index < scalars.count, scalars[index] == "]" { index += 1 }
        while index < scalars.count {
            switch scalars[index] {
            case "\\":
                index += 1
            case "[" where index + 1 < scalars.count && scalars[index + 1] == ":":
                // A POSIX class such as [:alpha:].
                var end = index + 2
                while end + 1 < scalars.count, !(scalars[end] == ":" && scalars[end + 1] == "]") { end += 1 }
                if end + 1 < scalars.count { index = end + 1 }
            case "]":
                return index
            default:
                break
            }
            index += 1
        }
        return nil
    }

    /// For `{n}`, `{n,}` or `{n,m}` at `start`: the index of `}` and the bounds; else nil.
    private static func interval(_ scalars: [Unicode.Scalar], openingAt start: Int) -> (Int, Int, Int?)? {
        var index = start + 1
        func number() -> Int? {
            var value: Int?
            while index < scalars.count, ("0"..."9").contains(scalars[index]) {
                value = (value ?? 0) &* 10 &+ Int(scalars[index].value - 48)
                index += 1
            }
            return value
        }
        guard let lower = number() else { return nil }
        var upper: Int? = lower
        if index < scalars.count, scalars[index] == "," {
            index += 1
            upper = number()
        }
        guard index < scalars.count, scalars[index] == "}" else { return nil }
        return (index, lower, upper)
    }
}
