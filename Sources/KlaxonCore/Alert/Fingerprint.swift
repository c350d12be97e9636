/// Prometheus' label-set fingerprint (`model.LabelSet.Fingerprint`): FNV-1a 64 over the names
/// in UTF-8 byte order and their values, each followed by a 0xFF separator, printed as 16
/// lower-case hex digits. The empty set gives the FNV offset basis, `cbf29ce484222325`.
///
/// This is the same value Alertmanager sends as `fingerprint`, so an alert keeps its
/// identity whether it arrives from Alertmanager or as generic JSON with the same labels.
public enum Fingerprint {
    private static let offset: UInt64 = 14_695_981_039_346_656_037
    private static let prime: UInt64 = 1_099_511_628_211
    private static let separator: UInt8 = 0xFF

    public static func of(_ labels: LabelSet) -> String {
        var hash = offset
        // Go sorts names by bytes; Swift's `<` compares canonically (NFC), which orders
        // non-normalized names differently, so sort by UTF-8 bytes here.
        let names = labels.storage.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        for (name, value) in names {
            for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* prime }
            hash = (hash ^ UInt64(separator)) &* prime
            for byte in value.utf8 { hash = (hash ^ UInt64(byte)) &* prime }
            hash = (hash ^ UInt64(separator)) &* prime
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
