import KlaxonCore

/// `severities:`: how a raw severity value becomes a level, and each level's defaults.
public struct SeverityConfig: Sendable {
    /// The label read when the source gave no severity of its own.
    public var label: String
    /// The level for an alert without a severity, or with a value no level claims.
    public var defaultLevel: String?
    public var levels: [SeverityLevel]
    /// Lower-cased raw value → level name, including each level's own name.
    private var lookup: [String: String]

    public init(label: String = "severity", defaultLevel: String? = nil, levels: [SeverityLevel] = []) {
        self.label = label
        self.defaultLevel = defaultLevel
        self.levels = levels
        var lookup: [String: String] = [:]
        for level in levels {
            lookup[level.name.lowercased()] = level.name
            for alias in level.aliases { lookup[alias.lowercased()] = level.name }
        }
        self.lookup = lookup
    }

    /// The level for a raw value; unknown or missing values take ``defaultLevel``, or stay
    /// as written (lower-cased) when there is none.
    public func normalize(_ raw: String?) -> String {
        if let raw, !raw.isEmpty {
            if let name = lookup[raw.lowercased()] { return name }
            return defaultLevel ?? raw.lowercased()
        }
        return defaultLevel ?? ""
    }

    /// Whether a level claims `raw` (its name or an alias, in any case).
    public func claims(_ raw: String) -> Bool {
        lookup[raw.lowercased()] != nil
    }

    public func level(named name: String) -> SeverityLevel? {
        levels.first { $0.name == name }
    }
}

/// One severity level and the defaults a route falls back to for it.
public struct SeverityLevel: Sendable, Hashable {
    public var name: String
    public var aliases: [String]
    public var priority: Int?
    public var escalation: String?
    public var voice: String?
    public var providers: [String]?
    /// Never call for this level.
    public var drop: Bool
    public var location: SourceLocation
}
