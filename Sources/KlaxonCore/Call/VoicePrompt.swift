/// What one vendor plays on a call, fully rendered for one alert: the rules decide it,
/// the provider client only puts it on the wire.
public enum VoicePrompt: Sendable, Hashable {
    /// Aliyun `SingleCallByVoice`: an approved voice file.
    case aliyunVoice(voiceCode: String)
    /// Aliyun `SingleCallByTts`: a TTS template and its named parameters.
    case aliyunTTS(ttsCode: String, params: [String: String])
    /// Huawei AICC: the play list (V2 `playList`; V1 joins it into `voiceContent`).
    case huaweiAICC(playList: [HuaweiPlayEntry])
    /// Huawei AICC V1: the `voiceContent` string, already joined and within its limit.
    case huaweiV1(voiceContent: String)
    case bitel(voiceID: String)
    /// infin8linx: a file uploaded to the platform (`voicetype` 1) or a URL (2).
    case infin8linx(voiceFile: String, voiceType: Int)
    /// Vendors that take text: the webhook provider and the simulator.
    case text(String)
}

/// One rendered entry of a Huawei V2 play list.
public enum HuaweiPlayEntry: Sendable, Hashable {
    case voiceID(String)
    case voiceFileName(String)
    case template(id: String, params: [String])
}
