import ArgumentParser
import Foundation
import KlaxonServer
import Logging
import Metrics
import Prometheus

/// `klaxon serve`: the bridge itself.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the bridge: webhooks in, incidents, escalation, calls out.",
        discussion: """
            Serves the rules on HOST:PORT with the incident store, until SIGTERM or SIGINT;
            calls in flight finish before it exits. SIGHUP or POST /-/reload reloads the rules;
            rules with errors are refused and the ones in use keep serving. Log level from
            LOG_LEVEL (default info).
            """
    )

    @Option(help: "Rule directory or file; repeat to merge several (default: rules).")
    var config: [String] = []

    @Option(help: "HOST:PORT to listen on (default: server.listen, else 127.0.0.1:9095).")
    var listen: String?

    @Option(help: "Store URL, sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE (default: the rules' store:, else sqlite:data/klaxon.db).")
    var store: String?

    func run() async throws {
        EarlyHangup.noteUntilReloaderListens()
        let paths = config.isEmpty ? ["rules"] : config
        for path in paths where !FileManager.default.fileExists(atPath: path) {
            StandardError.print("klaxon serve: no such file or directory: \(path)")
            throw ExitCode(2)
        }
        let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        LoggingSystem.bootstrap { label in StandardErrorLogHandler(label: label, level: level) }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "klaxon")
        do {
            defer { LogLineWriter.standardError.flush() }
            try await KlaxonServe.run(ServeOptions(configPaths: paths, listen: listen, store: store), metrics: registry, logger: logger)
        } catch let error as ServeError {
            for line in error.lines { StandardError.print(line) }
            throw ExitCode(1)
        }
    }
}
