// swift-tools-version: 6.1
// AgriTrace: edge agent + cloud aggregator for agri-food supply-chain traceability.
// Targets are laid out by room (see ../shared/DESIGN.md): Shared/, Agent/, Aggregator/, Tests/.
import PackageDescription

let package = Package(
    name: "AgriTrace",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "agritrace-agent", targets: ["AgentMain"]),
        .executable(name: "agritrace", targets: ["AggregatorMain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // MARK: Shared (pure: domain model and cryptography)
        .target(
            name: "AgriTraceCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            path: "Shared/Core"
        ),
        .target(
            name: "BLS12381",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            path: "Shared/BLS12381"
        ),
        .executableTarget(
            name: "bench-bls",
            dependencies: ["BLS12381"],
            path: "Benchmarks/BLS"
        ),

        // MARK: Agent
        .executableTarget(
            name: "AgentMain",
            dependencies: [
                "AgriTraceCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Agent/Main"
        ),

        // MARK: Aggregator
        .executableTarget(
            name: "AggregatorMain",
            dependencies: [
                "AgriTraceCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Aggregator/Main"
        ),

        // MARK: Tests
        .testTarget(
            name: "CoreTests",
            dependencies: [
                "AgriTraceCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            path: "Tests/CoreTests"
        ),
        .testTarget(
            name: "BLS12381Tests",
            dependencies: [
                "BLS12381",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            path: "Tests/BLS12381Tests",
            resources: [.copy("Fixtures")]
        ),
    ]
)
