import Foundation
import Glibc
import Synchronization

// The paced run's sender: wrk2-style open loop on blocking sockets, one OS thread per
// keep-alive connection, so the generator costs little CPU next to the server under test.

/// Nanoseconds on CLOCK_MONOTONIC, the clock shared by the schedule and the receiver.
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// Sleeps until an absolute CLOCK_MONOTONIC time, so sleeping never drifts from the schedule.
func sleep(untilNanoseconds deadline: UInt64) {
    var time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
    while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &time, nil) == EINTR {}
}

/// An `http://IPv4[:port][/path]` URL (the benchmark only talks to 127.0.0.1).
struct Target: Sendable {
    let host: String
    let port: UInt16
    let path: String

    init?(_ url: String) {
        guard url.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        self.path = path.isEmpty ? "/" : String(path)
        if let colon = authority.lastIndex(of: ":") {
            guard let port = UInt16(authority[authority.index(after: colon)...]) else { return nil }
            self.host = String(authority[..<colon])
            self.port = port
        } else {
            self.host = String(authority)
            self.port = 80
        }
    }

    var address: sockaddr_in? {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        let host = self.host == "localhost" ? "127.0.0.1" : self.host
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return nil }
        return address
    }
}

/// The request bytes, split once at `@SEQ@` so each request is a few appends.
struct RequestTemplate: Sendable {
    let head: [UInt8]
    let parts: [[UInt8]]
    let fixedLength: Int

    init(target: Target, body: [UInt8]) {
        head = Array(
            "POST \(target.path) HTTP/1.1\r\nHost: \(target.host):\(target.port)\r\nContent-Type: application/json\r\nContent-Length: ".utf8
        )
        let marker = Array("@SEQ@".utf8)
        var parts: [[UInt8]] = []
        var start = 0
        var index = 0
        while index + marker.count <= body.count {
            if body[index..<index + marker.count].elementsEqual(marker) {
                parts.append(Array(body[start..<index]))
                index += marker.count
                start = index
            } else {
                index += 1
            }
        }
        parts.append(Array(body[start...]))
        self.parts = parts
        fixedLength = parts.reduce(0) { $0 + $1.count }
    }

    func write(sequence: Int, into out: inout [UInt8]) {
        let digits = String(sequence).utf8  // small, so kept inline: no allocation
        out.removeAll(keepingCapacity: true)
        out.append(contentsOf: head)
        out.append(contentsOf: String(fixedLength + (parts.count - 1) * (4 + digits.count)).utf8)
        out.append(contentsOf: "\r\n\r\n".utf8)
        for (number, part) in parts.enumerated() {
            if number > 0 {
                out.append(contentsOf: "seq-".utf8)
                out.append(contentsOf: digits)
            }
            out.append(contentsOf: part)
        }
    }
}

/// One blocking keep-alive connection with its read buffer.
final class Connection {
    private var socket: Int32
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var start = 0
    private var end = 0

