import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Runs a Hummingbird router on 127.0.0.1 with an OS-chosen port for the duration of
/// `body`, which gets the base URL (`http://127.0.0.1:PORT`). The server is shut down when
/// `body` returns or throws; requests still hanging then are cancelled after a second.
public func withFakeServer<R: Sendable>(
    _ router: Router<BasicRequestContext>,
    _ body: @Sendable (String) async throws -> R
) async throws -> R {
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let quiet = Logger(label: "klaxon.fake", factory: { _ in SwiftLogNoOpLogHandler() })
    let app = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "klaxon-fake"),
        onServerRunning: { channel in
            continuation.yield(channel.localAddress?.port ?? 0)
            continuation.finish()
        },
        logger: quiet
    )
    var configuration = ServiceGroupConfiguration(services: [app], logger: quiet)
    configuration.maximumGracefulShutdownDuration = .seconds(1)
    let group = ServiceGroup(configuration: configuration)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            await group.triggerGracefulShutdown()
            throw FakeServerError(message: "the fake server did not start")
        }
        do {
            let result = try await body("http://127.0.0.1:\(port)")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}

public struct FakeServerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
