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
        .executable(name: "agritrace-enroll", targets: ["EnrollMain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Already in the graph through hummingbird; named here for the CLI's HTTPS client.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // MARK: Shared (pure: domain model and cryptography)
        .target(
            name: "AgriTraceCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            path: "Shared/Core"
        ),
        // BLS12-381 base-field multiplication with MULX/ADCX/ADOX (x86-64) and its CPU check.
        .target(name: "CFieldArithmetic", path: "Shared/CFieldArithmetic"),
        .target(
            name: "BLS12381",
            dependencies: ["CFieldArithmetic", .product(name: "Crypto", package: "swift-crypto")],
            path: "Shared/BLS12381"
        ),
        .executableTarget(
            name: "bench-bls",
            dependencies: ["BLS12381"],
            path: "Benchmarks/BLS"
        ),
        // Attribute-based cryptography (hidden-policy ABSE, CP-ABE) on BLS12-381.
        .target(
            name: "AccessCrypto",
            dependencies: ["BLS12381", "AgriTraceCore", .product(name: "Crypto", package: "swift-crypto")],
            path: "Shared/AccessCrypto"
        ),
        .executableTarget(
            name: "bench-access",
            dependencies: ["AccessCrypto", "BLS12381", "AgriTraceCore"],
            path: "Benchmarks/Access"
        ),

        // MARK: Shared I/O wrappers (libmosquitto, SQLite)
        .systemLibrary(
            name: "CMosquitto",
            path: "Shared/CMosquitto",
            pkgConfig: "libmosquitto",
            providers: [.apt(["libmosquitto-dev"])]
        ),
        // Threads, mutex and condition over pthreads: the agent's modules do without Foundation.
        .target(name: "CThreadName", path: "Shared/CThreadName"),
        .target(name: "PosixThreads", dependencies: ["CThreadName"], path: "Shared/PosixThreads"),
        .target(name: "MQTTClient", dependencies: ["CMosquitto", "PosixThreads"], path: "Shared/MQTTClient"),
        .systemLibrary(
            name: "CSQLite",
            path: "Shared/CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(name: "SQLiteStorage", dependencies: ["CSQLite"], path: "Shared/SQLiteStorage"),

        // MARK: Agent
        .target(
            name: "EdgeAgent",
            dependencies: [
                "AgriTraceCore", "MQTTClient", "SQLiteStorage", "PosixThreads", "COpenSSL",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Agent/EdgeAgent"
        ),
        .executableTarget(
            name: "AgentMain",
            dependencies: [
                "AgriTraceCore", "EdgeAgent", "PosixThreads",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Agent/Main"
        ),
        .executableTarget(
            name: "bench-agent",
            dependencies: ["AgriTraceCore", "EdgeAgent", "MQTTClient", "SQLiteStorage"],
            path: "Benchmarks/Agent"
        ),

        // MARK: Aggregator
        // The pure ledger core: registry state, admission, the contracts' pure rules (no I/O).
        .target(
            name: "LedgerCore",
            dependencies: ["AgriTraceCore", .product(name: "Crypto", package: "swift-crypto")],
            path: "Aggregator/LedgerCore"
        ),
        .target(
            name: "Ledger",
            dependencies: [
                "AgriTraceCore", "LedgerCore", "MQTTClient", "SQLiteStorage",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Aggregator/Ledger"
        ),
        .systemLibrary(
            name: "COpenSSL",
            path: "Shared/COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // TLS peer certificates checked against the deployment CA and its revocation list: the
        // API's clients (server side) and the API server (CLI side).
        .target(name: "PeerCertificates", dependencies: ["COpenSSL"], path: "Aggregator/PeerCertificates"),
        .target(
            name: "LedgerAPI",
            dependencies: [
                "AgriTraceCore", "Ledger", "PeerCertificates",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Aggregator/API"
        ),
        // The parties of the access-control flow (regulator, owner, requester) on top of the
        // ledger's contracts and the attribute-based cryptography.
        .target(
            name: "AccessFlow",
            dependencies: [
                "AgriTraceCore", "AccessCrypto", "Ledger", "SQLiteStorage",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Aggregator/Access"
        ),
        .executableTarget(
            name: "bench-access-flow",
            dependencies: [
                "AccessFlow", "AccessCrypto", "AgriTraceCore", "Ledger",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/AccessFlow"
        ),
        .executableTarget(
            name: "AggregatorMain",
            dependencies: [
                "AgriTraceCore", "Provisioning", "Ledger", "LedgerAPI", "MQTTClient", "AccessFlow", "PeerCertificates",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Aggregator/Main"
        ),
        .executableTarget(
            name: "bench-aggregator",
            dependencies: [
                "AgriTraceCore", "Ledger", "MQTTClient", "SQLiteStorage", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/Aggregator"
        ),

        // MARK: Provisioning (certificate authority, enrollment, broker configuration)
        .target(
            name: "Provisioning",
            dependencies: [
                "AgriTraceCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Provisioning/Sources"
        ),
        .executableTarget(name: "EnrollMain", dependencies: ["Provisioning"], path: "Provisioning/Main"),

        // MARK: Tests
        .testTarget(
            name: "CoreTests",
            dependencies: [
                "AgriTraceCore", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            path: "Tests/CoreTests"
        ),
        .testTarget(
            name: "AccessCryptoTests",
            dependencies: [
                "AccessCrypto", "BLS12381", "AgriTraceCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            path: "Tests/AccessCryptoTests"
        ),

        .testTarget(
            name: "AgentTests",
            dependencies: ["AgriTraceCore", "EdgeAgent", "MQTTClient", "SQLiteStorage", "TestSupport"],
            path: "Tests/AgentTests"
        ),
        // MARK: Tests: aggregator (real mosquitto, real SQLite, the built `agritrace` for crash tests)
        .testTarget(
            name: "AggregatorTests",
            dependencies: [
                "AgriTraceCore", "Ledger", "LedgerAPI", "MQTTClient", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/AggregatorTests"
        ),

        .testTarget(
            name: "AccessFlowTests",
            dependencies: [
                "AgriTraceCore", "AccessCrypto", "AccessFlow", "Ledger", "SQLiteStorage", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            path: "Tests/AccessFlowTests"
        ),

        // The off-chain transfer of private data (docs/transfer.md): real ledger, blob store, broker.
        .testTarget(
            name: "TransferTests",
            dependencies: [
                "AgriTraceCore", "AccessCrypto", "AccessFlow", "Ledger", "SQLiteStorage", "TestSupport", "EdgeAgent",
                "MQTTClient", "AggregatorMain", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TransferTests"
        ),
        .executableTarget(
            name: "bench-transfer",
            dependencies: [
                "AgriTraceCore", "AccessFlow", "Ledger", .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/Transfer"
        ),

        // MARK: Tests: I/O wrappers and the real-broker harness
        .target(name: "TestSupport", dependencies: ["AgriTraceCore"], path: "Tests/Support"),
        .testTarget(
            name: "MQTTClientTests",
            dependencies: ["MQTTClient", "TestSupport"],
            path: "Tests/MQTTClientTests"
        ),
        .testTarget(
            name: "SQLiteStorageTests",
            dependencies: ["SQLiteStorage", "TestSupport"],
            path: "Tests/SQLiteStorageTests"
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["AgriTraceCore", "TestSupport", "AgentMain", "AggregatorMain"],
            path: "Tests/EndToEndTests"
        ),
        .testTarget(
            name: "ProvisioningTests",
            dependencies: ["Provisioning", "EnrollMain", "MQTTClient", "TestSupport"],
            path: "Tests/ProvisioningTests"
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
