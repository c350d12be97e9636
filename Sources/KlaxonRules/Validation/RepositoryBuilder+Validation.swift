import KlaxonCore

/// Vendor limits `check` can know before any alert arrives (VENDORS.md).
enum VendorLimits {
    static let huaweiPlayList = 1...5
    static let huaweiTemplateParams = 1...10
    static let huaweiParamBytes = 32
    static let huaweiV1VoiceContent = 1000
}

extension RepositoryBuilder {
    func validate(_ repository: RuleRepository) {
        // A mapped value no level claims takes the default level: `disaster: critcal` would
        // send every disaster to the default's escalation, quiet hours and all.
        if !repository.severities.levels.isEmpty {
            let names = repository.severities.levels.map(\.name)
            for (value, location, what) in severityMapValues where !repository.severities.claims(value) {
                context.error(
                    location,
                    "\(what): no severity level \"\(value)\"\(Suggestion.hint(for: value, in: names)); use one of \(names.joined(separator: ", ")) or an alias"
                )
            }
        }
        let people = Array(recipients.keys)
        for group in groups.values.sorted(by: { $0.location < $1.location }) {
            for (index, member) in group.members.enumerated() where recipients[member] == nil {
                let location = group.memberLocations.indices.contains(index) ? group.memberLocations[index] : group.location
                context.error(location, "groups.\(group.name): no recipient named \"\(member)\"\(Suggestion.hint(for: member, in: people))")
            }
            if group.members.isEmpty { context.error(group.location, "groups.\(group.name): a group needs at least one member") }
        }
        for chain in escalations.values.sorted(by: { $0.location < $1.location }) {
            for (index, step) in chain.steps.enumerated() {
                for (target, location) in zip(step.notify, step.notifyLocations) {
                    checkNotifyTarget(target, at: location, what: "escalations.\(chain.name).steps[\(index)].notify")
                }
            }
        }
        let severityConfig = severities?.0 ?? SeverityConfig()
        for level in severityConfig.levels {
            let what = "severities.levels.\(level.name)"
            checkReference(level.escalation, in: Array(escalations.keys), kind: "escalation", at: level.location, what: what)
            checkReference(level.voice, in: Array(voices.keys), kind: "voice", at: level.location, what: what)
            for name in level.providers ?? [] {
                checkReference(name, in: providers.map(\.name), kind: "provider", at: level.location, what: what)
            }
        }
        if routes.isEmpty, let first = repository.files.first {
            context.warning(SourceLocation(file: first, line: 1, column: 1), "no routes: no alert will ever page anyone")
        } else if let last = routes.last, !routes.contains(where: { $0.matchers.isEmpty && $0.severities == nil }) {
            // A label mistyped at the source then loses the page; klaxon counts such alerts
            // (klaxon_alerts_unrouted_total), but a catch-all route calls someone.
            context.warning(
                last.location,
                "routes: none takes every alert (a last route without match, matchers or severities): an alert no route matches calls nobody"
            )
        }
        var checkedPairs = Set<String>()
        forEachRoute(routes) { route in validate(route, severities: severityConfig, checkedPairs: &checkedPairs) }
        warnAboutShadowedRoutes(routes)
    }

    /// A route after a sibling that takes every alert without `continue: true` never
    /// matches: the first match wins, as in Alertmanager.
    private func warnAboutShadowedRoutes(_ siblings: [Route]) {
        if let index = siblings.firstIndex(where: { $0.matchers.isEmpty && $0.severities == nil && !$0.continue }) {
            let catchAll = siblings[index]
            for route in siblings[(index + 1)...] {
                let what = route.name == route.path ? route.path : "route \"\(route.name)\""
                let before = catchAll.name == catchAll.path ? catchAll.path : "route \"\(catchAll.name)\""
                context.warning(
                    route.location,
                    "\(what): never matches: \(before) before it takes every alert and has no continue: true"
                )
            }
        }
        for route in siblings { warnAboutShadowedRoutes(route.routes) }
    }

