import Synchronization

/// The SQLite store's dedupe lookup, in memory: for each dedupe key, by its hash, the ids of
/// the incidents that may hold it unresolved. An index on the key in the file cost every new
/// incident a b-tree insert at a random place and its commit more WAL pages (about 8 µs of a
/// 1-alert webhook's ~110; `bench/README.md`, 2026-11-24).
///
/// It may hold more than the truth, never less: every id it gives is checked against the
/// incident's row in the same transaction, so a stale id or two keys with one hash cost a
/// lookup, not a wrong answer. An unresolved incident missing from it would open a second
/// incident for the same alert, a doubled page; so it is filled from the file when the store
/// opens and again whenever the file may have changed without it: another connection (another
/// process) committed, or a COMMIT failed without saying whether it took effect.
final class ActiveIncidentKeys: Sendable {
    private struct State {
        /// Key hash → an id; further ids under the same hash (two incidents of one key, or
        /// a collision), rare, in `more`.
        var first: [Int: Int64] = [:]
        var more: [Int: [Int64]] = [:]
        /// Filled from the file and not since put in doubt.
        var isCurrent = false
        /// The writer connection's `PRAGMA data_version` when it was last compared: it moves
        /// only when another connection commits.
        var dataVersion: Int64?
    }

    /// A change one transaction made, applied once it commits.
    enum Change: Sendable {
        case unresolved(key: String, id: Int64)
        case resolved(key: String, id: Int64)
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

    private func hash(_ key: String) -> Int {
        var key = key
        return key.withUTF8 { hashBytes(UnsafeRawBufferPointer($0)) }
    }

    /// The ids that may hold `key` unresolved, newest first.
    func candidates(for key: String) -> [Int64] {
        let hash = hash(key)
        return state.withLock { state in
            guard let first = state.first[hash] else { return [] }
            guard let more = state.more[hash] else { return [first] }
            return ([first] + more).sorted(by: >)
        }
    }

    /// Whether it must be filled from the file before it is used: never filled, put in
    /// doubt, or `dataVersion` (read in a write transaction) differs from the last one seen.
    func needsFilling(dataVersion: Int64) -> Bool {
        state.withLock { state in
            defer { state.dataVersion = dataVersion }
            return !state.isCurrent || state.dataVersion != dataVersion
        }
    }

    /// Replaces everything with what `enumerate` hands on: every unresolved incident in the
    /// file, its key's UTF-8 bytes and its id.
    func fill(_ enumerate: ((UnsafeRawBufferPointer, Int64) -> Void) throws -> Void) rethrows {
        var filled = State()
        try enumerate { key, id in Self.add(hashBytes(key), id, to: &filled) }
        filled.isCurrent = true
        state.withLock { state in
            filled.dataVersion = state.dataVersion
            state = filled
        }
    }

    /// Until the next fill, nothing it says is trusted.
    func invalidate() {
        state.withLock { $0.isCurrent = false }
    }

    func apply(_ changes: [Change]) {
        guard !changes.isEmpty else { return }
        let hashed = changes.map { change -> (hash: Int, id: Int64, unresolved: Bool) in
            switch change {
            case .unresolved(let key, let id): (hash(key), id, true)
            case .resolved(let key, let id): (hash(key), id, false)
            }
        }
        state.withLock { state in
            for change in hashed {
                if change.unresolved {
                    Self.add(change.hash, change.id, to: &state)
                } else {
                    Self.remove(change.hash, change.id, from: &state)
                }
            }
        }
    }

    /// The number of ids held, for tests.
    var count: Int {
        state.withLock { state in state.first.count + state.more.values.reduce(0) { $0 + $1.count } }
    }

    private static func add(_ hash: Int, _ id: Int64, to state: inout State) {
        guard let first = state.first[hash] else {
            state.first[hash] = id
            return
        }
        guard first != id, state.more[hash]?.contains(id) != true else { return }
        state.more[hash, default: []].append(id)
    }

    private static func remove(_ hash: Int, _ id: Int64, from state: inout State) {
        guard let first = state.first[hash] else { return }
        if first == id {
            if var more = state.more[hash], let next = more.popLast() {
                state.first[hash] = next
                state.more[hash] = more.isEmpty ? nil : more
            } else {
                state.first[hash] = nil
            }
        } else if var more = state.more[hash], let index = more.firstIndex(of: id) {
            more.remove(at: index)
            state.more[hash] = more.isEmpty ? nil : more
        }
    }
}

/// The changes one write transaction makes to ``ActiveIncidentKeys``, held until it commits.
/// Used only by the transaction's own task, inside the store's gate.
final class StagedKeyChanges: @unchecked Sendable {
    private(set) var changes: [ActiveIncidentKeys.Change] = []
    /// By key, for lookups: a group of a thousand new alerts looks each one up.
    private var unresolved: [String: [Int64]] = [:]

    func append(_ change: ActiveIncidentKeys.Change) {
        changes.append(change)
        if case .unresolved(let key, let id) = change { unresolved[key, default: []].append(id) }
    }

    /// Ids this transaction made unresolved under `key` (some may be resolved again since).
    func unresolvedIDs(for key: String) -> [Int64] {
        unresolved[key] ?? []
    }
}
