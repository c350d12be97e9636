/// One step's calls as the engine hands them to a provider: who, what is played, and how
/// urgently. The provider knows nothing of incidents beyond this.
public struct CallRequest: Sendable, Hashable {
    /// klaxon's id for this call, 12 characters (``CallID``); vendors echo it back in
    /// status reports (Aliyun `OutId`, infin8linx `customuuid`).
    public var callID: String
    public var recipients: [CallRecipient]
    /// What this provider plays.
    public var prompt: VoicePrompt
    /// The voice's params rendered for this provider (within its limits).
    public var params: [String]
    /// The voice's text rendered over the alert, for vendors that speak text.
    public var text: String?
    /// 1 (highest) to 9.
    public var priority: Int
    /// Where the vendor should report how the call ended; nil when none is configured.
    public var callbackURL: String?
    /// A body rendered from the provider's own template (the webhook provider).
    public var body: String?

    public init(
        callID: String,
        recipients: [CallRecipient],
        prompt: VoicePrompt,
        params: [String] = [],
        text: String? = nil,
        priority: Int = 5,
        callbackURL: String? = nil,
        body: String? = nil
    ) {
        self.callID = callID
        self.recipients = recipients
        self.prompt = prompt
        self.params = params
        self.text = text
        self.priority = priority
        self.callbackURL = callbackURL
        self.body = body
    }
}
