#if canImport(Glibc)
import Glibc
#endif

/// Turns the bytes of a text part or an encoded-word into a String, given the charset the
/// message declared.
///
/// - UTF-8, US-ASCII and ISO-8859-1 (with their usual aliases) are decoded natively. Text
///   labelled US-ASCII that carries 8-bit bytes is read as UTF-8 when it is valid UTF-8 and
///   as ISO-8859-1 otherwise (mislabelled mail is common; either beats losing the text).
/// - GB2312, GBK, CP936 and EUC-CN are read as GB18030, their superset (mailers label GBK
///   text as GB2312 all the time); Big5 and CP950 as BIG5-HKSCS; every other name goes to
///   glibc's iconv as written. Bytes iconv cannot convert become U+FFFD and decoding goes on,
///   up to ``maxInvalidSequences`` of them: text that bad is not in that charset, and the rest
///   is dropped (``Decoded/replacedSequencesLimitReached``) rather than paying an iconv call per byte.
/// - A charset nobody knows (iconv_open fails) is **not** an error: the bytes are read as
///   UTF-8 with U+FFFD for what is not UTF-8, and ``Decoded/isKnown`` is false so the caller
///   can note it. A page with a few replacement characters beats a page that never rings.
enum TextCharset {
    struct Decoded {
        var text: String
        /// False when the charset was unknown and UTF-8 with replacement was used instead.
        var isKnown: Bool
        /// True when decoding stopped after ``TextCharset/maxInvalidSequences`` invalid sequences.
        var replacedSequencesLimitReached = false
    }

    static let maxInvalidSequences = 4096

    /// The charset name lower-cased, without quotes, whitespace or an RFC 2231 language suffix.
    static func normalize(_ name: String) -> String {
        var value = Substring(name)
        value = value.drop { $0 == " " || $0 == "\t" || $0 == "\"" || $0 == "'" }
        while let last = value.last, last == " " || last == "\t" || last == "\"" || last == "'" { value = value.dropLast() }
        if let star = value.firstIndex(of: "*") { value = value[..<star] }
        return value.lowercased()
    }

    static func decode(_ bytes: some Collection<UInt8>, charset: String?) -> Decoded {
        let name = charset.map(normalize) ?? ""
        switch name {
        case "", "utf-8", "utf8", "unicode-1-1-utf-8", "x-unknown", "unknown-8bit":
            return Decoded(text: String(decoding: bytes, as: UTF8.self), isKnown: true)
        case "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us", "cp367", "7bit":
            if bytes.allSatisfy({ $0 < 0x80 }) || isValidUTF8(bytes) {
                return Decoded(text: String(decoding: bytes, as: UTF8.self), isKnown: true)
            }
            return Decoded(text: latin1(bytes), isKnown: true)
        case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819", "ibm819", "iso-ir-100", "csisolatin1":
            return Decoded(text: latin1(bytes), isKnown: true)
        case "gb2312", "gbk", "gb18030", "cp936", "ms936", "windows-936", "euc-cn", "x-gbk", "csgb2312", "x-euc-cn":
            return iconv(bytes, from: "GB18030")
        case "big5", "big-5", "cn-big5", "csbig5", "x-x-big5", "cp950", "big5-hkscs", "big5hkscs":
            return iconv(bytes, from: "BIG5-HKSCS")
        default:
            return iconv(bytes, from: name)
        }
    }

    /// Whether a charset name is one ``decode(_:charset:)`` can read without falling back.
    static func isKnown(_ charset: String) -> Bool {
        decode([UInt8](), charset: charset).isKnown
    }

    static func isValidUTF8(_ bytes: some Collection<UInt8>) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    static func latin1(_ bytes: some Collection<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.reserveCapacity(bytes.count)
        for byte in bytes { scalars.append(Unicode.Scalar(byte)) }
        return String(scalars)
    }

    private static func fallback(_ bytes: some Collection<UInt8>) -> Decoded {
        Decoded(text: String(decoding: bytes, as: UTF8.self), isKnown: false)
    }

    #if canImport(Glibc)
    private static func iconv(_ bytes: some Collection<UInt8>, from charset: String) -> Decoded {
        // Names with characters iconv treats specially ("//TRANSLIT", paths) are not charsets.
        guard !charset.isEmpty, charset.utf8.count <= 40, !charset.contains("/"), !charset.contains(",") else {
            return fallback(bytes)
        }
        let handle = iconv_open("UTF-8", charset)
        guard let handle, Int(bitPattern: handle) != -1 else { return fallback(bytes) }
        defer { iconv_close(handle) }

        var input = Array(bytes)
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 2 + 16)
        let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
        var chunk = [UInt8](repeating: 0, count: 4096)
        var consumed = 0
        var invalid = 0
        input.withUnsafeMutableBufferPointer { inputBuffer in
            chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                guard let inputBase = inputBuffer.baseAddress, let chunkBase = chunkBuffer.baseAddress else { return }
                while consumed < inputBuffer.count {
                    var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inputBase + consumed)
                        .assumingMemoryBound(to: CChar.self)
                    var inLeft = inputBuffer.count - consumed
                    var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(chunkBase).assumingMemoryBound(to: CChar.self)
                    var outLeft = chunkBuffer.count
                    let result = Glibc.iconv(handle, &inPointer, &inLeft, &outPointer, &outLeft)
                    let failure = result == -1 ? errno : 0
                    output.append(contentsOf: UnsafeBufferPointer(start: chunkBase, count: chunkBuffer.count - outLeft))
                    let newConsumed = inputBuffer.count - inLeft
                    let progressed = newConsumed > consumed || outLeft < chunkBuffer.count
                    consumed = newConsumed
                    guard result == -1 else { continue }
                    switch failure {
                    case E2BIG:
                        if !progressed {
                            // One character longer than the whole chunk cannot happen; bail out safely.
                            output.append(contentsOf: replacement)
                            consumed += 1
                        }
                    case EINVAL:
                        // Truncated multi-byte sequence at the end.
                        output.append(contentsOf: replacement)
                        consumed = inputBuffer.count
                    default:
                        // EILSEQ (or anything else): skip one byte and go on.
                        output.append(contentsOf: replacement)
                        consumed += 1
                        invalid += 1
                        if invalid >= maxInvalidSequences { return }
                        _ = Glibc.iconv(handle, nil, nil, nil, nil)
                    }
                }
            }
        }
        return Decoded(
            text: String(decoding: output, as: UTF8.self),
            isKnown: true,
            replacedSequencesLimitReached: invalid >= maxInvalidSequences && consumed < input.count
        )
    }
    #else
    private static func iconv(_ bytes: some Collection<UInt8>, from charset: String) -> Decoded {
        fallback(bytes)
    }
    #endif
}
