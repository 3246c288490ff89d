import Logging
import Metrics
import Synchronization
import Workers

/// What every event loop of one server shares: settings, routes, the worker pool and counters.
final class ServerCore: Sendable {
    let configuration: HTTPServerConfiguration
    let router: Router
    let logger: Logger
    let workers: WorkerPool
    let openConnections = Atomic<Int>(0)
    /// Event streams open now (the `mes_sse_clients` gauge).
    let openStreams = Atomic<Int>(0)
    let streamsGauge = Gauge(label: "mes_sse_clients")
    let durations = Timer(label: "mes_http_request_duration_seconds")
    let statusCounters = (1...5).map { Counter(label: "mes_http_requests_total", dimensions: [("status", "\($0)xx")]) }
    /// A per-process prefix so request ids stay unique across restarts.
    let requestIDPrefix: String

    init(configuration: HTTPServerConfiguration, router: Router, logger: Logger) {
        self.configuration = configuration
        self.router = router
        self.logger = logger
        self.workers = WorkerPool(name: "http-worker", threadCount: configuration.workerCount)
        var generator = SystemRandomNumberGenerator()
        self.requestIDPrefix = String(generator.next() & 0xFFFFFF, radix: 36)
    }

    func streamOpened() { streamsGauge.record(openStreams.add(1, ordering: .relaxed).newValue) }
    func streamClosed() { streamsGauge.record(openStreams.subtract(1, ordering: .relaxed).newValue) }

    /// Runs the middleware chain and the handler; never throws. An `HTTPError` becomes its page,
    /// anything else is logged and becomes a 500 page that shows only the request id.
    func respond(route: Router.Route, request: HTTPRequest, context: RequestContext) -> HTTPResponse {
        var context = context
        let middleware = router.middleware
        func next(_ index: Int, _ request: HTTPRequest, _ context: inout RequestContext) throws -> HTTPResponse {
            guard index < middleware.count else { return try route.handler(request, &context) }
            return try middleware[index].handle(request, context: &context) { request, context in
                try next(index + 1, request, &context)
            }
        }
        var response: HTTPResponse
        let started = ContinuousClock.now
        defer {
            durations.record(duration: ContinuousClock.now - started)
            statusCounters[min(4, max(0, response.status.code / 100 - 1))].increment()
        }
        do {
            response = try next(0, request, &context)
        } catch let error as HTTPError {
            response = ResponseEncoder.errorPage(error, requestID: context.requestID)
        } catch {
            context.logger.error("handler for \(request.method) \(route.pattern) failed: \(error)")
            response = ResponseEncoder.errorPage(
                HTTPError(.internalServerError, "Something went wrong on our side. Please try again; if it persists, give this request id to your administrator."),
                requestID: context.requestID)
        }
        ResponseEncoder.compressIfUseful(&response, request: request)
        return response
    }
}
