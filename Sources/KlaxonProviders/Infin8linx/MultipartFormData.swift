/// A `multipart/form-data` body of text fields (RFC 7578), the way PHP's curl posts an
/// array of fields: one part per field, in the order appended.
///
/// Wire format, every line ending in CRLF:
/// ```
/// --BOUNDARY
/// Content-Disposition: form-data; name="service"
///
/// App.Sip_Call.PlayVoice
/// --BOUNDARY
/// …
/// --BOUNDARY--
/// ```
/// Values go out as their UTF-8 bytes, unchanged. In names, `"`, CR and LF are written
/// `%22`, `%0D` and `%0A` (the HTML standard's escaping); other characters are kept.
/// The boundary must not occur in any value: ``init(fields:)`` draws random boundaries
/// until one does not.
struct MultipartFormData: Sendable, Hashable {
    /// One text field.
    struct Field: Sendable, Hashable {
        var name: String
        var value: String
    }

    /// 1 to 70 characters from RFC 2046's `bchars`, without a trailing space.
    let boundary: String
    private(set) var fields: [Field]

    /// A form with the given boundary (tests use a fixed one).
    init(boundary: String, fields: [Field] = []) {
        self.boundary = boundary
        self.fields = fields
    }

    /// A form with a random boundary that occurs in none of `fields`' values.
    init(fields: [Field] = []) {
        var generator = SystemRandomNumberGenerator()
        self.init(fields: fields, using: &generator)
    }

    /// A form with a boundary drawn from `generator` that occurs in none of `fields`' values.
    init(fields: [Field], using generator: inout some RandomNumberGenerator) {
        var boundary = Self.randomBoundary(using: &generator)
        while fields.contains(where: { $0.value.contains(boundary) }) { boundary = Self.randomBoundary(using: &generator) }
        self.init(boundary: boundary, fields: fields)
    }

    mutating func append(_ name: String, _ value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// The `Content-Type` header value announcing the boundary.
    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// The body's bytes.
    func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(fields.reduce(boundary.utf8.count + 8) { $0 + $1.name.utf8.count + $1.value.utf8.count + boundary.utf8.count + 50 })
        for field in fields {
            bytes += Array("--\(boundary)\r\n".utf8)
            bytes += Array("Content-Disposition: form-data; name=\"\(Self.escapedName(field.name))\"\r\n\r\n".utf8)
            bytes += Array(field.value.utf8)
            bytes += Array("\r\n".utf8)
        }
        bytes += Array("--\(boundary)--\r\n".utf8)
        return bytes
    }

    /// `klaxon-` and 32 random lower-case hex digits: two 64-bit draws, 128 bits.
    static func randomBoundary(using generator: inout some RandomNumberGenerator) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var digits: [UInt8] = []
        for _ in 0..<2 {
            let bits = generator.next()
            for shift in stride(from: 60, through: 0, by: -4) { digits.append(hex[Int((bits >> UInt64(shift)) & 0xF)]) }
        }
        return "klaxon-" + String(decoding: digits, as: UTF8.self)
    }

    private static func escapedName(_ name: String) -> String {
        var out = ""
        for character in name.unicodeScalars {
            switch character {
            case "\"": out += "%22"
            case "\r": out += "%0D"
            case "\n": out += "%0A"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }
}
