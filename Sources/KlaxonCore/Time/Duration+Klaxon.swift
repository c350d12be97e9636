extension Duration {
    /// The duration in seconds as a `Double` (for metrics, logs and vendor APIs that take seconds).
    public var klaxonSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// The duration in Prometheus style via ``DurationParser/format(_:)``, e.g. `1h30m`.
    public var klaxonFormatted: String { DurationParser.format(self) }
}
