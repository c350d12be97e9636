import Foundation
import KlaxonCore
import KlaxonIngest

/// Renders a voice's templates over an alert and fits the results to each vendor's limits.
///
/// Limits are enforced by cutting, with a warning: a page with a shortened parameter beats
/// a page refused by the vendor.
public enum ParamRenderer {
    /// The values a template can name (see ``ParamTemplate/variables``).
    public static func context(for alert: Alert, severity: String, count: Int, route: String) -> [String: Any] {
        var context: [String: Any] = [
            "labels": alert.labels.storage,
            "annotations": alert.annotations.storage,
            "severity": severity,
            "status": alert.status.rawValue,
            "count": count,
            "fingerprint": alert.fingerprint,
            "route": route,
        ]
        if let startsAt = alert.startsAt { context["startsAt"] = RFC3339.format(startsAt) }
        if let endsAt = alert.endsAt { context["endsAt"] = RFC3339.format(endsAt) }
        if let url = alert.externalURL { context["externalURL"] = url }
        if let url = alert.generatorURL { context["generatorURL"] = url }
        return context
    }

    /// What one provider plays for a voice, rendered over an alert and cut to the vendor's
    /// limits, with a warning per cut; nil when the voice has nothing for this provider.
    /// `params` replaces the voice's own params when given (`klaxon call --param`).
    public static func render(
        _ voice: Voice,
        for provider: ProviderConfig,
        context: [String: Any],
        params explicit: [String]? = nil
    ) -> RenderedVoice? {
        var params = explicit ?? voice.params.map { $0.render(context) }
        let text = voice.text?.render(context)
        var warnings: [String] = []
        let prompt: VoicePrompt
        switch (provider.type, voice.resource(for: provider)) {
        case (.aliyun, .aliyun(let voiceCode, let ttsCode, let ttsParams)?):
            if let ttsCode {
                var named: [String: String] = [:]
                for (name, template) in ttsParams { named[name] = template.render(context) }
                prompt = .aliyunTTS(ttsCode: ttsCode, params: named)
            } else {
                prompt = .aliyunVoice(voiceCode: voiceCode ?? "")
            }
        case (.huaweiAICC, .huaweiAICC?) where provider.apiVersion == "v1":
            let (content, cut) = huaweiV1VoiceContent(voice, for: provider, context: context)
            warnings += cut
            prompt = .huaweiV1(voiceContent: content)
        case (.huaweiAICC, .huaweiAICC(let playList)?):
            var entries: [HuaweiPlayEntry] = []
            for item in playList {
                switch item {
                case .voiceID(let id): entries.append(.voiceID(id))
                case .voiceFileName(let name): entries.append(.voiceFileName(name))
                case .template(let id, let own):
                    let values = explicit ?? (own ?? voice.params).map { $0.render(context) }
                    let (fitted, cut) = fitHuaweiV2(values, voice: voice.name, provider: provider.name)
                    warnings += cut
                    params = fitted
                    entries.append(.template(id: id, params: fitted))
                case .text:
                    break  // refused by `check` for V2
                }
            }
            prompt = .huaweiAICC(playList: entries)
        case (.bitel, .bitel(let id)?):
            prompt = .bitel(voiceID: id)
        case (.infin8linx, .infin8linx(let file, let type)?):
            prompt = .infin8linx(voiceFile: file, voiceType: type)
        case (.webhook, _), (.simulator, _):
            prompt = .text(text ?? params.joined(separator: ", "))
        default:
            return nil
        }
        return RenderedVoice(prompt: prompt, params: params, text: text, warnings: warnings)
    }

    /// A webhook provider's `body` rendered over the alert and the step's recipients
    /// (`{{#recipients}}{{name}} {{phone}}{{/recipients}}`); nil without a template.
    public static func webhookBody(_ template: ParamTemplate?, context: [String: Any], recipients: [CallRecipient]) -> String? {
        guard let template else { return nil }
        var context = context
        context["recipients"] = recipients.map { ["name": $0.name, "phone": $0.phone] }
        return template.render(context)
    }

