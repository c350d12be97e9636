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

    /// Params for one provider, cut to its vendor's limits, with a warning per cut.
    public static func render(_ voice: Voice, for provider: ProviderConfig, context: [String: Any]) -> (params: [String], warnings: [String]) {
        var params = voice.params.map { $0.render(context) }
        var warnings: [String] = []
        guard provider.type == .huaweiAICC else { return (params, warnings) }
        if provider.apiVersion == "v1" {
            return (params, huaweiV1VoiceContent(voice, for: provider, context: context).warnings)
        }
        if case .huaweiAICC(let playList) = voice.resource(for: provider) {
            for case .template(_, let own?) in playList { params = own.map { $0.render(context) } }
        }
        for index in params.indices {
            var value = params[index]
            if value.contains(where: { "${}".contains($0) }) {
                value.removeAll { "${}".contains($0) }
                warnings.append("voice \(voice.name), param \(index + 1) for \(provider.name): removed $, { and } (Huawei V2 refuses them)")
            }
            if value.utf8.count > VendorLimits.huaweiParamBytes {
                value = truncate(value, toBytes: VendorLimits.huaweiParamBytes)
                warnings.append(
                    "voice \(voice.name), param \(index + 1) for \(provider.name): cut to \(VendorLimits.huaweiParamBytes) bytes (\"\(value)\")"
                )
            }
            params[index] = value
        }
        return (params, warnings)
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
        func length() -> Int { tokens.reduce(0) { $0 + $1.text.count + ($1.isText ? 2 : 0) } + max(0, tokens.count - 1) }
        var excess = length() - VendorLimits.huaweiV1VoiceContent
        if excess > 0 {
            warnings.append("voice \(voice.name) for \(provider.name): voiceContent cut to \(VendorLimits.huaweiV1VoiceContent) characters")
            for index in tokens.indices.reversed() where excess > 0 && tokens[index].isText {
                let keep = max(0, tokens[index].text.count - excess)
                excess -= tokens[index].text.count - keep
                tokens[index].text = String(tokens[index].text.prefix(keep))
            }
            tokens.removeAll { $0.isText && $0.text.isEmpty }
        }
        let content = tokens.map { $0.isText ? "$\($0.text)$" : $0.text }.joined(separator: "~")
        return (content, warnings)
    }

    /// The longest prefix of whole characters within `limit` UTF-8 bytes.
    public static func truncate(_ value: String, toBytes limit: Int) -> String {
        var bytes = 0
        var result = ""
        for character in value {
            let size = character.utf8.count
            if bytes + size > limit { break }
            bytes += size
            result.append(character)
        }
        return result
    }
}