    private func forEachRoute(_ routes: [Route], _ body: (Route) -> Void) {
        for route in routes {
            body(route)
            forEachRoute(route.routes, body)
        }
    }

    private func validate(_ route: Route, severities: SeverityConfig, checkedPairs: inout Set<String>) {
        let what = route.name == route.path ? route.path : "route \"\(route.name)\""
        let settings = route.settings
        func at(_ key: String) -> SourceLocation { route.keyLocations[key] ?? route.location }
        checkReference(settings.voice, in: Array(voices.keys), kind: "voice", at: at("voice"), what: what)
        checkReference(settings.escalation, in: Array(escalations.keys), kind: "escalation", at: at("escalation"), what: what)
        for name in settings.providers ?? [] {
            checkReference(name, in: providers.map(\.name), kind: "provider", at: at("providers"), what: what)
        }
        if let list = settings.providers {
            if list.isEmpty { context.error(at("providers"), "\(what).providers: name at least one provider") }
            if Set(list).count != list.count { context.error(at("providers"), "\(what).providers: a provider is listed twice") }
        }
        for level in route.severities ?? [] where severities.level(named: level) == nil {
            context.error(
                at("severities"),
                "\(what).severities: no severity level named \"\(level)\"\(Suggestion.hint(for: level, in: severities.levels.map(\.name)))"
            )
        }
        if route.effective.drop == true { return }
        if settings.quietHours != nil || settings.activeHours != nil, !route.effective.leavesTimeToCall {
            context.error(
                at(settings.activeHours != nil ? "active_hours" : "quiet_hours"),
                "\(what): quiet_hours and active_hours leave no minute of the week to call in: every step would be "
                    + "\([route.effective.quietHours, route.effective.activeHours].contains { $0?.action == .skip } ? "skipped" : "held forever")"
            )
        }

        // Every way an alert can reach this route must end with an escalation, a voice and providers.
        let levels = (route.severities ?? severities.levels.map(\.name)).compactMap { severities.level(named: $0) }.filter { !$0.drop }
        let coversUnknown = route.severities == nil && severities.defaultLevel == nil
        let requirements: [(String, String?, (SeverityLevel) -> String?)] = [
            ("escalation", route.effective.escalation, { $0.escalation }),
            ("voice", route.effective.voice, { $0.voice }),
            ("providers", route.effective.providers?.first, { $0.providers?.first }),
        ]
        for (setting, own, fromLevel) in requirements where own == nil {
            if coversUnknown {
                context.error(
                    route.location,
                    "\(what) sets no \(setting) and inherits none; alerts whose severity is not a configured level would page nobody (set \(setting) here, on a parent route, or set severities.default)"
                )
            } else if let level = levels.first(where: { fromLevel($0) == nil }) {
                context.error(route.location, "\(what) sets no \(setting) and severity level \"\(level.name)\" sets none either")
            }
        }

        // Each voice the route can use must have what each provider it is played through
        // plays: per severity level (a level's voice goes only to that level's providers),
        // and as the route itself sets them for a severity no level claims.
        var uses = levels.map { (voice: route.effective.voice ?? $0.voice, providers: route.effective.providers ?? $0.providers ?? []) }
        if coversUnknown || levels.isEmpty { uses.append((route.effective.voice, route.effective.providers ?? [])) }
        var pairs = Set<[String]>()
        for use in uses {
            guard let voiceName = use.voice else { continue }
            for providerName in use.providers { pairs.insert([voiceName, providerName]) }
        }
        for pair in pairs.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            guard let voice = voices[pair[0]], let provider = providers.first(where: { $0.name == pair[1] }) else { continue }
            guard checkedPairs.insert("\(pair[0])\u{0}\(pair[1])").inserted else { continue }
            checkVoice(voice, for: provider, usedBy: route, what: what)
        }
    }

    private func checkVoice(_ voice: Voice, for provider: ProviderConfig, usedBy route: Route, what: String) {
        let resource = voice.resource(for: provider)
        switch provider.type {
        case .webhook, .simulator:
            return
        case .aliyun, .bitel, .infin8linx:
            if resource == nil {
                context.error(
                    voice.location,
                    "voices.\(voice.name) has no \(provider.type.rawValue) entry, but \(what) calls it through provider \"\(provider.name)\" (type \(provider.type.rawValue))"
                )
            }
        case .huaweiAICC:
            guard case .huaweiAICC(let playList) = resource else {
                context.error(
                    voice.location,
                    "voices.\(voice.name) has no huawei-aicc entry, but \(what) calls it through provider \"\(provider.name)\" (type huawei-aicc)"
                )
                return
            }
            checkHuawei(voice, playList: playList, provider: provider)
        }
    }

    private func checkHuawei(_ voice: Voice, playList: [HuaweiPlayItem], provider: ProviderConfig) {
        let what = "voices.\(voice.name) for provider \"\(provider.name)\""
        if provider.apiVersion == "v1" {
            if playList.isEmpty {
                context.error(voice.location, "\(what): nothing to play; Huawei V1 needs a voice_id or text")
            }
            var length = 0
            for item in playList {
                switch item {
                case .voiceID(let id): length += id.utf16.count + 1
                case .voiceFileName:
                    // Document 002: voiceContent holds voice ids and $text$ only.
                    context.error(voice.location, "\(what): Huawei V1 plays voice ids and text only; voice_file_name is V2's (use voice_id)")
                case .text(let text): length += text.literalText.utf16.count + 3
                case .template:
                    context.error(voice.location, "\(what): Huawei V1 has no TTS templates; use voice_id and text entries")
                }
            }
            if length - 1 > VendorLimits.huaweiV1VoiceContent {
                context.error(
                    voice.location,
                    "\(what): voiceContent would be \(length - 1) characters before any parameter is filled in; Huawei V1 takes at most \(VendorLimits.huaweiV1VoiceContent)"
                )
            }
            return
        }
        if !VendorLimits.huaweiPlayList.contains(playList.count) {
            context.error(voice.location, "\(what): playList has \(playList.count) entries; Huawei V2 takes 1–5")
        }
        for item in playList {
            switch item {
            case .text:
                context.error(voice.location, "\(what): Huawei V2 has no inline text; use a template_id with params")
            case .template(_, let own):
                let params = own ?? voice.params
                if params.count > VendorLimits.huaweiTemplateParams.upperBound {
                    context.error(
                        voice.location,
                        "\(what): \(params.count) template params; Huawei V2 takes at most \(VendorLimits.huaweiTemplateParams.upperBound)"
                    )
                }
                for param in params where param.literalText.utf8.count > VendorLimits.huaweiParamBytes {
                    context.error(
                        param.location,
                        "\(what): this param is at least \(param.literalText.utf8.count) bytes; Huawei V2 takes at most \(VendorLimits.huaweiParamBytes) per param"
                    )
                }
                for param in params where param.literalText.contains(where: { "${}".contains($0) }) {
                    context.error(param.location, "\(what): Huawei V2 params must not contain $, { or }")
                }
            case .voiceID, .voiceFileName:
                break
            }
        }
    }

    private func checkNotifyTarget(_ target: String, at location: SourceLocation, what: String) {
        if target.hasPrefix("group:") {
            let name = String(target.dropFirst(6))
            if groups[name] == nil {
                context.error(location, "\(what): no group named \"\(name)\"\(Suggestion.hint(for: name, in: groups.keys))")
            }
        } else if recipients[target] == nil {
            let hint = groups[target] != nil ? " (a group: write \"group:\(target)\")" : Suggestion.hint(for: target, in: recipients.keys)
            context.error(location, "\(what): no recipient named \"\(target)\"\(hint)")
        }
    }

    private func checkReference(_ name: String?, in names: [String], kind: String, at location: SourceLocation, what: String) {
        guard let name, !names.contains(name) else { return }
        context.error(location, "\(what): no \(kind) named \"\(name)\"\(Suggestion.hint(for: name, in: names))")
    }
}
