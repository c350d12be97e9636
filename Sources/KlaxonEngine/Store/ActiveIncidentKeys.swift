import Synchronization

/// The SQLite store's dedupe lookup, in memory: for each dedupe key, by its hash, the ids of
/// the incidents that may hold it unresolved, and of the storm incidents that may hold an
/// alert with it. An index on the key in the file cost every new incident a b-tree insert at
/// a random place and its commit more WAL pages (about 8 µs of a 1-alert webhook's ~110;
/// `bench/README.md`, 2026-11-24), and the storm keys' lookup a statement for every new alert.
///
/// It may hold more than the truth, never less: every id it gives is checked against the
/// file in the same transaction, so a stale id or two keys with one hash cost a lookup, not
/// a wrong answer. An incident missing from it would open a second incident for the same
/// alert, a doubled page; so it is filled from the file when the store opens and again
/// whenever another connection (another process) has committed, and a transaction whose
/// COMMIT failed without saying whether it took effect leaves its additions in it.
final class ActiveIncidentKeys: Sendable {
    private struct State {
        /// Unresolved incidents by the hash of their key.
        var unresolved = IDsByHash()
        /// Storm incidents by the hash of each alert key in `storm_keys`, resolved or not:
        /// rows there are never deleted, and a verdict on the incident's state is the file's.
        var storm = IDsByHash()
        /// The writer connection's `PRAGMA data_version` when it was filled from the file
        /// (nil before): it moves only when another connection commits.
        var filledAt: Int64?
    }

    /// A change one transaction made, applied once it commits. Keys are hashed once, by
    /// ``hash(_:)``.
    enum Change: Sendable {
        case unresolved(keyHash: Int, id: Int64)
        case resolved(keyHash: Int, id: Int64)
        case stormKey(keyHash: Int, id: Int64)
    }

    private let state = Mutex(State())
    /// Of a key's UTF-8 bytes, so a key read from the file needs no `String` made of it.
    private let hashBytes: @Sendable (UnsafeRawBufferPointer) -> Int

    /// `hashBytes` is for tests, which make every key collide. The default is seeded per
    /// process: keys a sender chose cannot be made to collide.
    init(hashBytes: @escaping @Sendable (UnsafeRawBufferPointer) -> Int = ActiveIncidentKeys.seededHash) {
        self.hashBytes = hashBytes
    }

    @Sendable static func seededHash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        return hasher.finalize()
    }

    func hash(_ key: String) -> Int {
        var key = key
        return key.withUTF8 { hashBytes(UnsafeRawBufferPointer($0)) }
    }

    /// The ids of the incidents that may hold the key of `keyHash` unresolved, newest first.
    func unresolvedCandidates(keyHash: Int) -> [Int64] {
        state.withLock { $0.unresolved.ids(keyHash) }
    }

    /// The ids of the storm incidents that may hold an alert with the key of `keyHash`,
    /// newest first.
    func stormCandidates(keyHash: Int) -> [Int64] {
        state.withLock { $0.storm.ids(keyHash) }
    }

    /// Whether it must be filled from the file before it is used: never filled, or the
    /// file's `dataVersion` (read in a write transaction) is not the one it was filled at.
    func needsFilling(dataVersion: Int64) -> Bool {
        state.withLock { $0.filledAt != dataVersion }
    }

    /// Replaces everything with what the two enumerations hand on, each a key's UTF-8 bytes
    /// and an id: every unresolved incident in the file at `dataVersion`, and every row of
    /// `storm_keys`. A fill that throws leaves it needing one.
    func fill(
        dataVersion: Int64,
        unresolved: ((UnsafeRawBufferPointer, Int64) -> Void) throws -> Void,
        stormKeys: ((UnsafeRawBufferPointer, Int64) -> Void) throws -> Void
    ) rethrows {
        var filled = State()
        try unresolved { key, id in filled.unresolved.add(hashBytes(key), id) }
        try stormKeys { key, id in filled.storm.add(hashBytes(key), id) }
        filled.filledAt = dataVersion
        state.withLock { $0 = filled }
    }

    /// The changes of a transaction that committed.
    func apply(_ changes: [Change]) {
        apply(changes, removing: true)
    }

    /// The changes of a transaction that may or may not have committed (its COMMIT or its
    /// ROLLBACK failed): its additions, not its removals, so it holds enough either way.
    func applyMayHaveCommitted(_ changes: [Change]) {
        apply(changes, removing: false)
    }

    private func apply(_ changes: [Change], removing: Bool) {
        guard !changes.isEmpty else { return }
        state.withLock { state in
            for change in changes {
                switch change {
                case .unresolved(let hash, let id): state.unresolved.add(hash, id)
                case .resolved(let hash, let id): if removing { state.unresolved.remove(hash, id) }
                case .stormKey(let hash, let id): state.storm.add(hash, id)
                }
            }
        }
    }

    /// The ids held for unresolved incidents, for tests.
    var unresolvedCount: Int {
        state.withLock { $0.unresolved.count }
    }
}

