import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The Huawei AICC access token (`tokenByAkSk`), fetched on demand and cached until shortly
/// before it expires.
///
/// Contract:
/// - ``token()`` returns a token with more than the refresh margin left: the larger of 60 s
///   and 20 % of its lifetime, but never more than half the lifetime (so a 60 s token is
///   still reused for 30 s). Times come from the injected `now`.
/// - However many callers wait, at most ONE `tokenByAkSk` request is in flight; they all
///   get its answer.
/// - The lifetime is the answer's `Expires` (seconds, a string), else `expiresIn`, else the
///   lifetime asked for in `X-Token-Expire`.
/// - When a refresh fails while the cached token has not yet expired, that token is returned.
/// - ``invalidate(_:)`` drops a token the vendor refused (401/403), so the next ``token()``
///   fetches a fresh one; a token that was already replaced is left alone.
/// - The app secret and the tokens never appear in errors or logs.
public actor HuaweiTokenProvider: CustomReflectable {
    /// Why no token could be had. Never contains the app secret or a token.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// True for timeouts, transport errors and 5xx/429: asking again later may work.
        /// False when the vendor refused the credentials or the request.
        public var isRetryable: Bool
        /// `klaxon.auth`, `klaxon.timeout`, `klaxon.transport`, `klaxon.http_<status>` or `klaxon.bad_response`.
        public var code: String
        public var message: String
        public var httpStatus: Int?

        public var description: String { (httpStatus.map { "HTTP \($0) " } ?? "") + "\(code): \(message)" }
    }

    private struct Token {
        var value: String
        var expiresAt: Date
        var refreshAt: Date
    }

    private let url: String
    private let appKey: String
    private let appSecret: String
    private let requestedLifetime: Int
    private let timeout: Duration
    private let httpClient: HTTPClient
    private let logger: Logger
    private let now: @Sendable () -> Date

    private var cached: Token?
    private var inFlight: Task<Result<Token, Failure>, Never>?
    /// How many `tokenByAkSk` requests this provider has sent.
    public private(set) var requestCount = 0

    /// - Parameters:
    ///   - endpoint: scheme, host and port, e.g. `https://service.besclouds.com`.
    ///   - requestedLifetime: seconds asked for in `X-Token-Expire` (the vendor allows up to 3600).
    ///   - timeout: for the whole token request.
    public init(
        endpoint: String,
        appKey: String,
        appSecret: String,
        requestedLifetime: Int = 600,
        timeout: Duration = .seconds(10),
        httpClient: HTTPClient,
        logger: Logger,
        now: @escaping @Sendable () -> Date
    ) {
        self.url = endpoint + "/apigovernance/api/oauth/tokenByAkSk"
        self.appKey = appKey
        self.appSecret = appSecret
        self.requestedLifetime = requestedLifetime
        self.timeout = timeout
        self.httpClient = httpClient
        self.logger = logger
        self.now = now
    }

    /// A token good for more than the refresh margin, from the cache or from one shared refresh.
    public func token() async throws(Failure) -> String {
        if let cached, now() < cached.refreshAt { return cached.value }
        let task: Task<Result<Token, Failure>, Never>
        if let inFlight {
            task = inFlight
        } else {
            requestCount += 1
            let fetch = fetcher()
            task = Task { await fetch() }
            inFlight = task
        }
        let result = await task.value
        // The first waiter to resume files the answer; the others find it already filed.
        if inFlight == task {
            inFlight = nil
            if case .success(let token) = result { cached = token }
        }
        switch result {
        case .success(let token):
            return token.value
        case .failure(let failure):
            if let cached, now() < cached.expiresAt {
                logger.warning("huawei token refresh failed; using the current token until it expires", metadata: ["error": "\(failure)"])
                return cached.value
            }
            throw failure
        }
    }

    /// Hides the credentials from `dump` and debuggers' reflection.
    public nonisolated var customMirror: Mirror { Mirror(self, children: [:]) }

    /// Forgets `token` if it is the cached one (the vendor refused it).
    public func invalidate(_ token: String) {
        if cached?.value == token { cached = nil }
    }

    /// The refresh margin for a token living `lifetime` seconds.
    static func refreshMargin(lifetime: TimeInterval) -> TimeInterval {
        min(max(60, lifetime * 0.2), lifetime / 2)
    }

    /// The request, as a closure that runs outside the actor and holds what it needs.
    private func fetcher() -> @Sendable () async -> Result<Token, Failure> {
        let url = url
        let body = HuaweiJSON.object([.init(key: "app_key", value: .string(appKey)), .init(key: "app_secret", value: .string(appSecret))]).text
        let lifetime = requestedLifetime
        let timeout = timeout
        let httpClient = httpClient
        let logger = logger
        let now = now
        let secrets = [appSecret]
        return {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "X-Token-Expire", value: String(lifetime))
            request.body = .bytes(ByteBuffer(string: body))
            let asked = now()
            let status: Int
            let text: String
            do {
                let response = try await httpClient.execute(request, timeout: TimeAmount(timeout))
                status = Int(response.status.code)
                text = String(buffer: try await response.body.collect(upTo: 1 << 16))
            } catch let error as HTTPClientError where HuaweiAICCClient.isTimeout(error) {
                return .failure(Failure(isRetryable: true, code: "klaxon.timeout", message: "token request timed out after \(timeout)"))
            } catch {
                return .failure(Failure(isRetryable: true, code: "klaxon.transport", message: "token request failed: \(error)"))
            }
            guard status == 200 else {
                let excerpt = HuaweiRedaction.excerpt(text, hiding: secrets)
                let refused = (400..<500).contains(status) && status != 429
                return .failure(
                    Failure(
                        isRetryable: !refused,
                        code: refused ? "klaxon.auth" : "klaxon.http_\(status)",
                        message: refused
                            ? "tokenByAkSk refused the app_key/app_secret: \(excerpt)"
                            : "tokenByAkSk answered HTTP \(status): \(excerpt)",
                        httpStatus: status
                    )
                )
            }
            guard let answer = try? JSONDecoder().decode(HuaweiTokenResponse.self, from: Data(text.utf8)),
                let value = answer.accessToken, !value.isEmpty
            else {
                return .failure(
                    Failure(isRetryable: true, code: "klaxon.bad_response", message: "tokenByAkSk answer has no AccessToken", httpStatus: status)
                )
            }
            let seconds = [answer.expires, answer.expiresIn].compactMap { $0 }.first { $0 > 0 } ?? lifetime
            let expiresAt = asked.addingTimeInterval(TimeInterval(seconds))
            let refreshAt = expiresAt.addingTimeInterval(-HuaweiTokenProvider.refreshMargin(lifetime: TimeInterval(seconds)))
            logger.debug("huawei token refreshed", metadata: ["lifetime_s": "\(seconds)"])
            return .success(Token(value: value, expiresAt: expiresAt, refreshAt: refreshAt))
        }
    }
}
