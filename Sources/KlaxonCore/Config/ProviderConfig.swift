/// The vendor a provider entry talks to (`type:` in the rules).
public enum ProviderType: String, Sendable, Hashable, CaseIterable {
    case aliyun
    case huaweiAICC = "huawei-aicc"
    case bitel
    case infin8linx
    case webhook
    case simulator
}

/// One entry under `providers:`: a configured vendor client.
///
/// Settings every client shares are typed; vendor-specific ones stay in ``options`` after
/// the rule loader has checked their names and required presence.
public struct ProviderConfig: Sendable {
    public var name: String
    public var type: ProviderType
    /// Overrides the vendor's documented endpoint (tests and private deployments).
    public var endpoint: String?
    public var timeout: Duration
    public var retry: RetryConfig
    /// Huawei AICC only: `v1` or `v2` of `createVoiceNotification`.
    public var apiVersion: String?
    /// Vendor-specific scalar settings by key, with `${NAME}` already substituted.
    public var options: [String: String]
    /// Vendor-specific mapping settings (webhook `headers`, `success`...).
    public var maps: [String: [String: String]]
    public var location: SourceLocation

    public init(
        name: String,
        type: ProviderType,
        endpoint: String? = nil,
        timeout: Duration = .seconds(10),
        retry: RetryConfig = .default,
        apiVersion: String? = nil,
        options: [String: String] = [:],
        maps: [String: [String: String]] = [:],
        location: SourceLocation = SourceLocation(file: "<code>", line: 1, column: 1)
    ) {
        self.name = name
        self.type = type
        self.endpoint = endpoint
        self.timeout = timeout
        self.retry = retry
        self.apiVersion = apiVersion
        self.options = options
        self.maps = maps
        self.location = location
    }

    public struct RetryConfig: Sendable, Hashable {
        public var attempts: Int
        public var initialBackoff: Duration
        public var maxBackoff: Duration

        public init(attempts: Int, initialBackoff: Duration, maxBackoff: Duration) {
            self.attempts = attempts
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
        }

        public static let `default` = RetryConfig(attempts: 3, initialBackoff: .seconds(1), maxBackoff: .seconds(30))
    }
}
