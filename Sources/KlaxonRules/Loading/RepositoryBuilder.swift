import Foundation
import KlaxonCore

/// Turns the parsed YAML documents of one repository into typed values, merging files,
/// then checks every cross-reference. Each problem goes to the ``LoadContext``.
final class RepositoryBuilder {
    let context: LoadContext

    var server: (ServerConfig, SourceLocation)?
    var store: (String, SourceLocation)?
    var severities: (SeverityConfig, SourceLocation)?
    var inputs: [String: InputConfig] = [:]
    var providers: [ProviderConfig] = []
    var recipients: [String: Recipient] = [:]
    var groups: [String: RecipientGroup] = [:]
    var voices: [String: Voice] = [:]
    var escalations: [String: Escalation] = [:]
    var routes: [Route] = []
    /// Webhook providers' `body` templates by provider name.
    var webhookBodies: [String: ParamTemplate] = [:]
    /// Each input's `severity_map` values, checked against the levels once all files are read.
    var severityMapValues: [(value: String, location: SourceLocation, what: String)] = []
    /// Voice entries keyed by provider type or name, parsed once all providers are known.
    var pendingVoiceResources: [(voice: String, key: String, keyLocation: SourceLocation, node: ConfigNode)] = []
    /// Where each named thing was first defined, by kind, for "defined twice" errors.
    private var definitions: [String: [String: SourceLocation]] = [:]

    init(context: LoadContext) {
        self.context = context
    }

    /// Adds one file's top-level mapping.
    func add(_ root: ConfigNode) {
        guard let top = root.mapping("the top level", keys: RuleLoader.topLevelKeys) else { return }
        if let node = top["server"], let location = top.keyLocation("server"), defineOnce("server", at: location) {
            server = parseServer(node).map { ($0, location) }
        }
        if let node = top["store"], let location = top.keyLocation("store"), defineOnce("store", at: location) {
            store = parseStore(node).map { ($0, location) }
        }
        if let node = top["severities"], let location = top.keyLocation("severities"), defineOnce("severities", at: location) {
            severities = parseSeverities(node).map { ($0, location) }
        }
        if let node = top["inputs"] {
            forEachNamed(node, kind: "input") { name, location, value in
                if let input = parseInput(name: name, node: value, location: location) { inputs[name] = input }
            }
        }
        if let node = top["providers"] {
            forEachNamed(node, kind: "provider") { name, location, value in
                if let provider = parseProvider(name: name, node: value, location: location) { providers.append(provider) }
            }
        }
        if let node = top["recipients"] {
            forEachNamed(node, kind: "recipient") { name, location, value in
                if let person = parseRecipient(name: name, node: value, location: location) { recipients[name] = person }
            }
        }
        if let node = top["groups"] {
            forEachNamed(node, kind: "group") { name, location, value in
                if let members = value.stringList("groups.\(name)") {
                    groups[name] = RecipientGroup(
                        name: name,
                        members: members.map(\.0),
                        location: location,
                        memberLocations: members.map(\.1.location)
                    )
                }
            }
        }
        if let node = top["voices"] {
            forEachNamed(node, kind: "voice") { name, location, value in
                if let voice = parseVoice(name: name, node: value, location: location) { voices[name] = voice }
            }
        }
        if let node = top["escalations"] {
            forEachNamed(node, kind: "escalation") { name, location, value in
                if let chain = parseEscalation(name: name, node: value, location: location) { escalations[name] = chain }
            }
        }
        if let node = top["routes"], let items = node.sequence("routes") {
            let offset = routes.count
            for (index, item) in items.enumerated() {
                if let route = parseRoute(item, path: "routes[\(offset + index)]", parent: RouteSettings()) {
                    routes.append(route)
                }
            }
        }
    }

    func build(files: [String]) -> RuleRepository {
        resolveVoiceResources()
        let repository = RuleRepository(
            server: server?.0 ?? ServerConfig(),
            store: store?.0,
            inputs: inputs,
            providers: providers,
            recipients: recipients,
            groups: groups,
            voices: voices,
            severities: severities?.0 ?? SeverityConfig(),
            escalations: escalations,
            routes: routes,
            webhookBodies: webhookBodies,
            files: files
        )
        validate(repository)
        return repository
    }

    /// Records a definition; a second one is an error naming both places.
    @discardableResult
    func define(_ kind: String, _ name: String, at location: SourceLocation) -> Bool {
        if let first = definitions[kind]?[name] {
            context.error(location, "\(kind) \"\(name)\" is already defined at \(first)")
            return false
        }
        definitions[kind, default: [:]][name] = location
        return true
    }

    private func defineOnce(_ key: String, at location: SourceLocation) -> Bool {
        if let first = definitions["top-level key"]?[key] {
            context.error(location, "\"\(key)\" is already set at \(first); set it in one file only")
            return false
        }
        definitions["top-level key", default: [:]][key] = location
        return true
    }

