import KlaxonCore

/// The vendor-specific keys each provider `type:` accepts, which of them are required,
/// and the values some of them are limited to.
enum ProviderSchema {
    static let commonKeys = ["type", "endpoint", "timeout", "retry"]

    struct Schema {
        var required: [String]
        var optional: [String]
        /// Keys whose value is a mapping of strings rather than a scalar.
        var maps: [String] = []
        /// Keys whose value is a list of scalars.
        var lists: [String] = []
        var integerRanges: [String: ClosedRange<Int>] = [:]
        var choices: [String: [String]] = [:]
        /// Credentials, which must not be empty.
        var secrets: [String] = []
    }

    static func schema(for type: ProviderType) -> Schema {
        switch type {
        case .aliyun:
            Schema(
                required: ["access_key_id", "access_key_secret"],
                optional: ["called_show_number", "volume", "play_times", "region_id", "out_id_prefix"],
                integerRanges: ["volume": 0...100, "play_times": 1...3],
                secrets: ["access_key_id", "access_key_secret"]
            )
        case .huaweiAICC:
            Schema(
                required: ["app_key", "app_secret"],
                optional: ["api_version", "caller_present", "token_expire", "base64_callback_url", "callback_shared_key", "play_times"],
                integerRanges: ["token_expire": 60...3600, "play_times": 1...5],
                choices: ["api_version": ["v1", "v2"], "base64_callback_url": ["true", "false"]],
                secrets: ["app_key", "app_secret", "callback_shared_key"]
            )
        case .bitel:
            Schema(
                required: ["token"],
                optional: ["server_id", "retry_count"],
                integerRanges: ["retry_count": 0...1],
                secrets: ["token"]
            )
        case .infin8linx:
            Schema(
                required: ["appid", "accesskey", "nationcode"],
                optional: ["disnumber", "userkey", "waittime", "conntime", "todayonly"],
                integerRanges: ["waittime": 1...600, "conntime": 1...3600],
                choices: ["nationcode": ["in", "id", "ph", "mx", "co", "tha"], "userkey": ["0", "1"], "todayonly": ["1", "2"]],
                secrets: ["appid", "accesskey"]
            )
        case .webhook:
            Schema(
                required: ["url"],
                optional: ["method", "body", "content_type", "success_status", "success_field", "success_value"],
                maps: ["headers"],
                lists: ["success_status"],
                choices: ["method": ["GET", "POST", "PUT", "PATCH"]]
            )
        case .simulator:
            Schema(
                required: [],
                optional: ["outcome", "record_file"],
                choices: ["outcome": ["answered", "no_answer", "busy", "failed", "key_pressed"]]
            )
        }
    }

    /// Aliyun's `OutId` is at most 15 bytes and carries `out_id_prefix` + klaxon's call id.
    static let aliyunOutIDLimit = 15
}