/// Ids by a key's hash: one id for most hashes, a list for the rare hash with several. In
/// 256 tables by the hash's low bits: one table of 400,000 ids grew by copies of 8 and 16 MB,
/// and glibc, once such a block was freed, kept later large allocations in its heap instead
/// of returning them (44 MiB more resident after a 100-alert load at 270,000 incidents).
private struct IDsByHash {
    private struct Table {
        var first: [Int: Int64] = [:]
        var more: [Int: [Int64]] = [:]
    }

    private var tables = [Table](repeating: Table(), count: 256)

    private static func table(_ hash: Int) -> Int { hash & 255 }

    /// Newest first.
    func ids(_ hash: Int) -> [Int64] {
        let table = tables[Self.table(hash)]
        guard let first = table.first[hash] else { return [] }
        guard let more = table.more[hash] else { return [first] }
        return ([first] + more).sorted(by: >)
    }

    var count: Int { tables.reduce(0) { $0 + $1.first.count + $1.more.values.reduce(0) { $0 + $1.count } } }

    mutating func add(_ hash: Int, _ id: Int64) {
        let index = Self.table(hash)
        guard let existing = tables[index].first[hash] else {
            tables[index].first[hash] = id
            return
        }
        guard existing != id, tables[index].more[hash]?.contains(id) != true else { return }
        tables[index].more[hash, default: []].append(id)
    }

    mutating func remove(_ hash: Int, _ id: Int64) {
        let index = Self.table(hash)
        guard let existing = tables[index].first[hash] else { return }
        if existing == id {
            if var others = tables[index].more[hash], let next = others.popLast() {
                tables[index].first[hash] = next
                tables[index].more[hash] = others.isEmpty ? nil : others
            } else {
                tables[index].first[hash] = nil
            }
        } else if var others = tables[index].more[hash], let position = others.firstIndex(of: id) {
            others.remove(at: position)
            tables[index].more[hash] = others.isEmpty ? nil : others
        }
    }
}

/// The changes one write transaction makes to ``ActiveIncidentKeys``, held until it commits.
/// Used only by the transaction's own task, inside the store's gate.
final class StagedKeyChanges: @unchecked Sendable {
    private(set) var changes: [ActiveIncidentKeys.Change] = []
    /// By key hash, for lookups: a group of a thousand new alerts looks each one up.
    private var unresolved: [Int: [Int64]] = [:]
    private var storm: [Int: [Int64]] = [:]

    func append(_ change: ActiveIncidentKeys.Change) {
        changes.append(change)
        switch change {
        case .unresolved(let hash, let id): unresolved[hash, default: []].append(id)
        case .stormKey(let hash, let id): storm[hash, default: []].append(id)
        case .resolved: break
        }
    }

    /// Ids this transaction made unresolved under the key (some may be resolved since).
    func unresolvedIDs(keyHash: Int) -> [Int64] {
        unresolved[keyHash] ?? []
    }

    /// Storm incidents this transaction gave an alert with the key.
    func stormIDs(keyHash: Int) -> [Int64] {
        storm[keyHash] ?? []
    }
}
