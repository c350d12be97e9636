import Foundation
import KlaxonEngine
import KlaxonRules

/// What `klaxon serve` settled at start and only a restart changes: the address it listens
/// on, the store it opened and how long SIGTERM waits. ``RuleReloader`` refuses a reload that would change them, and
/// one that would leave a listener beyond loopback without any token.
public struct ServingSettings: Sendable {
    /// The command line's flags, which win over the rules.
    public var options: ServeOptions
    /// The listen address asked for at start: `--listen`, else `server.listen`, else the default.
    public var listen: String
    /// The host bound; 127.0.0.1 instead of the one asked for when no token was set.
    public var host: String
    /// The store opened.
    public var store: String

    public init(options: ServeOptions, repository: RuleRepository, host: String) {
        self.options = options
        self.listen = options.listen(for: repository.server)
        self.host = host
        self.store = options.store(for: repository)
    }

    /// Why `new` cannot replace `current` in this process; empty when it can.
    func refusals(replacing current: RuleRepository, with new: RuleRepository) -> [String] {
        var errors: [String] = []
        let listen = options.listen(for: new.server)
        if listen != self.listen {
            errors.append("server.listen changed from \(self.listen) to \(listen): it takes effect only when klaxon serve restarts")
        }
        let store = options.store(for: new)
        if store != self.store {
            let old = PostgresIncidentStore.redacted(self.store)
            let new = PostgresIncidentStore.redacted(store)
            let change = old == new ? "its password changed" : "changed from \(old) to \(new)"
            errors.append("store \(change): it takes effect only when klaxon serve restarts")
        }
        if new.server.shutdownTimeout != current.server.shutdownTimeout {
            errors.append(
                "server.shutdown_timeout changed from \(current.server.shutdownTimeout) to \(new.server.shutdownTimeout): it takes effect only when klaxon serve restarts"
            )
        }
        if !KlaxonServe.isLoopback(host) && !Self.isOpen(current.server) && Self.isOpen(new.server) {
            errors.append(
                "server: the new rules set neither api_token nor source_token, but klaxon listens on \(host): "
                    + "anyone who can reach it could post alerts and ack incidents; keep a token, "
                    + "or restart klaxon serve, which then listens on 127.0.0.1 only"
            )
        }
        let unchecked = KlaxonServe.uncheckedCallbackProviders(new)
        if !KlaxonServe.isLoopback(host) && !current.server.callbackTokens.isEmpty && new.server.callbackTokens.isEmpty && !unchecked.isEmpty {
            errors.append(
                "server: the new rules drop callback_token, but klaxon listens on \(host): anyone who can reach it could post "
                    + "an \"answered\" report for \(unchecked.joined(separator: ", ")) and stop an escalation; keep a callback_token"
            )
        }
        // Started without a token, klaxon kept to loopback instead of `server.listen`'s host;
        // a token added now would not move it there, and "reloaded" would hide that.
        if options.listen == nil, KlaxonServe.isLoopback(host), Self.isOpen(current.server), !Self.isOpen(new.server),
            let requested = Self.host(of: listen), !KlaxonServe.isLoopback(requested)
        {
            errors.append(
                "server: the new rules set a token, so server.listen's \(listen) would be served, but klaxon started without one "
                    + "and listens on \(host) only: it takes effect only when klaxon serve restarts"
            )
        }
        return errors
    }

    /// The host of a `HOST:PORT` listen address, as `klaxon serve` reads it.
    static func host(of listen: String) -> String? {
        guard let colon = listen.lastIndex(of: ":") else { return nil }
        let host = listen[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host.isEmpty ? "0.0.0.0" : host
    }

    /// No token protects the API and sources (`klaxon serve` then keeps to loopback).
    static func isOpen(_ server: ServerConfig) -> Bool {
        server.apiToken == nil && server.sourceToken == nil
    }
}
