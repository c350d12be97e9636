import Hummingbird

/// Answers Hummingbird's own errors (no endpoint at a path, a method the endpoint does not
/// take) with the design's JSON error body instead of an empty one, as every klaxon error is.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            let detail =
                error.status == .notFound
                ? "no endpoint \(request.method) \(request.uri.path)" : error.body ?? "\(request.method) \(request.uri.path)"
            throw APIError(error.status, error.status.reasonPhrase.lowercased(), detail: detail)
        }
    }
}
