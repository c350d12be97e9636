/// `server:`: how `klaxon serve` listens and whom it lets in.
public struct ServerConfig: Sendable, Hashable {
    /// `HOST:PORT`; nil leaves the command line's default.
    public var listen: String?
    /// The largest request body accepted, in bytes (default 1 MiB).
    public var bodyLimit: Int
    /// Bearer tokens for the API (`/api/v1`, `/-/reload`): any one of them is let in, so a
    /// token can be rotated without a moment when neither the old nor the new works.
    public var apiTokens: [String]
    /// The first of ``apiTokens``; nil when none is configured.
    public var apiToken: String? { apiTokens.first }
    /// Bearer tokens every source may present unless its input has its own.
    public var sourceTokens: [String]
    /// The first of ``sourceTokens``; nil when none is configured.
    public var sourceToken: String? { sourceTokens.first }
    /// The URL vendors reach klaxon at, for call-status callbacks.
    public var publicURL: String?
    /// The secrets vendors that sign nothing may put in their callback URL (`?token=`), the
    /// one klaxon gives out first: a list lets a token be rotated while reports for calls
    /// placed with the old one (or URLs set in a vendor's console) still come.
    public var callbackTokens: [String]
    /// The token klaxon puts into the callback URLs it gives vendors.
    public var callbackToken: String? { callbackTokens.first }
    /// How long SIGTERM waits for calls in flight before it cuts them short (default 25 s,
    /// inside the 30 s a supervisor such as Kubernetes gives before SIGKILL).
    public var shutdownTimeout: Duration

    public init(
        listen: String? = nil,
        bodyLimit: Int = 1 << 20,
        apiTokens: [String] = [],
        sourceTokens: [String] = [],
        publicURL: String? = nil,
        callbackTokens: [String] = [],
        shutdownTimeout: Duration = .seconds(25)
    ) {
        self.listen = listen
        self.bodyLimit = bodyLimit
        self.apiTokens = apiTokens
        self.sourceTokens = sourceTokens
        self.publicURL = publicURL
        self.callbackTokens = callbackTokens
        self.shutdownTimeout = shutdownTimeout
    }
}
