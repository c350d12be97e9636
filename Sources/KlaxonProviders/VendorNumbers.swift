import KlaxonCore

/// Which numbers each vendor can call, by the same rules its client applies before it
/// sends anything, for `klaxon check` and reloads (``numberProblem(_:for:)``).
public enum VendorNumbers {
    /// Why `provider` cannot call `phone` (an E.164 number), or nil when it can.
    @Sendable
    public static func numberProblem(_ phone: String, for provider: ProviderConfig) -> String? {
        switch provider.type {
        case .aliyun:
            do {
                _ = try AliyunVoiceClient.calledNumber(phone)
                return nil
            } catch {
                return error.message
            }
        case .bitel:
            return BitelClient.nationalNumber(phone) == nil ? "Bitel calls Iranian mobile numbers only (+989 and 9 digits)" : nil
        case .infin8linx:
            guard let nationCode = provider.options["nationcode"], let countryCode = Infin8linxClient.countryCodes[nationCode] else { return nil }
            return Infin8linxClient.nationalNumber(phone, nationCode: nationCode) == nil
                ? "this infin8linx provider calls +\(countryCode) numbers only (nationcode \(nationCode))" : nil
        case .huaweiAICC, .webhook, .simulator:
            return nil
        }
    }
}
