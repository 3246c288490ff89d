// swift-tools-version:6.1
// Benchmark harness: our HTTP server beside a Hummingbird 2 server built from the same template
// and data. A package of its own, so Hummingbird and SwiftNIO never enter the product's graph.
import Foundation
import PackageDescription

// A path dependency is named after its folder, whatever the checkout is called.
let productPackage = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "mes-benchmarks",
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        .target(name: "BenchShared", dependencies: [.product(name: "Mustache", package: "swift-mustache")]),
        .executableTarget(
            name: "bench-mes",
            dependencies: ["BenchShared", .product(name: "HTTP", package: productPackage), .product(name: "Templating", package: productPackage)]),
        .executableTarget(name: "bench-hummingbird", dependencies: ["BenchShared", .product(name: "Hummingbird", package: "hummingbird")]),
        .executableTarget(name: "sse-load"),
        .executableTarget(name: "bench-analytics", dependencies: [.product(name: "Domain", package: productPackage)]),
        .executableTarget(
            name: "bench-ingest",
            dependencies: [
                .product(name: "MQTT", package: productPackage), .product(name: "Postgres", package: productPackage),
                .product(name: "Collector", package: productPackage),
            ]),
    ]
)
