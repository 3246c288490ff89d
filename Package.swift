// swift-tools-version:6.1
import PackageDescription

/// Settings every Swift target shares: Swift 6 language mode comes from the tools version;
/// these upcoming features keep existentials and imports explicit.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "mes",
    products: [
        .executable(name: "mes", targets: ["mes"]),
        // For the benchmark harness in Benchmarks/, which measures them beside their peers.
        .library(name: "HTTP", targets: ["HTTP"]),
        .library(name: "Domain", targets: ["Domain"]),
        .library(name: "MQTT", targets: ["MQTT"]),
        .library(name: "Postgres", targets: ["Postgres"]),
        .library(name: "Collector", targets: ["Collector"]),
        .library(name: "Templating", targets: ["Templating"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // PBKDF2 for password and PIN hashes (BoringSSL underneath): nothing else from it.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // Metrics (the API) and their Prometheus exposition at /metrics; neither brings SwiftNIO.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        // C libraries, each imported only by its wrapper target below.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),
        .systemLibrary(name: "CCmark", pkgConfig: "libcmark", providers: [.apt(["libcmark-dev"])]),

        // Linux calls Glibc does not expose (epoll, eventfd, accept4) and zlib's gzip.
        .target(name: "CLinux", linkerSettings: [.linkedLibrary("z")]),

        // Generic libraries that know nothing of manufacturing.
        .target(name: "Workers", swiftSettings: strictSettings),
        .target(name: "CivilDate", swiftSettings: strictSettings),
        .target(
            name: "Postgres",
            dependencies: ["CLibPQ", "CivilDate", "Workers", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "MQTT",
            dependencies: ["CMosquitto", "Workers", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "HTTP",
            dependencies: ["CLinux", "Markup", "Workers", .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics")],
            swiftSettings: strictSettings
        ),
        .target(name: "Markdown", dependencies: ["CCmark"], swiftSettings: strictSettings),
        // Mustache templates parsed once and rendered into bytes, escaped by default (the pages).
        .target(name: "Templating", dependencies: ["Markup", "Workers"], swiftSettings: strictSettings),
        // SVG charts drawn on the server (control charts now; timelines and Paretos later).
        .target(name: "Charts", dependencies: ["Markup"], swiftSettings: strictSettings),
        // HTML/XML escaping, shared by error pages, charts and the web app.
        .target(name: "Markup", swiftSettings: strictSettings),
        .target(name: "Config", swiftSettings: strictSettings),
        // SHA-256 and HMAC-SHA-256: API token hashes, webhook signatures.
        .target(name: "Digest", swiftSettings: strictSettings),
        // Password and PIN hashes (PBKDF2-HMAC-SHA-256), for sign-in and signature re-authentication.
        .target(
            name: "Passwords",
            dependencies: ["Digest", .product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto")],
            swiftSettings: strictSettings),
        // Any JSON value, for payloads whose shape depends on their content.
        .target(name: "JSON", swiftSettings: strictSettings),

        // Pure plant rules: no I/O, no dependencies (SPC now; OEE, states, shifts to come).
        .target(name: "Domain", dependencies: ["CivilDate"], swiftSettings: strictSettings),
        // MQTT ingestion: dialects decoded into machine messages (the collector grows here).
        .target(
            name: "Collector",
            dependencies: ["Domain", "JSON", "MQTT", "Services", "Workers", .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics")],
            swiftSettings: strictSettings
        ),
        // The one service layer: every business rule and transaction, shared by the web app, the
        // collector, the ERP sync and the command line.
        .target(
            name: "Services",
            dependencies: ["Digest", "Domain", "JSON", "Markdown", "Passwords", "Postgres", "TimeZones", "Workers", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        // Tryton as the ERP: a JSON-RPC client and the connector that pulls orders and pushes the
        // outbox (URLSession from FoundationNetworking for HTTP and HTTPS).
        .target(name: "Tryton", dependencies: ["CivilDate", "HTTPClient", "JSON", "Services", "Workers"], swiftSettings: strictSettings),
        // Outbound webhooks, the outbox for ERPs without a connector: signed with HMAC-SHA-256.
        .target(name: "Webhooks", dependencies: ["Digest", "HTTPClient", "JSON", "Services"], swiftSettings: strictSettings),
        // Blocking HTTP requests over URLSession, for jobs on their own threads.
        .target(name: "HTTPClient", dependencies: ["Workers"], swiftSettings: strictSettings),
        // The web application: the REST API now, the pages with the web-application issue.
        .target(
            name: "Web", dependencies: ["Charts", "Digest", "Domain", "HTTP", "JSON", "Postgres", "Services", "Templating", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings),
        // A deterministic plant for demos, tests and benchmarks (mes simulate).
        .target(name: "Simulation", dependencies: ["Domain"], swiftSettings: strictSettings),
        // Offline analyses for the command line (mes spc, mes oee): files in, stable JSON out.
        .target(name: "Analysis", dependencies: ["Domain", "Charts", "TimeZones"], swiftSettings: strictSettings),
        // A site's time zone from the system's zone database, for shift calendars.
        .target(name: "TimeZones", dependencies: ["Domain"], swiftSettings: strictSettings),

        // The one executable: the composition root.
        .executableTarget(
            name: "mes",
            dependencies: [
                "Analysis",
                "Collector",
                "Config",
                "Domain",
                "HTTP",
                "MQTT",
                "Postgres",
                "Services",
                "Simulation",
                "Templating",
                "Tryton",
                "Web",
                "Webhooks",
                "Workers",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),

        // libFuzzer target for the HTTP parser (scripts/fuzz-http.sh); replays a corpus otherwise.
        .target(name: "FuzzSupport", path: "Fuzz/Support", swiftSettings: strictSettings),
        .executableTarget(name: "http-fuzz", dependencies: ["HTTP", "FuzzSupport"], path: "Fuzz/HTTPParser", swiftSettings: strictSettings),
        // libFuzzer target for the Sparkplug B and JSON payload decoders (scripts/fuzz.sh payload-fuzz).
        .executableTarget(name: "payload-fuzz", dependencies: ["Collector", "Domain", "FuzzSupport"], path: "Fuzz/Payloads", swiftSettings: strictSettings),
        // libFuzzer target for the multipart/form-data parser with a round-trip check (scripts/fuzz.sh multipart-fuzz).
        .executableTarget(name: "multipart-fuzz", dependencies: ["HTTP", "FuzzSupport"], path: "Fuzz/Multipart", swiftSettings: strictSettings),

        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "Domain", "TimeZones"], swiftSettings: strictSettings),
        .testTarget(name: "ChartsTests", dependencies: ["Charts"], exclude: ["Snapshots"], swiftSettings: strictSettings),
        .testTarget(
            name: "CollectorTests", dependencies: ["Workers", "Collector", "Domain", "JSON", "MQTT", "Postgres", "Services", "TestSupport"],
            swiftSettings: strictSettings),
        .testTarget(name: "DomainTests", dependencies: ["Domain"], swiftSettings: strictSettings),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "Domain", "Collector", "Services"], swiftSettings: strictSettings),
        .testTarget(name: "ConfigTests", dependencies: ["Config"], swiftSettings: strictSettings),
        .testTarget(
            name: "WebTests", dependencies: ["Workers", "Web", "Webhooks", "Digest", "HTTP", "HTTPClient", "Services", "Domain", "Postgres", "JSON", "Templating", "TestSupport"],
            exclude: ["Snapshots"], swiftSettings: strictSettings),
        .testTarget(name: "DigestTests", dependencies: ["Digest"], swiftSettings: strictSettings),
        .testTarget(name: "PasswordsTests", dependencies: ["Passwords", "Digest"], swiftSettings: strictSettings),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient"], swiftSettings: strictSettings),
        .testTarget(name: "WorkersTests", dependencies: ["Workers"], swiftSettings: strictSettings),
        // Fresh throwaway databases for the tests that need PostgreSQL.
        .target(name: "TestSupport", dependencies: ["Workers", "Postgres"], path: "Tests/TestSupport", swiftSettings: strictSettings),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(
            name: "TrytonTests", dependencies: ["Workers", "Tryton", "Services", "Domain", "Postgres", "JSON", "HTTP", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "ServicesTests", dependencies: ["Workers", "Services", "Domain", "Digest", "JSON", "Passwords", "Postgres", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "MQTTTests", dependencies: ["MQTT", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP"], swiftSettings: strictSettings),
        .testTarget(name: "MarkdownTests", dependencies: ["Markdown"], swiftSettings: strictSettings),
        .testTarget(name: "TemplatingTests", dependencies: ["Templating"], swiftSettings: strictSettings),
    ]
)
