import KlaxonCore

/// A named voice message under `voices:`: what each vendor plays, and the parameters
/// rendered from the alert.
public struct Voice: Sendable {
    public var name: String
    /// Mustache templates rendered over the alert into the vendor's template parameters.
    public var params: [ParamTemplate]
    /// Text for vendors that speak text (Huawei V1 `$text$`, webhook, simulator).
    public var text: ParamTemplate?
    /// Per provider type or provider name (a name wins over its type).
    public var resources: [String: VoiceResource]
    public var location: SourceLocation

    /// The resource for a provider: by its name first, then by its type.
    public func resource(for provider: ProviderConfig) -> VoiceResource? {
        resources[provider.name] ?? resources[provider.type.rawValue]
    }
}

/// What one vendor plays for a voice.
public enum VoiceResource: Sendable {
    /// Aliyun: an approved voice file (`SingleCallByVoice`) or a TTS template (`SingleCallByTts`)
    /// with named parameters.
    case aliyun(voiceCode: String?, ttsCode: String?, ttsParams: [(name: String, template: ParamTemplate)])
    /// Huawei AICC: the play list (V2 `playList`; V1 joins it into `voiceContent`).
    case huaweiAICC(playList: [HuaweiPlayItem])
    case bitel(voiceID: String)
    /// infin8linx: a file name uploaded to the platform (`voicetype` 1) or a URL (2).
    case infin8linx(voiceFile: String, voiceType: Int)
    /// webhook and simulator need nothing beyond the voice's text and params.
    case none
}

/// One entry of a Huawei play list.
public enum HuaweiPlayItem: Sendable {
    case voiceID(String)
    case voiceFileName(String)
    /// A TTS template; its parameters are the voice's `params` unless the item names its own.
    case template(id: String, params: [ParamTemplate]?)
    /// V1 only: a `$text$` segment spoken by TTS.
    case text(ParamTemplate)
}
