/// klaxon's call ids: 12 characters of `[0-9a-z]`, short enough for Aliyun's 15-byte
/// `OutId` with a 3-byte prefix, random enough (62 bits) never to collide in practice.
public enum CallID {
    public static let length = 12
    private static let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8)

    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return make(using: &generator)
    }

    public static func make(using generator: inout some RandomNumberGenerator) -> String {
        String(decoding: (0..<length).map { _ in alphabet[Int(generator.next(upperBound: UInt8(alphabet.count)))] }, as: UTF8.self)
    }

    public static func isValid(_ text: String) -> Bool {
        text.utf8.count == length && text.utf8.allSatisfy { alphabet.contains($0) }
    }
}
