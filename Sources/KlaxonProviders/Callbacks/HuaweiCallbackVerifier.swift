import Crypto
import Foundation

/// Checks the signature Huawei AICC puts on a voice-notification callback when the tenant
/// has a Shared Key (`callback_shared_key`) and the callback URL came from the API
/// (VENDORS.md §2.7, reference Java on cec_07_2804):
///
/// 1. every body parameter except `timestamp`, `nonce` and `signature`, sorted by name
///    (Java `TreeMap`: UTF-16 code-unit order);
/// 2. rendered like `TreeMap.toString()` — `{k1=v1, k2=v2}` — with every space character
///    removed (values included) and the outer braces stripped: `k1=v1,k2=v2`;
/// 3. `toSign = sharedKey + "_" + timestamp + "_" + nonce + "_" + that`;
/// 4. `signature = Base64(HMAC-SHA256(key: sharedKey, data: toSign))`, compared in constant time.
///
/// The timestamp must be within ``tolerance`` of `now`; it may be epoch milliseconds or
/// seconds (a value above 10^11 is read as milliseconds). The shared key never appears in
/// a ``Rejection`` or in the verifier's description.
public struct HuaweiCallbackVerifier: Sendable, CustomStringConvertible, CustomReflectable {
    /// The parameters that carry the signature and are not signed themselves.
    public static let signingFields: Set<String> = ["timestamp", "nonce", "signature"]

    /// Why a callback was not accepted as Huawei's. Safe to log and to return to the caller.
    public struct Rejection: Error, Sendable, Hashable, CustomStringConvertible {
        public enum Reason: String, Sendable, Hashable {
            /// `signature`, `timestamp` or `nonce` is missing or empty.
            case unsigned
            /// `timestamp` is not an epoch number.
            case malformedTimestamp
            /// `timestamp` is more than the tolerance away from now.
            case staleTimestamp
            /// The signature does not match the body and the shared key.
            case badSignature
        }

        public var reason: Reason
        public var message: String

        public var description: String { "Huawei callback rejected (\(reason.rawValue)): \(message)" }
    }

    private let sharedKey: String
    /// How far the callback's timestamp may be from now, either way.
    public var tolerance: Duration

    public init(sharedKey: String, tolerance: Duration = .seconds(300)) {
        self.sharedKey = sharedKey
        self.tolerance = tolerance
    }

    public var description: String { "HuaweiCallbackVerifier(tolerance: \(tolerance))" }
    public var customMirror: Mirror { Mirror(self, children: ["tolerance": tolerance]) }

    /// Accepts `fields` (the callback body, name → value as text) signed with this shared
    /// key at a time within ``tolerance`` of `now`, or throws why not.
    public func verify(_ fields: [String: String], now: Date) throws(Rejection) {
        guard let signature = fields["signature"], !signature.isEmpty,
            let timestamp = fields["timestamp"], !timestamp.isEmpty,
            let nonce = fields["nonce"], !nonce.isEmpty
        else {
            throw Rejection(reason: .unsigned, message: "signature, timestamp and nonce are required when a shared key is configured")
        }
        guard let time = Self.date(fromEpoch: timestamp) else {
            throw Rejection(reason: .malformedTimestamp, message: "timestamp \"\(timestamp.prefix(20))\" is not epoch seconds or milliseconds")
        }
        let skew = abs(time.timeIntervalSince(now))
        let limit = Double(tolerance.components.seconds) + Double(tolerance.components.attoseconds) / 1e18
        guard skew <= limit else {
            throw Rejection(reason: .staleTimestamp, message: "timestamp is \(Int(skew)) s away from now; at most \(Int(limit)) s is accepted")
        }
        guard let received = Data(base64Encoded: signature) else {
            throw Rejection(reason: .badSignature, message: "signature is not Base64")
        }
        let toSign = Self.stringToSign(fields: fields, sharedKey: sharedKey, timestamp: timestamp, nonce: nonce)
        let key = SymmetricKey(data: Data(sharedKey.utf8))
        guard HMAC<SHA256>.isValidAuthenticationCode(received, authenticating: Data(toSign.utf8), using: key) else {
            throw Rejection(reason: .badSignature, message: "signature does not match the body (wrong callback_shared_key, or the body was altered)")
        }
    }

    /// Step 2: the signed parameters as `k1=v1,k2=v2` (sorted, spaces removed).
    public static func canonicalParameters(_ fields: [String: String]) -> String {
        let names = fields.keys.filter { !signingFields.contains($0) }.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
        let rendered = "{" + names.map { "\($0)=\(fields[$0]!)" }.joined(separator: ", ") + "}"
        return String(rendered.filter { $0 != " " }.dropFirst().dropLast())
    }

    /// Step 3: `sharedKey_timestamp_nonce_k1=v1,k2=v2`.
    public static func stringToSign(fields: [String: String], sharedKey: String, timestamp: String, nonce: String) -> String {
        "\(sharedKey)_\(timestamp)_\(nonce)_\(canonicalParameters(fields))"
    }

    /// Step 4: the Base64 signature Huawei would send for `fields`.
    public static func signature(fields: [String: String], sharedKey: String, timestamp: String, nonce: String) -> String {
        let toSign = stringToSign(fields: fields, sharedKey: sharedKey, timestamp: timestamp, nonce: nonce)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: SymmetricKey(data: Data(sharedKey.utf8)))
        return Data(mac).base64EncodedString()
    }

    /// Epoch seconds or milliseconds (above 10^11, i.e. after 1973 in ms / year 5138 in s).
    static func date(fromEpoch text: String) -> Date? {
        guard let value = Int64(text.trimmingCharacters(in: .whitespaces)), value > 0 else { return nil }
        return Date(timeIntervalSince1970: value > 100_000_000_000 ? Double(value) / 1000 : Double(value))
    }
}
