import BenchShared
import Foundation
import HTTP
import Logging

// Our server for the benchmark: /page (Mustache, 20 machines), /static/*, /events (SSE with a
// broadcast every 100 ms carrying the send time).
TerminationSignals.block()
let port = Int(argument("port", default: "8090"))!
let fixture = try PageFixture(templatePath: argument("template", default: "Resources/page.mustache"))
let files = try StaticFiles(root: argument("public", default: "Resources/public"))
let hub = SSEHub(replayCapacity: 64)

// `--render-only N`: time N renders of the page alone, to separate template cost from server cost.
if let count = Int(argument("render-only", default: "")) {
    let start = ContinuousClock.now
    var bytes = 0
    for n in 0..<count { bytes += fixture.render(tick: n).utf8.count }
    let elapsed = ContinuousClock.now - start
    print("render: \(elapsed / count) per page of \(bytes / count) bytes")
    exit(0)
}

var router = Router()
let tick = RequestCounter()
try router.get("/page", execution: .loop) { _, _ in .html(fixture.render(tick: tick.next())) }
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
