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
            return (params, warnings)
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
                warnings.append("voice \(voice.name), param \(index + 1) for \(provider.name): cut to \(VendorLimits.huaweiParamBytes) bytes (\"\(value)\")")
            }
            params[index] = value
        }
        return (params, warnings)
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
