// swift-tools-version:6.1
import PackageDescription

// Debian 12's librdkafka (2.0.2) cannot talk to current brokers, so
// scripts/setup.sh installs a >= 2.1 build into .deps/lib. Link against it and
// record where to find it at run time (no LD_LIBRARY_PATH needed): first the
// checkout's .deps/lib, then ../lib next to an installed binary.
let bundledLibraries = Context.packageDirectory + "/.deps/lib"
let rdkafkaLinkerSettings: [LinkerSetting] = [
    .unsafeFlags([
        "-L\(bundledLibraries)",
        "-Xlinker", "-rpath", "-Xlinker", bundledLibraries,
        "-Xlinker", "-rpath", "-Xlinker", "$ORIGIN/../lib",
    ])
]

let package = Package(
    name: "csworker",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "csworker", targets: ["csworker"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.0.0"),
    ],
    targets: [
        // C shims: one per C library, nothing else imports the C modules directly
        // except the Swift wrapper of that library.
        .systemLibrary(
            name: "CRdkafka",
            path: "Sources/CRdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            path: "Sources/CLibPQ",
            providers: [.apt(["libpq-dev"])]
        ),
        // glibc's malloc tuning for the long-running worker (MemoryTuning).
        .systemLibrary(
            name: "CMalloc",
            path: "Sources/CMalloc"
        ),

        // Thin idiomatic Swift layers over the C libraries.
        .target(
            name: "Kafka",
            dependencies: [
                "CRdkafka",
                "TimeUnits",
                .product(name: "Logging", package: "swift-log"),
            ],
            linkerSettings: rdkafkaLinkerSettings
        ),
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ",
                "TimeUnits",
                "CivilDate",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // JSON values, a strict parser, a pull reader and a writer: no domain types.
        .target(name: "JSON"),
        // Days <-> year, month, day on the proleptic Gregorian calendar: the one
        // algorithm every date type counts with.
        .target(name: "CivilDate"),

        // Durations as milliseconds and seconds, in one place.
        .target(name: "TimeUnits"),

        // The domain: pure Swift, no I/O, no JSON, no Kafka or SQL types.
        .target(
            name: "CaseDomain",
            dependencies: [
                "CivilDate",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // The wire contract: topic names, the event decoder (JSON -> domain
        // events, validated as the schemas say), the task wire format and the
        // policy file.
        .target(
            name: "CaseContract",
            dependencies: ["CaseDomain", "CivilDate", "JSON"]
        ),

        // Storage: schema migrations and every SQL statement; no Kafka types.
        .target(
            name: "CaseStorage",
            dependencies: [
                "CaseContract",
                "TimeUnits",
                "JSON",
                "Postgres",
                "CaseDomain",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The pipeline: consume, apply, outbox, commit; outbox relay; dead letters.
        // Emits metrics through the swift-metrics API only; the backend is the executable's choice.
        .target(
            name: "CasePipeline",
            dependencies: [
                "CaseContract",
                "TimeUnits",
                "JSON",
                "Kafka",
                "CaseStorage",
                "CaseDomain",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // The operator's HTTP port: Prometheus text, liveness and readiness.
        // Handlers read in-memory state only, so they answer while the worker is busy.
        .target(
            name: "OperationsServer",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Realistic, reproducible event streams for the demo, the benchmark and
        // integration tests. Writes the wire format directly from the contract.
        .target(
            name: "CaseScenarios",
            dependencies: [
                // Only for the task id rule: a returned disbursement names csworker's task.
                "CaseDomain",
                "CivilDate",
                "JSON",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // The supervisors' and operators' web console: sign-in, sessions, pages and their JSON API.
        .target(
            name: "Console",
            dependencies: [
                "CaseContract",
                "CaseDomain",
                "CasePipeline",
                "CaseStorage",
                "JSON",
                "Kafka",
                "Postgres",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // The executable stays thin: argument parsing and wiring.
        .executableTarget(
            name: "csworker",
            dependencies: [
                "CaseContract",
                "TimeUnits",
                "JSON",
                "CMalloc",
                "Kafka",
                "Postgres",
                "CaseDomain",
                "CaseStorage",
                "CasePipeline",
                "CaseScenarios",
                "OperationsServer",
                "Console",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Helpers the test targets share: the test database, child processes,
        // blocking calls off the shared pool.
        .target(
            name: "TestSupport",
            dependencies: ["Postgres"],
            path: "Tests/TestSupport"
        ),

        .testTarget(
            name: "CaseDomainTests",
            dependencies: [
                "CaseContract",
                "CaseDomain",
                "CaseScenarios",
                "JSON",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            // Read through #filePath by the schema agreement tests, not bundled.
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "CaseScenariosTests",
            dependencies: ["CaseScenarios", "CaseContract", "CaseDomain", "JSON"]
        ),
        .testTarget(
            name: "KafkaTests",
            dependencies: ["Kafka", "TestSupport"]
        ),
        .testTarget(
            name: "PostgresTests",
            dependencies: ["Postgres", "TestSupport"]
        ),
        .testTarget(
            name: "CaseStorageTests",
            dependencies: [
                "CaseStorage", "CaseContract", "CaseDomain", "CaseScenarios", "JSON", "Postgres", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "CasePipelineTests",
            dependencies: ["CasePipeline", "CaseStorage", "CaseContract", "CaseDomain", "CaseScenarios", "JSON", "Kafka", "Postgres", "TestSupport"]
        ),
        .testTarget(
            name: "ConsoleTests",
            dependencies: [
                "Console", "CaseContract", "CaseDomain", "CasePipeline", "CaseScenarios", "CaseStorage", "JSON", "Postgres",
                "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "CSWorkerTests",
            dependencies: ["csworker", "CaseScenarios", "JSON", "Postgres", "TestSupport"]
        ),
    ]
)
