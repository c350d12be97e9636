import Synchronization

/// What the paced run measures, shared by its tasks and the receiver.
final class Recorder: Sendable {
    let sent = Mutex<[String: ContinuousClock.Instant]>([:])
    let firstCall = Mutex<[Double]>([])
    let answers = Mutex<[Double]>([])
    let failures = Atomic(0)
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e3 + Double(duration.components.attoseconds) / 1e15
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}
