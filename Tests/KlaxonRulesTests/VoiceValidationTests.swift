import Foundation
import KlaxonRules
import Testing

@Suite struct VoiceValidationTests {
    static func rules(voice: String, provider: String) -> String {
        """
        providers:
        \(provider)
        recipients:
          alice: {phone: "+8613700000001"}
        voices:
          v:
        \(voice)
        escalations:
          primary:
            steps: [{after: 0s, notify: [alice]}]
        routes:
          - voice: v
            escalation: primary
            providers: [p]
        """
    }

    static let huaweiV2 = "  p: {type: huawei-aicc, app_key: k, app_secret: s}"
    static let huaweiV1 = "  p: {type: huawei-aicc, app_key: k, app_secret: s, api_version: v1}"

    @Test func huaweiV2TakesAtMostTenParams() {
        let params = (1...11).map { "\"p\($0)\"" }.joined(separator: ", ")
        let lines = errorLines(Self.rules(voice: "    params: [\(params)]\n    huawei-aicc: {template_id: t}", provider: Self.huaweiV2))
        #expect(lines.contains { $0.contains("11 template params; Huawei V2 takes at most 10") })
    }

    @Test func huaweiV2ParamsOver32BytesOfFixedTextAreErrors() {
        let long = String(repeating: "x", count: 33)
        let lines = errorLines(Self.rules(voice: "    params: [\"\(long)\"]\n    huawei-aicc: {template_id: t}", provider: Self.huaweiV2))
        #expect(lines.contains { $0.hasPrefix("7:14:") && $0.contains("at least 33 bytes; Huawei V2 takes at most 32 per param") })
    }

    @Test func huaweiV2PlayListHasOneToFiveEntries() {
        let items = (1...6).map { "\n      - voice_id: \"v\($0)\"" }.joined()
        let lines = errorLines(Self.rules(voice: "    huawei-aicc:\n      play_list:\(items)", provider: Self.huaweiV2))
        #expect(lines.contains { $0.contains("playList has 6 entries; Huawei V2 takes 1–5") })
    }

    @Test func huaweiV1VoiceContentIsAtMost1000Characters() {
        let text = String(repeating: "y", count: 1001)
        let lines = errorLines(Self.rules(voice: "    huawei-aicc:\n      play_list:\n        - text: \"\(text)\"", provider: Self.huaweiV1))
        #expect(lines.contains { $0.contains("voiceContent would be 1003 characters") })
    }

    /// Huawei V1's voiceContent holds voice ids and text only (document 002): a file name,
    /// or nothing at all, would fail every call of a route that `check` passed.
    @Test func huaweiV1PlaysVoiceIDsAndTextOnly() {
        let file = errorLines(Self.rules(voice: "    huawei-aicc: {voice_file_name: disk_full.wav}", provider: Self.huaweiV1))
        #expect(file.contains { $0.contains("Huawei V1 plays voice ids and text only; voice_file_name is V2's (use voice_id)") }, "\(file)")
        let empty = errorLines(Self.rules(voice: "    huawei-aicc: {play_list: []}", provider: Self.huaweiV1))
        #expect(empty.contains { $0.contains("nothing to play; Huawei V1 needs a voice_id or text") }, "\(empty)")
        #expect(errorLines(Self.rules(voice: "    huawei-aicc: {voice_id: \"1133\"}", provider: Self.huaweiV1)).isEmpty)
    }

    @Test func aVoiceWithoutAnEntryForARoutesProviderIsAnError() {
        let lines = errorLines(Self.rules(voice: "    text: hi", provider: "  p: {type: bitel, token: t}"))
        #expect(lines.contains { $0.contains("voices.v has no bitel entry, but routes[0] calls it through provider \"p\" (type bitel)") })
    }

    @Test func unknownTemplateVariablesPointAtTheTag() {
        let lines = errorLines(Self.rules(voice: "    text: \"down: {{lables.instance}}\"", provider: "  p: {type: simulator}"))
        #expect(
            lines.contains(
                "7:18: voices.v.text: unknown template variable \"lables.instance\" (did you mean \"labels\"?); use one of labels, annotations, severity, status, startsAt, endsAt, count, externalURL, fingerprint, generatorURL, route"
            )
        )
    }

    /// A name inside a section over a value resolves against the alert as outside it: a
    /// typo there renders nothing just the same. Inside a section over `labels`, names are
    /// its keys.
    @Test func unknownTemplateVariablesInsideSectionsAreFound() {
        let text = #"    text: "{{^annotations.summary}}{{label.alertname}}{{/annotations.summary}}{{#labels}}{{instance}}{{/labels}}""#
        let lines = errorLines(Self.rules(voice: text, provider: "  p: {type: simulator}"))
        #expect(lines.count == 1, "\(lines)")
        #expect(
            lines.first?.hasPrefix("7:36: voices.v.text: unknown template variable \"label.alertname\" (did you mean \"labels\"?)") == true,
            "\(lines)"
        )
    }

    /// A severity level's voice is played only through its level's providers: the warning
    /// voice needs no aliyun entry when only critical alerts go to Aliyun. A level whose voice
    /// lacks its own provider's entry is still an error.
    @Test func eachLevelsVoiceIsCheckedAgainstItsOwnProviders() {
        let yaml = """
            providers:
              ali: {type: aliyun, access_key_id: id, access_key_secret: s}
              sim: {type: simulator}
            recipients:
              alice: {phone: "+8613700000001"}
            voices:
              crit: {text: "critical", aliyun: {voice_code: c.wav}}
              warn: {text: "warning"}
            escalations:
              primary:
                steps: [{after: 0s, notify: [alice]}]
            severities:
              default: warning
              levels:
                critical: {voice: crit, providers: [ali]}
                warning: {voice: warn, providers: [sim]}
            routes:
              - escalation: primary
            """
        #expect(errorLines(yaml) == [])
        let crossed = errorLines(
            yaml.replacingOccurrences(of: "warning: {voice: warn, providers: [sim]}", with: "warning: {voice: warn, providers: [ali]}")
        )
        #expect(crossed.contains { $0.contains("voices.warn has no aliyun entry") }, "\(crossed)")
    }

    @Test func aVoiceEntryMustBeAProviderTypeOrName() {
        let lines = errorLines(Self.rules(voice: "    text: hi\n    aliyn: {voice_code: x}", provider: "  p: {type: simulator}"))
        #expect(
            lines.contains {
                $0.hasPrefix("8:5: unknown key \"aliyn\" in voices.v: not a provider type or a provider name (did you mean \"aliyun\"?)")
            }
        )
    }
}
