/// Prometheus' label-set fingerprint: FNV-1a 64 over the sorted names and values, each
/// followed by a 0xFF separator, printed as 16 hex digits.
///
/// This is the same value Alertmanager sends as `fingerprint`, so an alert keeps its
/// identity whether it arrives from Alertmanager or as generic JSON with the same labels.
public enum Fingerprint {
    private static let offset: UInt64 = 14_695_981_039_346_656_037
    private static let prime: UInt64 = 1_099_511_628_211
    private static let separator: UInt8 = 0xFF

    public static func of(_ labels: LabelSet) -> String {
        var hash = offset
        for (name, value) in labels.sorted {
            for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* prime }
            hash = (hash ^ UInt64(separator)) &* prime
            for byte in value.utf8 { hash = (hash ^ UInt64(byte)) &* prime }
            hash = (hash ^ UInt64(separator)) &* prime
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
