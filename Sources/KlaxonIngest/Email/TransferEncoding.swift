/// Content-Transfer-Encoding decoders (RFC 2045 section 6). Both are total: any input
/// decodes to some bytes, and what had to be repaired is counted.
enum TransferEncoding {
    struct Decoded {
        var bytes: [UInt8]
        /// Characters that are not part of the encoding and were skipped (base64 only;
        /// whitespace and line breaks do not count).
        var skipped: Int
    }

    /// Quoted-printable: `=XX` (either case of hex digits) is a byte; `=` at the end of a line
    /// (optionally followed by whitespace) is a soft line break and disappears; whitespace at
    /// the end of a line is transport padding and is dropped; a `=` not followed by two hex
    /// digits is kept as it is. Hard line breaks are kept as they were written (CRLF or LF).
    static func quotedPrintable(_ input: some Collection<UInt8>) -> Decoded {
        let bytes = Array(input)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        // Where pending trailing whitespace started in `out`, to drop it at a line end.
        var whitespaceStart: Int?
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "="):
                // Soft line break: "=" then optional whitespace then CRLF, LF or end of input.
                var look = index + 1
                while look < bytes.count, bytes[look] == 0x20 || bytes[look] == 0x09 { look += 1 }
                if look == bytes.count {
                    index = look
                    continue
                }
                if bytes[look] == 0x0A {
                    index = look + 1
                    continue
                }
                if bytes[look] == 0x0D, look + 1 < bytes.count, bytes[look + 1] == 0x0A {
                    index = look + 2
                    continue
                }
                if bytes[look] == 0x0D, look + 1 == bytes.count {
                    index = look + 1
                    continue
                }
                if index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                    out.append(high << 4 | low)
                    whitespaceStart = nil
                    index += 3
                    continue
                }
                out.append(byte)
                whitespaceStart = nil
                index += 1
            case 0x20, 0x09:
                if whitespaceStart == nil { whitespaceStart = out.count }
                out.append(byte)
                index += 1
            case 0x0D, 0x0A:
                if let start = whitespaceStart { out.removeSubrange(start...) }
                whitespaceStart = nil
                out.append(byte)
                index += 1
            default:
                whitespaceStart = nil
                out.append(byte)
                index += 1
            }
        }
        if let start = whitespaceStart { out.removeSubrange(start...) }
        return Decoded(bytes: out, skipped: 0)
    }

    /// Base64: characters outside the alphabet are skipped (whitespace silently, anything else
    /// counted in ``Decoded/skipped``); `=` ends a quantum (so concatenated encodings decode);
    /// a truncated final quantum yields the bytes its complete 8-bit groups hold.
    static func base64(_ input: some Collection<UInt8>) -> Decoded {
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 4 * 3 + 3)
        var accumulator: UInt32 = 0
        var bits = 0
        var skipped = 0
        for byte in input {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="):
                // Padding: drop the partial bits and start a new quantum.
                accumulator = 0
                bits = 0
                continue
            case 0x20, 0x09, 0x0D, 0x0A:
                continue
            default:
                skipped += 1
                continue
            }
            accumulator = (accumulator << 6) | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        return Decoded(bytes: out, skipped: skipped)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
