// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Tokenmeter",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tokenmeter", targets: ["tokenmeter"]),
    ],
    targets: [
        // C libraries through system-library targets, plus the Linux syscalls Glibc does not expose.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "CLinux"),

        // The domain: value types, pricing, ports. Knows no I/O.
        .target(name: "TokenmeterCore", resources: [.copy("Resources/prices.json")]),
        // Strict JSON parser and writer for untrusted bodies and API answers.
        .target(name: "JSON"),
        // Transport: epoll HTTP/1.1 server.
        .target(name: "HTTP", dependencies: ["CLinux", "CZlib"]),
        // libpq wrapper: connections, pool, bound queries, COPY.
        .target(name: "Postgres", dependencies: ["CLibPQ"]),
        // Native event decoding, validation, normalization, pricing and group commit.
        .target(name: "Ingest", dependencies: ["TokenmeterCore", "JSON"]),
        // OpenTelemetry (OTLP/HTTP) receiver: protobuf and JSON decoding, span → event mapping.
        .target(name: "OTLP", dependencies: ["TokenmeterCore", "JSON", "Ingest"]),
        // Migrations and the Postgres implementation of the domain's ports.
        .target(name: "Store", dependencies: ["TokenmeterCore", "Postgres", "OTLP", "JSON", "Detection"]),
        // Routes: HTTP requests to domain calls and back.
        .target(name: "API", dependencies: ["TokenmeterCore", "JSON", "HTTP", "Ingest", "OTLP", "Detection"]),
        // Anomaly detectors and the alert state machine: pure functions over in-memory series.
        .target(name: "Detection", dependencies: ["TokenmeterCore"]),
        // Typed wrappers for libcurl's variadic setopt/getinfo, which Swift cannot call.
        .target(name: "CCurlWrappers", dependencies: ["CCurl"]),
        // Alert delivery: transactional outbox in Postgres, webhook and Slack payloads, HMAC, libcurl deliverer.
        .target(name: "Delivery", dependencies: ["TokenmeterCore", "JSON", "Detection", "Postgres", "CCurl", "CCurlWrappers"]),
        // Composition root: configuration, embedded Postgres, services, CLI.
        .target(name: "App", dependencies: ["CLinux", "TokenmeterCore", "JSON", "HTTP", "Postgres", "Ingest", "OTLP", "Store", "API", "Detection", "Delivery"]),
        .executableTarget(name: "tokenmeter", dependencies: ["App"]),

        // libFuzzer entry points (scripts/fuzz builds them with --sanitize=fuzzer; a plain build makes empty programs).
        .target(name: "FuzzHarnesses", dependencies: ["HTTP", "Ingest", "OTLP"]),
        .executableTarget(name: "FuzzHTTPParser", dependencies: ["FuzzHarnesses"], path: "Fuzz/HTTPParser"),
        .executableTarget(name: "FuzzEventDecoder", dependencies: ["FuzzHarnesses"], path: "Fuzz/EventDecoder"),
        .executableTarget(name: "FuzzOTLP", dependencies: ["FuzzHarnesses"], path: "Fuzz/OTLP"),
        .executableTarget(name: "FuzzGzip", dependencies: ["FuzzHarnesses"], path: "Fuzz/Gzip"),

        .testTarget(name: "TokenmeterCoreTests", dependencies: ["TokenmeterCore"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "CZlib"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres"]),
        .testTarget(name: "IngestTests", dependencies: ["Ingest", "TokenmeterCore", "JSON"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "TokenmeterCore"]),
        .testTarget(name: "APITests", dependencies: ["API"]),
        .testTarget(name: "FuzzHarnessesTests", dependencies: ["FuzzHarnesses"]),
        .testTarget(name: "OTLPTests", dependencies: ["OTLP", "Ingest", "TokenmeterCore", "JSON", "HTTP"], exclude: ["Fixtures"]),
        .testTarget(name: "DetectionTests", dependencies: ["Detection", "TokenmeterCore"]),
        .testTarget(name: "DeliveryTests", dependencies: ["Delivery", "Detection", "TokenmeterCore", "JSON", "Postgres", "Store"]),
        .testTarget(name: "AppTests", dependencies: ["App", "CZlib", "TokenmeterCore", "JSON", "HTTP", "Postgres", "Store", "API", "Ingest", "OTLP", "Detection", "Delivery"]),
    ]
)
