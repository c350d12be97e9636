import KlaxonCore

/// A voice rendered for one provider: what goes into its ``CallRequest``.
public struct RenderedVoice: Sendable, Hashable {
    public var prompt: VoicePrompt
    /// The params as this provider receives them (within its limits).
    public var params: [String]
    public var text: String?
    /// One line per value a vendor limit cut.
    public var warnings: [String]

    public init(prompt: VoicePrompt, params: [String], text: String?, warnings: [String] = []) {
        self.prompt = prompt
        self.params = params
        self.text = text
        self.warnings = warnings
    }
}