    private func forEachNamed(_ node: ConfigNode, kind: String, _ body: (String, SourceLocation, ConfigNode) -> Void) {
        guard let entries = node.entries("\(kind)s") else { return }
        for entry in entries where define(kind, entry.key, at: entry.keyLocation) {
            if entry.key.isEmpty || entry.key.contains(where: { $0.isWhitespace }) {
                context.error(entry.keyLocation, "\(kind) name \"\(entry.key)\" must be non-empty and without spaces")
                continue
            }
            body(entry.key, entry.keyLocation, entry.value)
        }
    }

    // MARK: server, store

    private func parseServer(_ node: ConfigNode) -> ServerConfig? {
        let keys = ["listen", "body_limit", "api_token", "source_token", "public_url", "callback_token", "shutdown_timeout"]
        guard let map = node.mapping("server", keys: keys) else { return nil }
        var config = ServerConfig()
        if let listen = map["listen"], let text = listen.string("server.listen") {
            if Self.parseHostPort(text) == nil {
                context.error(listen.location, "server.listen: expected HOST:PORT, got \"\(text)\"")
            }
            config.listen = text
        }
        if let limit = map["body_limit"], let text = limit.string("server.body_limit") {
            if let bytes = Self.parseByteSize(text) {
                config.bodyLimit = bytes
            } else {
                context.error(limit.location, "server.body_limit: expected a size like 1MiB, 512KiB or 65536, got \"\(text)\"")
            }
        }
        if let node = map["shutdown_timeout"], let timeout = node.duration("server.shutdown_timeout") {
            if timeout <= .zero { context.error(node.location, "server.shutdown_timeout: must be longer than 0s") }
            config.shutdownTimeout = timeout
        }
        config.apiTokens = map["api_token"]?.secretList("server.api_token").map { $0.map(\.0) } ?? []
        config.sourceTokens = map["source_token"]?.secretList("server.source_token").map { $0.map(\.0) } ?? []
        config.publicURL = map["public_url"]?.string("server.public_url")
        let tokens = map["callback_token"]?.secretList("server.callback_token") ?? []
        // A token goes into the callback URLs given to vendors as it is: Huawei drops a URL
        // with other characters (no report would ever come), and `&`, `#` or `%` would cut or
        // change it on the way back.
        for (token, node) in tokens
        where !token.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.~".unicodeScalars.contains($0)) }) {
            context.error(
                node.location,
                "server.callback_token: use only letters, digits, '-', '_', '.' and '~' (it is sent in the callback URL as it is)"
            )
        }
        if let (token, node) = tokens.first, token.contains("~") {
            context.warning(
                node.location,
                "server.callback_token: Huawei refuses callback URLs with '~', so a huawei-aicc provider without callback_shared_key would get no status reports"
            )
        }
        config.callbackTokens = tokens.map(\.0)
        if let url = config.publicURL, let node = map["public_url"], !node.isUnresolvedInCheck,
            !(url.hasPrefix("http://") || url.hasPrefix("https://"))
        {
            context.error(node.location, "server.public_url: expected an http:// or https:// URL")
        }
        return config
    }

    private func parseStore(_ node: ConfigNode) -> String? {
        guard let text = node.string("store") else { return nil }
        if !node.isUnresolvedInCheck, !(text.hasPrefix("sqlite:") || text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")) {
            context.error(node.location, "store: expected sqlite:PATH or postgres://..., got \"\(text)\"")
        }
        return text
    }

    static func parseHostPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    static func parseByteSize(_ text: String) -> Int? {
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1000), ("MB", 1_000_000), ("B", 1)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let value = Int(text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), value > 0 else { return nil }
            return value * factor
        }
        guard let value = Int(text), value > 0 else { return nil }
        return value
    }

    // MARK: recipients

    private func parseRecipient(name: String, node: ConfigNode, location: SourceLocation) -> Recipient? {
        guard let map = node.mapping("recipients.\(name)", keys: ["phone", "timezone"]) else { return nil }
        guard let phoneNode = map.required("phone"), let phone = phoneNode.string("recipients.\(name).phone") else { return nil }
        if !phoneNode.isUnresolvedInCheck, !PhoneNumber.isE164(phone) {
            context.error(phoneNode.location, "recipients.\(name).phone: expected an E.164 number like +8613700000000")
        }
        var timezone: String?
        if let node = map["timezone"], let zone = node.string("recipients.\(name).timezone") {
            if !TimeZoneCheck.isKnown(zone) {
                context.error(node.location, "recipients.\(name).timezone: unknown timezone \"\(zone)\"")
            }
            timezone = zone
        }
        return Recipient(name: name, phone: phone, timezone: timezone, location: location)
    }

    // MARK: escalations

    private func parseEscalation(name: String, node: ConfigNode, location: SourceLocation) -> Escalation? {
        let what = "escalations.\(name)"
        guard let map = node.mapping(what, keys: ["steps", "repeat", "repeat_after", "stop_on"]) else { return nil }
        var steps: [EscalationStep] = []
        if let stepsNode = map.required("steps"), let items = stepsNode.sequence("\(what).steps") {
            if items.isEmpty { context.error(stepsNode.location, "\(what).steps: an escalation needs at least one step") }
            for (index, item) in items.enumerated() {
                let stepWhat = "\(what).steps[\(index)]"
                guard let step = item.mapping(stepWhat, keys: ["after", "notify"]) else { continue }
                let after = step["after"].flatMap { $0.duration("\(stepWhat).after") } ?? .zero
                var notify: [(String, ConfigNode)] = []
                if let notifyNode = step.required("notify"), let entries = notifyNode.stringList("\(stepWhat).notify") {
                    notify = entries
                    if notify.isEmpty { context.error(notifyNode.location, "\(stepWhat).notify: a step must call someone") }
                }
                steps.append(
                    EscalationStep(
                        after: after,
                        notify: notify.map(\.0),
                        location: item.location,
                        afterLocation: step["after"]?.location ?? item.location,
                        notifyLocations: notify.map(\.1.location)
                    )
                )
            }
        }
        for index in steps.indices.dropFirst() where steps[index].after <= steps[index - 1].after {
            context.error(
                steps[index].afterLocation,
                "\(what).steps[\(index)].after: \(DurationParser.format(steps[index].after)) must be later than the step before it (\(DurationParser.format(steps[index - 1].after)))"
            )
        }
        let repeatCount = map["repeat"]?.int("\(what).repeat", in: 0...100) ?? 0
        let repeatAfter = map["repeat_after"]?.duration("\(what).repeat_after") ?? .seconds(300)
        if let node = map["repeat_after"], repeatAfter <= .zero {
            context.error(node.location, "\(what).repeat_after: must be longer than 0s")
        }
        var stopOn: Set<Escalation.StopCondition> = [.ack, .resolve]
        if let node = map["stop_on"], let entries = node.stringList("\(what).stop_on") {
            for (value, item) in entries {
                if let condition = Escalation.StopCondition(rawValue: value) {
                    stopOn.insert(condition)
                } else {
                    let names = Escalation.StopCondition.allCases.map(\.rawValue)
                    context.error(
                        item.location,
                        "\(what).stop_on: unknown condition \"\(value)\"\(Suggestion.hint(for: value, in: names)); expected one of \(names.joined(separator: ", "))"
                    )
                }
            }
        }
        return Escalation(name: name, steps: steps, repeatCount: repeatCount, repeatAfter: repeatAfter, stopOn: stopOn, location: location)
    }

    // MARK: severities

    private func parseSeverities(_ node: ConfigNode) -> SeverityConfig? {
        guard let map = node.mapping("severities", keys: ["label", "default", "levels"]) else { return nil }
        let label = map["label"]?.string("severities.label") ?? "severity"
        let defaultLevel = map["default"]?.string("severities.default")
        var levels: [SeverityLevel] = []
        var aliasOwners: [String: (String, SourceLocation)] = [:]
        if let levelsNode = map["levels"], let entries = levelsNode.entries("severities.levels") {
            // A level's name is matched like an alias (case-insensitively), so neither another
            // level's name nor an alias may take it: the later one would win the lookup, and
            // `warning` could turn into a level that drops.
            var nameOwners: [String: (String, SourceLocation)] = [:]
            for entry in entries {
                if let (owner, place) = nameOwners[entry.key.lowercased()] {
                    context.error(
                        entry.keyLocation,
                        "severities.levels.\(entry.key): level \"\(owner)\" at \(place) has the same name (values are matched case-insensitively)"
                    )
                } else {
                    nameOwners[entry.key.lowercased()] = (entry.key, entry.keyLocation)
                }
            }
            for entry in entries {
                let what = "severities.levels.\(entry.key)"
                guard let level = entry.value.mapping(what, keys: ["aliases", "priority", "escalation", "voice", "providers", "drop"])
                else { continue }
                var aliases: [String] = []
                for (alias, item) in level["aliases"]?.stringList("\(what).aliases") ?? [] {
                    if let (owner, place) = nameOwners[alias.lowercased()], owner != entry.key {
                        context.error(item.location, "\(what).aliases: \"\(alias)\" is the name of level \"\(owner)\" at \(place)")
                    }
                    if let (owner, place) = aliasOwners[alias.lowercased()], owner != entry.key {
                        context.error(item.location, "\(what).aliases: \"\(alias)\" already belongs to level \"\(owner)\" at \(place)")
                    }
                    aliasOwners[alias.lowercased()] = (entry.key, item.location)
                    aliases.append(alias)
                }
                levels.append(
                    SeverityLevel(
                        name: entry.key,
                        aliases: aliases,
                        priority: level["priority"]?.int("\(what).priority", in: 1...9),
                        escalation: level["escalation"]?.string("\(what).escalation"),
                        voice: level["voice"]?.string("\(what).voice"),
                        providers: level["providers"]?.stringList("\(what).providers")?.map(\.0),
                        drop: level["drop"]?.bool("\(what).drop") ?? false,
                        location: entry.keyLocation
                    )
                )
            }
        }
        if let defaultLevel, let node = map["default"], !levels.contains(where: { $0.name == defaultLevel }) {
            context.error(
                node.location,
                "severities.default: no level named \"\(defaultLevel)\"\(Suggestion.hint(for: defaultLevel, in: levels.map(\.name)))"
            )
        }
        return SeverityConfig(label: label, defaultLevel: defaultLevel, levels: levels)
    }
}
