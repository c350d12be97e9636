import KlaxonCore
import KlaxonIngest

extension RepositoryBuilder {
    // MARK: inputs

    func parseInput(name: String, node: ConfigNode, location: SourceLocation) -> InputConfig? {
        let what = "inputs.\(name)"
        guard let map = node.mapping(what, keys: ["type", "token", "basic_auth", "mapping"]) else { return nil }
        guard let typeNode = map.required("type"), let typeName = typeNode.string("\(what).type") else { return nil }
        guard let type = AlertSource.Kind(rawValue: typeName) else {
            let names = AlertSource.Kind.allCases.map(\.rawValue)
            context.error(
                typeNode.location,
                "\(what).type: unknown input type \"\(typeName)\"\(Suggestion.hint(for: typeName, in: names)); expected one of \(names.joined(separator: ", "))"
            )
            return nil
        }
        var input = InputConfig(
            name: name,
            type: type,
            tokens: map["token"]?.secretList("\(what).token").map { $0.map(\.0) } ?? [],
            location: location
        )
        if let authNode = map["basic_auth"], let auth = authNode.mapping("\(what).basic_auth", keys: ["username", "password"]) {
            if let user = auth.required("username")?.string("\(what).basic_auth.username"),
                let password = auth.required("password")?.secret("\(what).basic_auth.password")
            {
                input.basicAuth = InputConfig.BasicAuth(username: user, password: password)
            }
        }
        if type == .email {
            input.emailMapping = map["mapping"].flatMap { parseEmailMapping($0, what: "\(what).mapping") } ?? .default
        } else if let mappingNode = map["mapping"] {
            if type == .json {
                input.mapping = parseFieldMapping(mappingNode, what: "\(what).mapping")
            } else {
                context.error(mappingNode.location, "\(what).mapping: only inputs of type json or email take a mapping")
            }
        }
        return input
    }

    // MARK: providers

