import Crypto
import Foundation
import Hummingbird
import KlaxonCore
import KlaxonRules

/// Bearer tokens and basic auth, compared in constant time so the answer's timing says
/// nothing about how much of a guess was right, nor how long the secret is.
enum Credentials {
    /// Compares SHA-256 digests, not the texts: a byte loop over the longer of the two takes
    /// longer for a guess longer than the secret, which tells the secret's length. The
    /// digests' own comparison is constant-time (swift-crypto's `safeCompare`).
    static func constantTimeEquals(_ presented: String, _ secret: String) -> Bool {
        SHA256.hash(data: Array(presented.utf8)) == SHA256.hash(data: Array(secret.utf8))
    }

    static func bearer(_ request: Request) -> String? {
        guard let value = request.headers[.authorization], value.lowercased().hasPrefix("bearer ") else { return nil }
        return String(value.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }

    static func basic(_ request: Request) -> (username: String, password: String)? {
        guard let value = request.headers[.authorization], value.lowercased().hasPrefix("basic "),
            let data = Data(base64Encoded: String(value.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: data, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    /// Whether a source may post to `input`: its own token or basic auth when it has them,
    /// else the server's `source_token`, else the API token, else anyone (the server then
    /// listens on loopback). The API token is accepted too (`klaxon email` sends it). An
    /// input without a credential of its own is never open while an API token is set: that
    /// token lets klaxon listen beyond loopback.
    static func sourceAllowed(_ request: Request, input: InputConfig?, server: ServerConfig) -> Bool {
        let own = input.map(\.tokens) ?? []
        let tokens =
            !own.isEmpty ? own : input?.basicAuth == nil ? (server.sourceTokens.isEmpty ? server.apiTokens : server.sourceTokens) : []
        let basicAuth = input?.basicAuth
        if tokens.isEmpty && basicAuth == nil { return true }
        if let presented = bearer(request), anyEquals(presented, tokens + server.apiTokens) { return true }
        if let basicAuth, let presented = basic(request) {
            // Both compared, always, so timing does not tell which was wrong.
            let user = constantTimeEquals(presented.username, basicAuth.username)
            let password = constantTimeEquals(presented.password, basicAuth.password)
            return user && password
        }
        return false
    }

    /// Whether a caller may learn that no input of this name takes this endpoint's payloads
    /// (the detailed 404). Anyone when no source has a credential (nor the API); otherwise a caller
    /// presenting one that some source accepts: `source_token`, the API token, or any
    /// input's token or basic auth. The answer to everyone else must not differ from that
    /// of an existing input, or the 404 would name the inputs to strangers.
    static func unknownInputAllowed(_ request: Request, repository: RuleRepository) -> Bool {
        let server = repository.server
        let inputs = repository.inputs.values
        if server.sourceToken == nil && server.apiToken == nil && inputs.allSatisfy({ $0.token == nil && $0.basicAuth == nil }) { return true }
        var allowed = false
        if let presented = bearer(request) {
            allowed = anyEquals(presented, server.sourceTokens + server.apiTokens + inputs.flatMap(\.tokens))
        }
        if let presented = basic(request) {
            for basicAuth in inputs.compactMap(\.basicAuth) {
                let user = constantTimeEquals(presented.username, basicAuth.username)
                let password = constantTimeEquals(presented.password, basicAuth.password)
                allowed = allowed || (user && password)
            }
        }
        return allowed
    }

    /// Whether a caller may post reports for a provider that signs nothing (`known`), or
    /// learn that a name is no provider taking reports (not `known`): `token` (from `?token=`
    /// or the path) one of the `callback_token`s when any is set (each compared, so the time does not say which
    /// matched). Without one, anyone for a known provider, and for an unknown name anyone
    /// only when no callback credential (Huawei's shared key) is configured anywhere: a
    /// stranger must not tell a signed provider from no provider.
    static func callbackAllowed(token: String?, known: Bool, repository: RuleRepository) -> Bool {
        let tokens = repository.server.callbackTokens
        if !tokens.isEmpty { return anyEquals(token ?? "", tokens) }
        if known { return true }
        return !repository.providers.contains { $0.type == .huaweiAICC && $0.options["callback_shared_key"] != nil }
    }

    /// The API's token, else the sources' (with either set klaxon may listen beyond
    /// loopback, and an unguarded ack would stop a page), else anyone: no token at all keeps
    /// klaxon on loopback.
    static func apiAllowed(_ request: Request, server: ServerConfig) -> Bool {
        let tokens = server.apiTokens.isEmpty ? server.sourceTokens : server.apiTokens
        if tokens.isEmpty { return true }
        guard let presented = bearer(request) else { return false }
        return anyEquals(presented, tokens)
    }

    /// Whether `presented` is one of `secrets`: every one compared, so the time does not say
    /// which matched, or how many there are before it.
    static func anyEquals(_ presented: String, _ secrets: [String]) -> Bool {
        secrets.reduce(false) { allowed, secret in constantTimeEquals(presented, secret) || allowed }
    }
}
