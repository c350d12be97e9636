/// Reads the text of a ``FieldPath``: a JSON pointer or a dotted path, optionally rooted with `$`.
struct FieldPathParser {
    private let text: String
    private let characters: [Character]
    private var index = 0

    init(_ text: String) {
        self.text = text
        self.characters = Array(text)
    }

    mutating func parse() throws(IngestError) -> FieldPath {
        guard !characters.isEmpty else { throw error("the path is empty", at: 0) }
        var isRooted = false
        if characters[0] == "$" {
            isRooted = true
            index = 1
            if index == characters.count { return FieldPath([], isRooted: true) }
        }
        if characters[index] == "/" {
            return FieldPath(try parsePointer(), isRooted: isRooted)
        }
        return FieldPath(try parseDotted(afterRoot: isRooted), isRooted: isRooted)
    }

    /// RFC 6901: `/token/token`, `~0` is `~`, `~1` is `/`.
    private mutating func parsePointer() throws(IngestError) -> [FieldPath.Component] {
        var components: [FieldPath.Component] = []
        while index < characters.count {
            index += 1  // the slash
            var token = ""
            while index < characters.count, characters[index] != "/" {
                if characters[index] == "~" {
                    guard index + 1 < characters.count, characters[index + 1] == "0" || characters[index + 1] == "1" else {
                        throw error("'~' must be followed by '0' or '1' in a JSON pointer", at: index)
                    }
                    token.append(characters[index + 1] == "0" ? "~" : "/")
                    index += 2
                } else {
                    token.append(characters[index])
                    index += 1
                }
            }
            components.append(.key(token))
        }
        return components
    }

    /// `a.b[0]["c.d"]`; after a `$` the first step needs its `.` or `[`.
    private mutating func parseDotted(afterRoot: Bool) throws(IngestError) -> [FieldPath.Component] {
        var components: [FieldPath.Component] = []
        var expectKey = !afterRoot
        while index < characters.count {
            let character = characters[index]
            if character == "[" {
                components.append(try parseBracket())
                expectKey = false
            } else if expectKey {
                components.append(.key(try parseBareKey()))
                expectKey = false
            } else if character == "." {
                index += 1
                guard index < characters.count else { throw error("expected a key after '.'", at: index) }
                guard characters[index] != "[", characters[index] != "." else {
                    throw error("empty key", at: index)
                }
                expectKey = true
            } else {
                throw error("unexpected '\(character)', expected '.' or '['", at: index)
            }
        }
        return components
    }

    private mutating func parseBareKey() throws(IngestError) -> String {
        let start = index
        var key = ""
        while index < characters.count, characters[index] != ".", characters[index] != "[" {
            if characters[index] == "]" {
                throw error("unexpected ']'", at: index)
            }
            key.append(characters[index])
            index += 1
        }
        guard !key.isEmpty else { throw error("empty key", at: start) }
        return key
    }

    /// `[12]`, `["key"]` or `['key']`.
    private mutating func parseBracket() throws(IngestError) -> FieldPath.Component {
        let open = index
        index += 1
        guard index < characters.count else { throw error("unterminated '['", at: open) }
        let component: FieldPath.Component
        let first = characters[index]
        if first == "\"" || first == "'" {
            index += 1
            var key = ""
            while true {
                guard index < characters.count else { throw error("unterminated quoted key", at: open + 1) }
                let character = characters[index]
                if character == first {
                    index += 1
                    break
                }
                if character == "\\" {
                    guard index + 1 < characters.count, ["\\", "\"", "'"].contains(characters[index + 1]) else {
                        throw error("invalid escape in quoted key (use \\\\, \\\" or \\')", at: index)
                    }
                    key.append(characters[index + 1])
                    index += 2
                } else {
                    key.append(character)
                    index += 1
                }
            }
            component = .key(key)
        } else if first.isASCII, first.isNumber {
            var digits = ""
            while index < characters.count, characters[index].isASCII, characters[index].isNumber {
                digits.append(characters[index])
                index += 1
            }
            guard digits.count <= 18, let value = Int(digits) else { throw error("index out of range", at: open + 1) }
            component = .index(value)
        } else {
            throw error("expected an index or a quoted key after '['", at: index)
        }
        guard index < characters.count, characters[index] == "]" else {
            throw error("expected ']'", at: index)
        }
        index += 1
        return component
    }

    private func error(_ message: String, at offset: Int) -> IngestError {
        IngestError(code: .invalidFieldPath, message: message, offset: offset, subject: text)
    }
}
