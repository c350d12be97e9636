import AsyncHTTPClient
import Foundation
import Logging

/// What every provider client shares: the HTTP client, a logger and the wall clock.
public struct ProviderEnvironment: Sendable {
    public var httpClient: HTTPClient
    public var logger: Logger
    /// Wall-clock time, for vendor timestamps (Aliyun's `Timestamp`) and token expiry.
    public var now: @Sendable () -> Date

    public init(httpClient: HTTPClient, logger: Logger = Logger(label: "klaxon.providers"), now: @escaping @Sendable () -> Date = { Date() }) {
        self.httpClient = httpClient
        self.logger = logger
        self.now = now
    }
}
