// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "klaxon",
    platforms: [.macOS(.v14)],
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
        .executableTarget(
            name: "klaxon",
            dependencies: [
                "KlaxonCore",
                "KlaxonIngest",
                "KlaxonRules",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "klaxon-bench",
            dependencies: ["KlaxonCore", "KlaxonIngest", "KlaxonRules"],
            path: "bench/klaxon-bench"
        ),
        .testTarget(name: "KlaxonCoreTests", dependencies: ["KlaxonCore"]),
        .testTarget(name: "KlaxonIngestTests", dependencies: ["KlaxonIngest"], resources: [.copy("Fixtures")]),
        .testTarget(name: "KlaxonRulesTests", dependencies: ["KlaxonRules"], resources: [.copy("Fixtures")]),
        .testTarget(name: "KlaxonCLITests", dependencies: ["klaxon"]),
    ]
)

for target in package.targets where target.type != .plugin {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}
