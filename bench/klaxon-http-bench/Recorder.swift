import Synchronization

/// What the paced run measures, shared by the connection threads and the receiver.
final class Recorder: Sendable {
    let total: Int
    let nanosecondsPerRequest: Double
    /// CLOCK_MONOTONIC nanoseconds at which request 0 is due; 0 until the schedule starts.
    let begin = Atomic<UInt64>(0)
    let firstCall = Mutex<[Double]>([])

    init(rate: Double, seconds: Double) {
        total = Int(rate * seconds)
        nanosecondsPerRequest = 1e9 / rate
    }

    /// When request `index` is due: the schedule is fixed, so no per-request record is needed.
    func scheduled(_ index: Int) -> UInt64 {
        begin.load(ordering: .acquiring) + UInt64(Double(index) * nanosecondsPerRequest)
    }
}

/// N of the first `seq-N` in a body.
func sequenceNumber(in bytes: UnsafeRawBufferPointer) -> Int? {
    let marker = Array("seq-".utf8)
    guard bytes.count > marker.count else { return nil }
    for start in 0...(bytes.count - marker.count) where bytes[start..<start + marker.count].elementsEqual(marker) {
        var value = 0
        var index = start + marker.count
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        if index > start + marker.count { return value }
    }
    return nil
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}
