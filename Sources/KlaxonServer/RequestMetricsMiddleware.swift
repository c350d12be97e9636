import Hummingbird
import Metrics
import Synchronization

/// Request latency per endpoint (the route pattern, not the raw path, so ids do not
/// explode the label set) and status class.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    /// One timer per endpoint and status class, made once: making a timer looks it up in
    /// the metrics registry, which costs more than recording.
    private let timers = TimerCache()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var status = 500
        defer {
            let (seconds, attoseconds) = (ContinuousClock.now - start).components
            timers.timer(endpoint: context.endpointPath ?? "unmatched", statusClass: status / 100)
                .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        }
        do {
            let response = try await next(request, context)
            status = response.status.code
            return response
        } catch let error as any HTTPResponseError {
            status = error.status.code
            throw error
        }
    }
}

private final class TimerCache: Sendable {
    private struct Key: Hashable {
        var endpoint: String
        var statusClass: Int
    }

    private let timers = Mutex<[Key: Timer]>([:])

    func timer(endpoint: String, statusClass: Int) -> Timer {
        let key = Key(endpoint: endpoint, statusClass: statusClass)
        if let timer = timers.withLock({ $0[key] }) { return timer }
        let timer = Timer(label: "klaxon_http_request_seconds", dimensions: [("endpoint", endpoint), ("status", "\(statusClass)xx")])
        timers.withLock { $0[key] = timer }
        return timer
    }
}