    func parseProvider(name: String, node: ConfigNode, location: SourceLocation) -> ProviderConfig? {
        let what = "providers.\(name)"
        guard let entries = node.entries(what) else { return nil }
        guard let typeEntry = entries.first(where: { $0.key == "type" }) else {
            context.error(node.location, "\(what): missing required key \"type\"")
            return nil
        }
        guard let typeName = typeEntry.value.string("\(what).type") else { return nil }
        guard let type = ProviderType(rawValue: typeName) else {
            let names = ProviderType.allCases.map(\.rawValue)
            context.error(
                typeEntry.value.location,
                "\(what).type: unknown provider type \"\(typeName)\"\(Suggestion.hint(for: typeName, in: names)); expected one of \(names.joined(separator: ", "))"
            )
            return nil
        }
        let schema = ProviderSchema.schema(for: type)
        guard let map = node.mapping(what, keys: ProviderSchema.commonKeys + schema.required + schema.optional + schema.maps) else {
            return nil
        }
        var provider = ProviderConfig(
            name: name,
            type: type,
            endpoint: nil,
            timeout: .seconds(10),
            retry: .default,
            apiVersion: nil,
            options: [:],
            maps: [:],
            location: location
        )
        if let endpointNode = map["endpoint"], let endpoint = endpointNode.string("\(what).endpoint") {
            if !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
                context.error(endpointNode.location, "\(what).endpoint: expected an http:// or https:// URL")
            }
            provider.endpoint = endpoint
        }
        if let timeoutNode = map["timeout"], let timeout = timeoutNode.duration("\(what).timeout") {
            if timeout <= .zero { context.error(timeoutNode.location, "\(what).timeout: must be longer than 0s") }
            provider.timeout = timeout
        }
        if let retryNode = map["retry"] { provider.retry = parseRetry(retryNode, what: "\(what).retry") }
        // Present with nothing after it (`access_key_secret:`) is missing too: otherwise the
        // file passed `check` and serve refused it without saying where.
        for key in schema.required where map[key] == nil {
            if let location = map.keyLocation(key) {
                context.error(location, "\(what).\(key): has no value; provider type \(type.rawValue) requires one")
            } else {
                context.error(node.location, "\(what): provider type \(type.rawValue) requires \"\(key)\"")
            }
        }
        for key in schema.required + schema.optional where !schema.maps.contains(key) && !schema.lists.contains(key) {
            let path = "\(what).\(key)"
            guard let valueNode = map[key], let value = schema.secrets.contains(key) ? valueNode.secret(path) : valueNode.string(path) else {
                continue
            }
            if let choices = schema.choices[key], !choices.contains(value) {
                context.error(valueNode.location, "\(what).\(key): \"\(value)\" is not one of \(choices.joined(separator: ", "))")
            }
            if let range = schema.integerRanges[key] {
                if let number = Int(value), range.contains(number) {
                } else {
                    context.error(valueNode.location, "\(what).\(key): expected an integer \(range.lowerBound)–\(range.upperBound), got \"\(value)\"")
                }
            }
            provider.options[key] = value
        }
        // Header values are read as secrets: `Authorization: Bearer ${CHAT_TOKEN}` with the
        // variable empty is an error, not a request every call of which gets 401.
        for key in schema.maps {
            guard let valueNode = map[key], let entries = valueNode.entries("\(what).\(key)") else { continue }
            var values: [String: String] = [:]
            for entry in entries {
                let path = "\(what).\(key).\(entry.key)"
                if let name = entry.value.variablesSetEmpty().first {
                    context.error(entry.value.location, "\(path): environment variable \(name) is empty; a credential needs a value")
                } else if let value = entry.value.secret(path) {
                    values[entry.key] = value
                }
            }
            provider.maps[key] = values
        }
        if type == .huaweiAICC { provider.apiVersion = provider.options["api_version"] ?? "v2" }
        if type == .aliyun, let prefix = provider.options["out_id_prefix"], let node = map["out_id_prefix"],
            prefix.utf8.count + CallID.length > ProviderSchema.aliyunOutIDLimit
        {
            let room = ProviderSchema.aliyunOutIDLimit - CallID.length
            context.error(
                node.location,
                "\(what).out_id_prefix: Aliyun's OutId holds at most \(ProviderSchema.aliyunOutIDLimit) bytes and klaxon's call id takes \(CallID.length), so the prefix may have at most \(room) bytes"
            )
        }
        if type == .webhook, let node = map["success_status"], let values = node.stringList("\(what).success_status") {
            for (value, item) in values where Int(value).map({ !(100...599).contains($0) }) ?? true {
                context.error(item.location, "\(what).success_status: \"\(value)\" is not an HTTP status code")
            }
            provider.options["success_status"] = values.map(\.0).joined(separator: ",")
        }
        if type == .webhook, let body = map["body"] {
            // The provider's own default content type is JSON.
            let json = (provider.options["content_type"] ?? "application/json").lowercased().contains("json")
            webhookBodies[name] = template(body, what: "\(what).body", extraVariables: ["recipients"], escaping: json ? .jsonString : .text)
        }
        return provider
    }

    private func parseRetry(_ node: ConfigNode, what: String) -> ProviderConfig.RetryConfig {
        var retry = ProviderConfig.RetryConfig.default
        guard let map = node.mapping(what, keys: ["attempts", "initial_backoff", "max_backoff"]) else { return retry }
        if let attempts = map["attempts"]?.int("\(what).attempts", in: 1...10) { retry.attempts = attempts }
        if let initial = map["initial_backoff"]?.duration("\(what).initial_backoff") { retry.initialBackoff = initial }
        if let maximum = map["max_backoff"]?.duration("\(what).max_backoff") { retry.maxBackoff = maximum }
        if retry.maxBackoff < retry.initialBackoff, let node = map["max_backoff"] {
            context.error(node.location, "\(what).max_backoff: must not be shorter than initial_backoff")
        }
        return retry
    }

    /// Parses a Mustache template at a node, reporting syntax errors and unknown names.
    func template(_ node: ConfigNode, what: String, extraVariables: [String] = [], escaping: ParamTemplate.Escaping = .text) -> ParamTemplate? {
        guard let text = node.string(what) else { return nil }
        let shift = node.isQuoted ? 1 : 0
        do {
            let template = try ParamTemplate(text, location: node.location, escaping: escaping)
            for (name, offset) in template.referencedNames {
                let root = String(name.prefix { $0 != "." })
                let known = ParamTemplate.variables + extraVariables
                if !known.contains(root) {
                    context.error(
                        node.location.advanced(by: offset + shift),
                        "\(what): unknown template variable \"\(name)\"\(Suggestion.hint(for: root, in: known)); use one of \(known.joined(separator: ", "))"
                    )
                }
            }
            return template
        } catch {
            let location =
                error.line == 1
                ? node.location.advanced(by: error.column - 1 + shift)
                : SourceLocation(file: node.location.file, line: node.location.line + error.line - 1, column: error.column)
            context.error(location, "\(what): \(error.message)")
            return nil
        }
    }
}
