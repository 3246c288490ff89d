import BenchShared
import Foundation
import HTTP
import Logging
import Templating

/// The page as the product renders it: our Mustache engine over view-model structs.
struct MachineRowView: TemplateObject {
    let row: MachineRow
    subscript(templateKey key: String) -> TemplateValue? {
        switch key {
        case "code": .string(row.code)
        case "state": .string(row.state)
        case "minutes": .int(row.minutes)
        case "order": .string(row.order)
        case "good": .int(row.good)
        case "planned": .int(row.planned)
        default: nil
        }
    }
}

struct MESPage: Sendable {
    let library: TemplateLibrary

    init(templatePath: String) throws {
        library = try TemplateLibrary(sources: ["page": String(contentsOfFile: templatePath, encoding: .utf8)])
    }

    func render(tick: Int) throws -> [UInt8] {
        let machines = MachineRow.line(tick: tick).map { TemplateValue.object(MachineRowView(row: $0)) }
        let context: TemplateValue = ["line": .string(pageLine), "shift": .string(pageShift), "machines": .list(machines)]
        return try library.render("page", context)
    }
}

// Our server for the benchmark: /page (Mustache, 20 machines), /static/*, /events (SSE with a
// broadcast every 100 ms carrying the send time).
TerminationSignals.block()
let port = Int(argument("port", default: "8090"))!
let page = try MESPage(templatePath: argument("template", default: "Resources/page.mustache"))
let files = try StaticFiles(root: argument("public", default: "Resources/public"))
let hub = SSEHub(replayCapacity: 64)

// `--render-only N`: time N renders of the page alone, to separate template cost from server
// cost, with ours and with swift-mustache (Hummingbird's), checking that both give the same page.
if let count = Int(argument("render-only", default: "")) {
    let theirs = try PageFixture(templatePath: argument("template", default: "Resources/page.mustache"))
    guard try page.render(tick: 7) == Array(theirs.render(tick: 7).utf8) else {
        print("the two engines render different pages")
        exit(1)
    }
    for (name, render) in [("mes Templating", { (n: Int) in try page.render(tick: n).count }), ("swift-mustache", { theirs.render(tick: $0).utf8.count })] {
        let start = ContinuousClock.now
        var bytes = 0
        for n in 0..<count { bytes += try render(n) }
        let elapsed = ContinuousClock.now - start
        print("render with \(name): \(elapsed / count) per page of \(bytes / count) bytes")
    }
    exit(0)
}

var router = Router()
let tick = RequestCounter()
try router.get("/page", execution: .loop) { _, _ in
    HTTPResponse(contentType: "text/html; charset=utf-8", body: try page.render(tick: tick.next()))
}
try router.get("/static/*file", execution: .loop, files.handler(parameter: "file"))
try router.get("/events", execution: .loop) { _, _ in .eventStream(hub) }

var logger = Logger(label: "bench")
logger.logLevel = .warning
let server = HTTPServer(
    configuration: HTTPServerConfiguration(host: "127.0.0.1", port: port, workerCount: 2, idleTimeout: 300, maxConnections: 20_000),
    router: router, logger: logger)
try server.start()
Thread.detachNewThread {
    while true {
        Thread.sleep(forTimeInterval: 0.1)
        hub.publish(data: String(realtimeNanoseconds()))
    }
}
print("bench-mes listening on \(server.port)")
fflush(nil)
_ = TerminationSignals.wait()
server.shutdown(gracePeriod: 1)
