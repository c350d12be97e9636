import KlaxonCore

/// A loaded, validated rule repository: everything `klaxon` needs to route and call.
///
/// Built only by ``RuleLoader`` and only when the repository had no errors, so every
/// reference in it (people, groups, voices, providers, escalations) resolves.
public struct RuleRepository: Sendable {
    public var server: ServerConfig
    /// `sqlite:PATH` or `postgres://...`; nil takes the command line's default.
    public var store: String?
    public var inputs: [String: InputConfig]
    /// In definition order.
    public var providers: [ProviderConfig]
    public var recipients: [String: Recipient]
    public var groups: [String: RecipientGroup]
    public var voices: [String: Voice]
    public var severities: SeverityConfig
    public var escalations: [String: Escalation]
    public var routes: [Route]
    /// Webhook providers' `body` templates by provider name; they may also name `recipients`.
    public var webhookBodies: [String: ParamTemplate]
    /// The files that were read, in merge order.
    public var files: [String]

    public func provider(named name: String) -> ProviderConfig? {
        providers.first { $0.name == name }
    }

    /// The URL a vendor reports the provider's calls to (`server.public_url`), with the first
    /// `callback_token`: as `?token=`, but in the path for Huawei, whose callback URLs may not
    /// hold `=`, and not at all for a Huawei provider with `callback_shared_key`, whose
    /// reports are signed instead.
    public func callbackURL(for provider: ProviderConfig) -> String? {
        guard let base = server.publicURL.map({ $0 + "/callbacks/" + provider.name }) else { return nil }
        guard let token = server.callbackToken else { return base }
        guard provider.type == .huaweiAICC else { return base + "?token=" + token }
        return provider.options["callback_shared_key"] == nil ? base + "/" + token : base
    }

    /// People a `notify:` list reaches, groups expanded, each person once, in order.
    public func expand(_ notify: [String]) -> [Recipient] {
        var seen = Set<String>()
        var result: [Recipient] = []
        for entry in notify {
            let names = entry.hasPrefix("group:") ? groups[String(entry.dropFirst(6))]?.members ?? [] : [entry]
            for name in names where seen.insert(name).inserted {
                if let person = recipients[name] { result.append(person) }
            }
        }
        return result
    }
}
