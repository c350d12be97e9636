/// The members of a JSON object, in document order.
///
/// Duplicate keys are kept in ``members`` as they were written, but every lookup follows
/// "last one wins": ``subscript(_:)``, ``dictionary`` and ``uniqueMembers`` all see only the
/// last occurrence of a key. Equality and hashing compare the objects as dictionaries (order
/// and overridden duplicates do not matter).
///
/// Lookups scan the members (objects in alert payloads have a handful of keys, and the
/// parser builds an array much faster than a hash table); use ``dictionary`` for many
/// lookups in a large object.
public struct JSONObject: Sendable, Hashable {
    /// One `"key": value` pair.
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONValue

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The members in document order, duplicates included.
    public var members: [Member]

    public init(members: [Member] = []) {
        self.members = members
    }

    public init(_ dictionary: [String: JSONValue]) {
        self.members = dictionary.map { Member(key: $0.key, value: $0.value) }
    }

    /// The value of the last member named `key`, or nil. Setting appends (or replaces the last).
    public subscript(key: String) -> JSONValue? {
        get {
            var index = members.endIndex
            while index > members.startIndex {
                index -= 1
                if members[index].key == key { return members[index].value }
            }
            return nil
        }
        set {
            members.removeAll { $0.key == key }
            if let newValue { members.append(Member(key: key, value: newValue)) }
        }
    }

    /// Whether there are no members.
    public var isEmpty: Bool { members.isEmpty }

    /// Keys and values, the last occurrence of each key winning.
    public var dictionary: [String: JSONValue] {
        Dictionary(members.lazy.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    /// The members with every overridden duplicate removed, in reverse document order
    /// (the order in which "last one wins" visits them).
    public var uniqueMembers: [Member] {
        if members.count < 2 { return members }
        var seen = Set<String>(minimumCapacity: members.count)
        var out: [Member] = []
        out.reserveCapacity(members.count)
        for member in members.reversed() where seen.insert(member.key).inserted {
            out.append(member)
        }
        return out
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.dictionary == rhs.dictionary
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(dictionary)
    }
}