    init?(_ address: sockaddr_in) {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return nil }
        var one: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        // A stalled server fails the request after 30 s instead of hanging the run.
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = address
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(socket)
            return nil
        }
    }

    deinit { close(socket) }

    func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.send(socket, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return false }
                offset += written
            }
            return true
        }
    }

    /// Reads one whole response; nil on a socket error or a malformed response.
    func readResponse() -> (status: Int, keepAlive: Bool)? {
        while true {
            guard let headerEnd = find([13, 10, 13, 10]) else { return nil }
            let headStart = start
            start = headerEnd + 4
            guard headerEnd - headStart >= 12, buffer[headStart..<headStart + 7].elementsEqual("HTTP/1.".utf8),
                let status = decimal(headStart + 9..<headStart + 12)
            else { return nil }
            if status < 200 { continue }  // an interim response; the real one follows
            // Bytes, not Strings: parsing headers as Strings was a large share of the generator's CPU.
            var contentLength: Int?
            var chunked = false
            var keepAlive = buffer[headStart + 7] == UInt8(ascii: "1")
            var lineStart = headStart
            while lineStart < headerEnd {
                let lineEnd = buffer[lineStart..<headerEnd].firstIndex(of: 13) ?? headerEnd
                defer { lineStart = lineEnd + 2 }
                guard lineStart > headStart, let colon = buffer[lineStart..<lineEnd].firstIndex(of: UInt8(ascii: ":")) else { continue }
                var valueStart = colon + 1
                while valueStart < lineEnd, buffer[valueStart] == UInt8(ascii: " ") || buffer[valueStart] == 9 { valueStart += 1 }
                var valueEnd = lineEnd
                while valueEnd > valueStart, buffer[valueEnd - 1] == UInt8(ascii: " ") || buffer[valueEnd - 1] == 9 { valueEnd -= 1 }
                if isName("content-length", lineStart..<colon) {
                    guard let length = decimal(valueStart..<valueEnd) else { return nil }
                    contentLength = length
                } else if isName("transfer-encoding", lineStart..<colon) {
                    chunked = contains("chunked", valueStart..<valueEnd)
                } else if isName("connection", lineStart..<colon) {
                    keepAlive = !isName("close", valueStart..<valueEnd)
                }
            }
            if status == 204 || status == 304 {
                return (status, keepAlive)
            } else if chunked {
                guard readChunkedBody() else { return nil }
            } else if let contentLength {
                guard skip(contentLength) else { return nil }
            } else {
                // Delimited by the end of the connection.
                while fill() { start = end }
                return (status, false)
            }
            return (status, keepAlive)
        }
    }

    /// Whether `range` of the buffer is `name`, ignoring ASCII case (`name` is lower case).
    private func isName(_ name: StaticString, _ range: Range<Int>) -> Bool {
        guard range.count == name.utf8CodeUnitCount else { return false }
        return name.withUTF8Buffer { name in
            zip(name, buffer[range]).allSatisfy { $0 == ($1 | 0x20) }
        }
    }

    private func contains(_ word: StaticString, _ range: Range<Int>) -> Bool {
        let count = word.utf8CodeUnitCount
        guard range.count >= count else { return false }
        return (range.lowerBound...(range.upperBound - count)).contains { isName(word, $0..<$0 + count) }
    }

    private func decimal(_ range: Range<Int>) -> Int? {
        guard !range.isEmpty, range.count < 19 else { return nil }
        var value = 0
        for byte in buffer[range] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private func readChunkedBody() -> Bool {
        while true {
            guard let lineEnd = find([13, 10]) else { return false }
            let line = String(decoding: buffer[start..<lineEnd], as: UTF8.self)
            start = lineEnd + 2
            guard let size = Int(line.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces), radix: 16) else { return false }
            if size == 0 {
                // Trailers, up to an empty line.
                while true {
                    guard let trailerEnd = find([13, 10]) else { return false }
                    defer { start = trailerEnd + 2 }
                    if trailerEnd == start { return true }
                }
            }
            guard skip(size + 2) else { return false }
        }
    }

    /// Index of `pattern` in the unread bytes, reading more as needed.
    private func find(_ pattern: [UInt8]) -> Int? {
        var from = start
        while true {
            if end - from >= pattern.count {
                for index in from...(end - pattern.count) where buffer[index..<index + pattern.count].elementsEqual(pattern) {
                    return index
                }
                from = end - pattern.count + 1
            }
            let before = start
            guard fill() else { return nil }
            from -= before - start  // fill may have moved the unread bytes to the front
        }
    }

    private func skip(_ count: Int) -> Bool {
        var remaining = count
        while true {
            let taken = min(remaining, end - start)
            start += taken
            remaining -= taken
            if remaining == 0 { return true }
            guard fill() else { return false }
        }
    }

    /// Reads more bytes after the unread ones; false on end of stream, error or a full buffer.
    private func fill() -> Bool {
        if start > 0 {
            buffer.withUnsafeMutableBytes { raw in
                _ = memmove(raw.baseAddress!, raw.baseAddress! + start, end - start)
            }
            end -= start
            start = 0
        }
        guard end < buffer.count else { return false }
        while true {
            let received = buffer.withUnsafeMutableBytes { raw in
                recv(socket, raw.baseAddress! + end, raw.count - end, 0)
            }
            if received < 0 && errno == EINTR { continue }
            guard received > 0 else { return false }
            end += received
            return true
        }
    }
}

/// What the connection threads share: the next request index and how many have finished.
final class Schedule: Sendable {
    let next = Atomic(0)
    let finished = Atomic(0)
}

/// One connection thread and its results, which only it touches until it has finished
/// (`Schedule.finished` publishes them).
final class Worker: @unchecked Sendable {
    let address: sockaddr_in
    let template: RequestTemplate
    let recorder: Recorder
    let schedule: Schedule
    var connection: Connection?
    var answers: [Double] = []
    var failures = 0

    init(address: sockaddr_in, template: RequestTemplate, recorder: Recorder, schedule: Schedule) {
        self.address = address
        self.template = template
        self.recorder = recorder
        self.schedule = schedule
        connection = Connection(address)
    }

    func start() {
        let thread = Thread { self.run() }
        thread.start()
    }

    private func run() {
        var request: [UInt8] = []
        request.reserveCapacity(template.head.count + template.fixedLength + 64 * template.parts.count)
        while true {
            let index = schedule.next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard index < recorder.total else { break }
            let due = recorder.scheduled(index)
            if monotonicNanoseconds() < due { sleep(untilNanoseconds: due) }
            template.write(sequence: index, into: &request)
            if connection == nil { connection = Connection(address) }
            guard let connection, connection.send(request), let response = connection.readResponse() else {
                failures += 1
                self.connection = nil  // reconnect for the next request
                continue
            }
            // From the scheduled time, not the send, so a stalled server is not hidden.
            let elapsed = monotonicNanoseconds() &- due
            if response.status == 200 {
                answers.append(Double(elapsed) / 1e6)
            } else {
                failures += 1
            }
            if !response.keepAlive { self.connection = nil }
        }
        connection = nil
        schedule.finished.add(1, ordering: .releasing)
    }
}
