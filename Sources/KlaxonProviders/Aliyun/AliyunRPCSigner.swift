import Crypto
import Foundation

/// Alibaba Cloud's RPC signature, `SignatureVersion` 1.0 with `HMAC-SHA1`, as pure functions
/// (VENDORS.md §1.3).
///
/// Every parameter that is sent, except `Signature` itself, is signed; a present but empty
/// value is signed as `Key=`. The same percent-encoder is used for keys, values and the
/// canonical query string, so the signature only depends on the parameters, the HTTP method
/// and the secret, never on where the parameters travel (query string or form body).
///
/// ```swift
/// let body = AliyunRPCSigner.signedQuery(parameters, method: "POST", secret: secret)
/// // "AccessKeyId=...&Action=SingleCallByVoice&...&Signature=CCGI5LAFyPpe3gbDq7HiE6AG%2FpA%3D"
/// ```
public enum AliyunRPCSigner {
    /// The format of `Timestamp`: UTC, ISO 8601 without fractional seconds.
    public static let timestampFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'"

    /// Percent-encodes `text` as UTF-8: `A–Z a–z 0–9 - _ . ~` stay as they are, every other
    /// byte becomes `%XX` with uppercase hex. So space → `%20`, `*` → `%2A`, `~` stays `~`.
    public static func percentEncode(_ text: String) -> String {
        var encoded: [UInt8] = []
        encoded.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) {
                encoded.append(byte)
            } else {
                encoded.append(UInt8(ascii: "%"))
                encoded.append(hexDigits[Int(byte >> 4)])
                encoded.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }

    /// The canonicalized query string: every pair percent-encoded, sorted byte-wise by
    /// encoded key, joined as `k=v` with `&`. `Signature` is left out if present.
    public static func canonicalQuery(_ parameters: [String: String]) -> String {
        parameters
            .filter { $0.key != "Signature" }
            .map { (key: percentEncode($0.key), value: percentEncode($0.value)) }
            .sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            .map { "\($0.key)=\($0.value)" }
            .joined(separator: "&")
    }

    /// `METHOD&%2F&percentEncode(canonicalQuery)`; `method` is upper-cased.
    public static func stringToSign(_ parameters: [String: String], method: String) -> String {
        "\(method.uppercased())&\(percentEncode("/"))&\(percentEncode(canonicalQuery(parameters)))"
    }

    /// Base64 of HMAC-SHA1 over ``stringToSign(_:method:)`` with key `secret + "&"`.
    public static func signature(_ parameters: [String: String], method: String, secret: String) -> String {
        let key = SymmetricKey(data: Data((secret + "&").utf8))
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(stringToSign(parameters, method: method).utf8), using: key)
        return Data(mac).base64EncodedString()
    }

    /// The parameters ready for the wire, as a query string or an
    /// `application/x-www-form-urlencoded` body: the canonical query string followed by
    /// `&Signature=` and the percent-encoded signature.
    public static func signedQuery(_ parameters: [String: String], method: String, secret: String) -> String {
        canonicalQuery(parameters) + "&Signature=" + percentEncode(signature(parameters, method: method, secret: secret))
    }

    /// `date` formatted as `yyyy-MM-dd'T'HH:mm:ss'Z'` in UTC, fractional seconds dropped.
    public static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ value: Int?, _ width: Int) -> String {
            let digits = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return
            "\(pad(parts.year, 4))-\(pad(parts.month, 2))-\(pad(parts.day, 2))T\(pad(parts.hour, 2)):\(pad(parts.minute, 2)):\(pad(parts.second, 2))Z"
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
