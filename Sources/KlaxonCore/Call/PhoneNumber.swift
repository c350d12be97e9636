/// E.164 numbers as the rules write them, and the forms vendors want.
public enum PhoneNumber {
    /// `+86137****0000`: the first 6 and last 4 characters kept, for logs and output.
    public static func mask(_ phone: String) -> String {
        let characters = Array(phone)
        guard characters.count > 10 else {
            return String(characters.prefix(3)) + String(repeating: "*", count: max(0, characters.count - 3))
        }
        return String(characters.prefix(6)) + "****" + String(characters.suffix(4))
    }

    /// True for `+` followed by 7 to 15 digits, the first not 0.
    public static func isE164(_ phone: String) -> Bool {
        let digits = phone.dropFirst()
        return phone.hasPrefix("+") && (7...15).contains(digits.count) && digits.allSatisfy { $0.isASCII && $0.isNumber }
            && digits.first != "0"
    }

    /// The national significant number when `phone` has country code `countryCode`
    /// (`+8613700000000`, `86` → `13700000000`); nil for another country or a malformed number.
    public static func national(_ phone: String, countryCode: String) -> String? {
        guard isE164(phone), phone.dropFirst().hasPrefix(countryCode) else { return nil }
        return String(phone.dropFirst(1 + countryCode.count))
    }

    /// Whether a number as a vendor reports it (national, without `+`, with a trunk `0`)
    /// is the E.164 number klaxon called: the last eight digits agree. Nil matches nothing.
    public static func sameLine(_ e164: String, _ reported: String?) -> Bool {
        guard let reported else { return false }
        let called = e164.filter(\.isNumber)
        let other = reported.filter(\.isNumber)
        guard called.count >= 8, other.count >= 8 else { return !called.isEmpty && called == other }
        return called.suffix(8) == other.suffix(8)
    }
}
