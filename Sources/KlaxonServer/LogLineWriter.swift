import Foundation
import KlaxonEngine
import Synchronization

/// Writes log lines to a file descriptor from a thread of its own. A `write(2)` to a log
/// file can block while the kernel writes that file back (a quarter of a second was seen
/// on the benchmark machine); a webhook must never wait for its log line. Lines are kept in
/// order; past `limit` pending bytes new lines are counted and dropped, and the count is
/// written once the writer catches up. The writer gathers the lines of `gathering` after
/// the first before writing: a wake-up and a `write(2)` per line (one per opened incident)
/// cost more than the line.
public final class LogLineWriter: Sendable {
    public static let standardError = LogLineWriter(fileDescriptor: STDERR_FILENO)

    private struct State {
        var pending: [UInt8] = []
        var dropped = 0
        var writing = false
    }

    private let fileDescriptor: Int32
    private let limit: Int
    private let gathering: Duration
    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)
    private let idle = DispatchSemaphore(value: 0)

    public init(fileDescriptor: Int32, limit: Int = 8 << 20, gathering: Duration = .milliseconds(10)) {
        self.fileDescriptor = fileDescriptor
        self.limit = limit
        self.gathering = gathering
        let thread = Thread { [self] in
            nameCurrentThread("klaxon-log")
            run()
        }
        thread.start()
    }

    /// Queues `line` (which ends with a newline).
    public func write(_ line: String) {
        let wake = state.withLock { state -> Bool in
            if state.pending.count + line.utf8.count > limit {
                state.dropped += 1
                return false
            }
            state.pending.append(contentsOf: line.utf8)
            return state.pending.count == line.utf8.count && !state.writing
        }
        if wake { wakeup.signal() }
    }

    /// Returns once every line queued before the call is written.
    public func flush() {
        let busy = state.withLock { !$0.pending.isEmpty || $0.writing }
        guard busy else { return }
        wakeup.signal()
        while state.withLock({ !$0.pending.isEmpty || $0.writing }) {
            _ = idle.wait(timeout: .now() + .milliseconds(10))
        }
    }

    private func run() {
        while true {
            wakeup.wait()
            Thread.sleep(forTimeInterval: Double(gathering.components.attoseconds) / 1e18 + Double(gathering.components.seconds))
            while true {
                let (bytes, dropped) = state.withLock { state -> ([UInt8], Int) in
                    defer {
                        state.pending = []
                        state.dropped = 0
                    }
                    state.writing = !state.pending.isEmpty || state.dropped > 0
                    return (state.pending, state.dropped)
                }
                if bytes.isEmpty && dropped == 0 { break }
                writeAll(bytes)
                if dropped > 0 { writeAll(Array("klaxon: \(dropped) log lines dropped: the log could not keep up\n".utf8)) }
                state.withLock { $0.writing = false }
                idle.signal()
            }
        }
    }

    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fileDescriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}
