import BenchShared
import Foundation
import Hummingbird
import Logging

// Hummingbird 2 with the same routes, template and data as bench-mes.
let port = Int(argument("port", default: "8091"))!
let fixture = try PageFixture(templatePath: argument("template", default: "Resources/page.mustache"))
let publicFolder = argument("public", default: "Resources/public")

/// Fans each event out to every open stream.
actor Broadcaster {
    private var continuations: [UUID: AsyncStream<ByteBuffer>.Continuation] = [:]

    func subscribe() -> AsyncStream<ByteBuffer> {
        let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .bufferingNewest(64))
        let id = UUID()
        continuations[id] = continuation
        continuation.onTermination = { _ in Task { await self.remove(id) } }
        return stream
    }

    func remove(_ id: UUID) { continuations[id] = nil }

    func publish(_ text: String) {
        let buffer = ByteBuffer(string: text)
        for continuation in continuations.values { continuation.yield(buffer) }
    }
}

let broadcaster = Broadcaster()
let tick = RequestCounter()
let router = Router()
router.add(middleware: FileMiddleware(publicFolder, urlBasePath: "/static", searchForIndexHtml: false))
router.get("page") { _, _ -> Response in
    Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: fixture.render(tick: tick.next()))))
}
router.get("events") { _, _ -> Response in
    let stream = await broadcaster.subscribe()
    return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"], body: .init { writer in
        try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
        for await event in stream { try await writer.write(event) }
        try await writer.finish(nil)
    })
}

var logger = Logger(label: "bench-hummingbird")
logger.logLevel = .warning
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
Task {
    var id = 0
    while true {
        try await Task.sleep(for: .milliseconds(100))
        id += 1
        await broadcaster.publish("id: \(id)\ndata: \(realtimeNanoseconds())\n\n")
    }
}
print("bench-hummingbird listening on \(port)")
fflush(nil)
try await app.runService()
