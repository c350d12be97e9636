import Foundation
import KlaxonCore

/// Lists and maps kept as JSON text in one column.
enum JSONColumn {
    static func encode(_ list: [String]) -> String {
        var bytes: [UInt8] = []
        append(list, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A step's recipients as `[["name","phone"],...]`, then its `notify:` entries as lists
    /// of one (`["group:dba"]`), which readers that know only the pairs skip.
    static func encode(_ recipients: [CallRecipient], notify: [String]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(recipients.reduce(2) { $0 + $1.name.utf8.count + $1.phone.utf8.count + 8 })
        bytes.append(UInt8(ascii: "["))
        for (index, recipient) in recipients.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "["))
            JSONStringLiteral.append(recipient.name, to: &bytes)
            bytes.append(UInt8(ascii: ","))
            JSONStringLiteral.append(recipient.phone, to: &bytes)
            bytes.append(UInt8(ascii: "]"))
        }
        for (index, entry) in notify.enumerated() {
            if index > 0 || !recipients.isEmpty { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "["))
            JSONStringLiteral.append(entry, to: &bytes)
            bytes.append(UInt8(ascii: "]"))
        }
        bytes.append(UInt8(ascii: "]"))
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func append(_ list: [String], to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "["))
        for (index, item) in list.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONStringLiteral.append(item, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) -> T? {
        try? JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
