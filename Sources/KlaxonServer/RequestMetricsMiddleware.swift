import Hummingbird
import Metrics

/// Request latency per endpoint (the route pattern, not the raw path, so ids do not
/// explode the label set) and status class.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var status = 500
        defer {
            let elapsed = ContinuousClock.now - start
            let (seconds, attoseconds) = elapsed.components
            Timer(
                label: "klaxon_http_request_seconds",
                dimensions: [("endpoint", context.endpointPath ?? "unmatched"), ("status", "\(status / 100)xx")]
            ).recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
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
