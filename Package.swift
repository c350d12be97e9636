// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "klaxon",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "klaxon", targets: ["klaxon"]),
        .library(name: "KlaxonCore", targets: ["KlaxonCore"]),
        .library(name: "KlaxonIngest", targets: ["KlaxonIngest"]),
        .library(name: "KlaxonRules", targets: ["KlaxonRules"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        .target(name: "KlaxonCore"),
        .target(name: "KlaxonIngest", dependencies: ["KlaxonCore"]),
        .target(
            name: "KlaxonRules",
            dependencies: [
                "KlaxonCore",
                "KlaxonIngest",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        .target(
            name: "KlaxonProviders",
            dependencies: [
                "KlaxonCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "KlaxonEngine",
            dependencies: [
                "KlaxonCore",
                "KlaxonRules",
                "KlaxonProviders",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "KlaxonServer",
            dependencies: [
                "KlaxonCore",
                "KlaxonIngest",
                "KlaxonRules",
                "KlaxonProviders",
                "KlaxonEngine",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // Loopback fakes of the vendors' APIs, for tests and `klaxon call` demos; never shipped in the server.
        .target(
            name: "VendorFakes",
            dependencies: [
                "KlaxonCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/VendorFakes"
        ),
        // Test helpers: a manual clock, also as the engine's clock; throw-away PostgreSQL clusters.
        .target(name: "KlaxonTestSupport", dependencies: ["KlaxonCore"], path: "Tests/KlaxonTestSupport"),
        .executableTarget(
            name: "klaxon",
            dependencies: [
                "KlaxonCore",
                "KlaxonIngest",
                "KlaxonRules",
                "KlaxonProviders",
                "KlaxonEngine",
                "KlaxonServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "klaxon-bench",
            dependencies: ["KlaxonCore", "KlaxonIngest", "KlaxonRules"],
            path: "bench/klaxon-bench"
        ),
        .executableTarget(
            name: "klaxon-engine-bench",
            dependencies: [
                "KlaxonCore", "KlaxonEngine", "KlaxonIngest", "KlaxonProviders", "KlaxonRules",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "bench/klaxon-engine-bench"
        ),
        .executableTarget(
            name: "klaxon-http-bench",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "bench/klaxon-http-bench"
        ),
        .testTarget(name: "KlaxonCoreTests", dependencies: ["KlaxonCore"]),
        .testTarget(name: "KlaxonIngestTests", dependencies: ["KlaxonIngest"], resources: [.copy("Fixtures")]),
        .testTarget(name: "KlaxonRulesTests", dependencies: ["KlaxonRules"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "KlaxonProvidersTests",
            dependencies: [
                "KlaxonProviders", "VendorFakes", "KlaxonTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "KlaxonEngineTests",
            dependencies: [
                "KlaxonEngine", "KlaxonTestSupport", "VendorFakes",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
            ]
        ),
        .testTarget(
            name: "KlaxonServerTests",
            dependencies: [
                "KlaxonServer", "KlaxonEngine", "KlaxonTestSupport", "VendorFakes",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "KlaxonCLITests",
            dependencies: [
                "klaxon", "VendorFakes", "KlaxonTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ]
)

for target in package.targets where target.type != .plugin {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}