    /// Huawei V2 template params: `$ { }` removed and each cut to 32 bytes.
    static func fitHuaweiV2(_ values: [String], voice: String, provider: String) -> ([String], [String]) {
        var warnings: [String] = []
        let fitted = values.enumerated().map { index, original in
            var value = original
            if value.contains(where: { "${}".contains($0) }) {
                value.removeAll { "${}".contains($0) }
                warnings.append("voice \(voice), param \(index + 1) for \(provider): removed $, { and } (Huawei V2 refuses them)")
            }
            if value.utf8.count > VendorLimits.huaweiParamBytes {
                value = truncate(value, toBytes: VendorLimits.huaweiParamBytes)
                warnings.append("voice \(voice), param \(index + 1) for \(provider): cut to \(VendorLimits.huaweiParamBytes) bytes (\"\(value)\")")
            }
            return value
        }
        return (fitted, warnings)
    }

    /// Huawei V1's `voiceContent`: the play list's voice ids and `$text$` segments joined by
    /// `~`. `~` and `$` inside rendered text would break the format and are removed; when the
    /// whole is over 1000 characters, text segments are cut from the last one backwards.
    public static func huaweiV1VoiceContent(
        _ voice: Voice,
        for provider: ProviderConfig,
        context: [String: Any]
    ) -> (content: String, warnings: [String]) {
        guard case .huaweiAICC(let playList) = voice.resource(for: provider) else { return ("", []) }
        var warnings: [String] = []
        var tokens: [(text: String, isText: Bool)] = []
        for item in playList {
            switch item {
            case .voiceID(let id), .voiceFileName(let id):
                tokens.append((id, false))
            case .text(let template):
                var text = template.render(context)
                if text.contains(where: { $0 == "~" || $0 == "$" }) {
                    text.removeAll { $0 == "~" || $0 == "$" }
                    warnings.append("voice \(voice.name) for \(provider.name): removed ~ and $ from spoken text (Huawei V1 uses them as separators)")
                }
                tokens.append((text, true))
            case .template:
                break
            }
        }
        // In UTF-16 units, as Huawei's Java counts a string's length: an emoji is two.
        func length() -> Int { tokens.reduce(0) { $0 + $1.text.utf16.count + ($1.isText ? 2 : 0) } + max(0, tokens.count - 1) }
        var excess = length() - VendorLimits.huaweiV1VoiceContent
        if excess > 0 {
            warnings.append("voice \(voice.name) for \(provider.name): voiceContent cut to \(VendorLimits.huaweiV1VoiceContent) characters")
            for index in tokens.indices.reversed() where excess > 0 && tokens[index].isText {
                let text = tokens[index].text
                let kept = truncate(text, toUTF16: max(0, text.utf16.count - excess))
                excess -= text.utf16.count - kept.utf16.count
                tokens[index].text = kept
            }
            tokens.removeAll { $0.isText && $0.text.isEmpty }
        }
        let content = tokens.map { $0.isText ? "$\($0.text)$" : $0.text }.joined(separator: "~")
        return (content, warnings)
    }

    /// The longest prefix of whole characters within `limit` UTF-16 units.
    static func truncate(_ value: String, toUTF16 limit: Int) -> String {
        prefix(of: value, within: limit) { $0.utf16.count }
    }

    /// The longest prefix of whole characters within `limit` UTF-8 bytes.
    public static func truncate(_ value: String, toBytes limit: Int) -> String {
        prefix(of: value, within: limit) { $0.utf8.count }
    }

    private static func prefix(of value: String, within limit: Int, size: (Character) -> Int) -> String {
        var used = 0
        var result = ""
        for character in value {
            used += size(character)
            if used > limit { break }
            result.append(character)
        }
        return result
    }
}
