import KlaxonCore

extension RepositoryBuilder {
    func parseVoice(name: String, node: ConfigNode, location: SourceLocation) -> Voice? {
        let what = "voices.\(name)"
        guard let entries = node.entries(what) else { return nil }
        var voice = Voice(name: name, params: [], text: nil, resources: [:], location: location)
        for entry in entries {
            switch entry.key {
            case "text":
                voice.text = template(entry.value, what: "\(what).text")
            case "params":
                voice.params =
                    entry.value.sequence("\(what).params")?.enumerated().compactMap { index, item in
                        template(item, what: "\(what).params[\(index)]")
                    } ?? []
            default:
                // A provider type or a provider name; providers may come from a later file.
                pendingVoiceResources.append((name, entry.key, entry.keyLocation, entry.value))
            }
        }
        return voice
    }

    /// Resolves each voice's per-provider entries once every provider is known.
    func resolveVoiceResources() {
        let typeNames = ProviderType.allCases.map(\.rawValue)
        for (voiceName, key, keyLocation, node) in pendingVoiceResources {
            let what = "voices.\(voiceName).\(key)"
            let type = providers.first(where: { $0.name == key })?.type ?? ProviderType(rawValue: key)
            guard let type else {
                let candidates = ["text", "params"] + typeNames + providers.map(\.name)
                context.error(
                    keyLocation,
                    "unknown key \"\(key)\" in voices.\(voiceName): not a provider type or a provider name\(Suggestion.hint(for: key, in: candidates))"
                )
                continue
            }
            if let resource = parseVoiceResource(node, type: type, what: what) {
                voices[voiceName]?.resources[key] = resource
            }
        }
    }

    private func parseVoiceResource(_ node: ConfigNode, type: ProviderType, what: String) -> VoiceResource? {
        switch type {
        case .aliyun:
            guard let map = node.mapping(what, keys: ["voice_code", "tts_code", "tts_params"]) else { return nil }
            let voiceCode = map["voice_code"]?.string("\(what).voice_code")
            let ttsCode = map["tts_code"]?.string("\(what).tts_code")
            if (voiceCode == nil) == (ttsCode == nil) {
                context.error(node.location, "\(what): set exactly one of voice_code (SingleCallByVoice) or tts_code (SingleCallByTts)")
                return nil
            }
            var ttsParams: [(name: String, template: ParamTemplate)] = []
            if let paramsNode = map["tts_params"] {
                if ttsCode == nil { context.error(paramsNode.location, "\(what).tts_params: only a tts_code template takes parameters") }
                for entry in paramsNode.entries("\(what).tts_params") ?? [] {
                    if let template = template(entry.value, what: "\(what).tts_params.\(entry.key)") {
                        ttsParams.append((entry.key, template))
                    }
                }
            }
            return .aliyun(voiceCode: voiceCode, ttsCode: ttsCode, ttsParams: ttsParams)
        case .huaweiAICC:
            let itemKeys = ["voice_id", "voice_file_name", "template_id", "params", "text"]
            guard let map = node.mapping(what, keys: itemKeys + ["play_list"]) else { return nil }
            if let listNode = map["play_list"] {
                if map.values.count > 1 {
                    context.error(node.location, "\(what): use either play_list or one voice_id / voice_file_name / template_id / text")
                }
                guard let items = listNode.sequence("\(what).play_list") else { return nil }
                let playList = items.enumerated().compactMap { index, item -> HuaweiPlayItem? in
                    let itemWhat = "\(what).play_list[\(index)]"
                    guard let itemMap = item.mapping(itemWhat, keys: itemKeys) else { return nil }
                    return parseHuaweiItem(itemMap, what: itemWhat)
                }
                return .huaweiAICC(playList: playList)
            }
            return parseHuaweiItem(map, what: what).map { .huaweiAICC(playList: [$0]) }
        case .bitel:
            guard let map = node.mapping(what, keys: ["voice_id"]) else { return nil }
            guard let idNode = map.required("voice_id"), let id = idNode.string("\(what).voice_id") else { return nil }
            if id.count != 32 || !id.allSatisfy(\.isHexDigit) {
                context.warning(idNode.location, "\(what).voice_id: Bitel voice ids are 32 hex digits")
            }
            return .bitel(voiceID: id)
        case .infin8linx:
            guard let map = node.mapping(what, keys: ["voice_file", "voice_type"]) else { return nil }
            guard let fileNode = map.required("voice_file"), let file = fileNode.string("\(what).voice_file") else { return nil }
            var voiceType = file.hasPrefix("http://") || file.hasPrefix("https://") ? 2 : 1
            if let typeNode = map["voice_type"], let value = typeNode.string("\(what).voice_type") {
                switch value {
                case "1", "file": voiceType = 1
                case "2", "url": voiceType = 2
                default: context.error(typeNode.location, "\(what).voice_type: expected file (1) or url (2), got \"\(value)\"")
                }
            }
            if voiceType == 1 && !(1...64).contains(file.count) {
                context.error(fileNode.location, "\(what).voice_file: an uploaded file name has 1–64 characters")
            }
            return .infin8linx(voiceFile: file, voiceType: voiceType)
        case .webhook, .simulator:
            if !node.isNull { _ = node.mapping(what, keys: []) }
            return VoiceResource.none
        }
    }

    private func parseHuaweiItem(_ map: MappingReader, what: String) -> HuaweiPlayItem? {
        let kinds = ["voice_id", "voice_file_name", "template_id", "text"].filter { map.has($0) }
        guard kinds.count == 1, let kind = kinds.first, let valueNode = map[kind] else {
            context.error(map.node.location, "\(what): set exactly one of voice_id, voice_file_name, template_id or text")
            return nil
        }
        if let params = map["params"], kind != "template_id" {
            context.error(params.location, "\(what).params: only a template_id entry takes params")
        }
        switch kind {
        case "voice_id": return valueNode.string("\(what).voice_id").map { .voiceID($0) }
        case "voice_file_name": return valueNode.string("\(what).voice_file_name").map { .voiceFileName($0) }
        case "text": return template(valueNode, what: "\(what).text").map { .text($0) }
        default:
            guard let id = valueNode.string("\(what).template_id") else { return nil }
            let params = map["params"]?.sequence("\(what).params")?.enumerated().compactMap { index, item in
                template(item, what: "\(what).params[\(index)]")
            }
            return .template(id: id, params: params)
        }
    }
}
