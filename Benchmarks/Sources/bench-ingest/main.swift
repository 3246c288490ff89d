// Machine-data benchmark (issue 5): sustained ingest from Mosquitto into PostgreSQL through
// `mes collect`, counted for loss, beside the broker's own delivery ceiling and PostgreSQL's
// COPY rate measured in the same run; then publish-to-browser latency through `mes collect`
// and `mes serve` at 500 machines × 5 messages/s.
//
//   bench-ingest MES_BINARY   (with MES_BENCH_DATABASE_URL, a role with CREATEDB, and MES_BENCH_MQTT_URL)
import Collector
import Foundation
import MQTT
import Postgres
import Synchronization

let arguments = CommandLine.arguments
guard arguments.count >= 2, let serverURL = ProcessInfo.processInfo.environment["MES_BENCH_DATABASE_URL"],
      let mqttURL = ProcessInfo.processInfo.environment["MES_BENCH_MQTT_URL"], let broker = URLComponents(string: mqttURL),
      let brokerHost = broker.host, let brokerPort = broker.port
else {
    print("usage: MES_BENCH_DATABASE_URL=… MES_BENCH_MQTT_URL=… bench-ingest MES_BINARY [MESSAGES]")
    exit(64)
}
let mes = arguments[1]
let total = arguments.count > 2 ? Int(arguments[2]) ?? 300_000 : 300_000
let machines = 100
let baseTime: Int64 = 1_795_420_800_000

@Sendable func now() -> Double { Date().timeIntervalSince1970 }
func mqtt(_ id: String, persistent: Bool = false, onMessage: (@Sendable (MQTTMessage) -> Void)? = nil) throws -> MQTTClient {
    var configuration = MQTTConfiguration(
        host: brokerHost, port: brokerPort, clientID: id, username: broker.user, password: broker.password, cleanSession: !persistent)
    configuration.inflightWindow = 1_000
    return try MQTTClient(configuration: configuration, onMessage: onMessage)
}
func wait(_ body: @escaping @Sendable () async throws -> Void) throws {
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var failure: (any Error)?
    Task {
        do { try await body() } catch { failure = error }
        done.signal()
    }
    done.wait()
    if let failure { throw failure }
}
func databaseURL(_ name: String) -> String {
    let base = serverURL.split(separator: "?", maxSplits: 1)[0]
    return base[..<base.lastIndex(of: "/")!] + "/" + name
}

/// The messages a plant of 100 machines sends: mostly counter readings, every fifth a gauge
/// reading, every fiftieth a state change; distinct timestamps per machine, so none is a duplicate.
func message(_ i: Int) -> (String, [UInt8]) {
    let machine = "M\(i % machines)"
    let sequence = i / machines
    let ts = baseTime + Int64(sequence) * 10
    let topic: String
    let json: String
    if sequence % 50 == 0 {
        topic = "mes/S1/A1/L1/\(machine)/state"
        json = #"{"ts":\#(ts),"state":"\#(sequence % 100 == 0 ? "running" : "idle")"}"#
    } else if sequence % 5 == 0 {
        topic = "mes/S1/A1/L1/\(machine)/measurement"
        json = #"{"ts":\#(ts),"characteristic":"bore","value":12.00\#(sequence % 10),"unit":"mm"}"#
    } else {
        topic = "mes/S1/A1/L1/\(machine)/count"
        json = #"{"ts":\#(ts),"counter":"total","value":\#(sequence)}"#
    }
    return (topic, Array(json.utf8))
}

// MARK: 1. The broker's own ceiling: publish → subscriber, QoS 1, no database.

func brokerCeiling(_ count: Int) throws -> Double {
    let received = Mutex(0)
    let subscriber = try mqtt("bench-ceiling-sub-\(getpid())") { _ in received.withLock { $0 += 1 } }
    let publisher = try mqtt("bench-ceiling-pub-\(getpid())")
    try wait {
        try await subscriber.connect()
        try await subscriber.subscribe("bench/#", qos: 1)
        try await publisher.connect()
    }
    let messages = (0..<count).map { i -> (String, [UInt8]) in let m = message(i); return ("bench/" + m.0, m.1) }
    let start = now()
    for (topic, payload) in messages { try publisher.send(topic, payload: payload, qos: 1) }
    var last = -1
    var stalled = now()
    while received.withLock({ $0 }) < count {
        usleep(2_000)
        let n = received.withLock { $0 }
        if n != last { last = n; stalled = now() } else if now() - stalled > 5 { break }
    }
    let elapsed = now() - start
    let got = received.withLock { $0 }
    publisher.close()
    subscriber.close()
    if got < count { print("  broker: only \(got) of \(count) delivered") }
    return Double(got) / elapsed
}

// MARK: 2. PostgreSQL's COPY rate, rows shaped like machine_event.

func copyRate(_ count: Int) throws -> Double {
    let db = try PGConnection.connect(url: serverURL, applicationName: "bench-ingest")
    try db.execute("""
        CREATE TEMP TABLE copy_bench (machine_id bigint, occurred_at timestamptz, kind text, subject text,
            value double precision, detail text, severity text)
        """)
    let start = now()
    try db.copy(into: "copy_bench", columns: ["machine_id", "occurred_at", "kind", "subject", "value", "detail", "severity"]) { rows in
        for i in 0..<count {
            try rows.append(Int64(i % machines), Date(timeIntervalSince1970: Double(baseTime + Int64(i)) / 1000), "count", "total", Double(i), String?.none, String?.none)
        }
    }
    return Double(count) / (now() - start)
}

// MARK: 3. Ingest through `mes collect`.

final class Child {
    let process = Process()
    let output = Pipe()
    var log = ""
    init(_ arguments: [String], environment: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: mes)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }
    /// Reads output until a line contains `text`.
    func await(_ text: String, seconds: Double = 20) -> String? {
        let deadline = now() + seconds
        while now() < deadline {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            log += String(decoding: data, as: UTF8.self)
            if let line = log.split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
        }
        return nil
    }
    func stop() -> String {
        process.interrupt()
        process.waitUntilExit()
        log += String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return log
    }
}

func freshDatabase(_ name: String) throws -> String {
    let admin = try PGConnection.connect(url: serverURL, applicationName: "bench-ingest")
    try admin.execute("DROP DATABASE IF EXISTS \(identifier: name) WITH (FORCE)")
    try admin.execute("CREATE DATABASE \(identifier: name)")
    let url = databaseURL(name)
    let migrate = Process()
    migrate.executableURL = URL(fileURLWithPath: mes)
    migrate.arguments = ["migrate", "--database-url", url]
    migrate.standardOutput = FileHandle.nullDevice
    try migrate.run()
    migrate.waitUntilExit()
    let db = try PGConnection.connect(url: url, applicationName: "bench-ingest")
    try db.execute("INSERT INTO site (code, name, time_zone) VALUES ('S1', 'Bench', 'UTC')")
    return url
}

func ingest(_ count: Int) throws -> (rate: Double, stored: Int64, deadLetters: Int64, collectorLine: String) {
    let url = try freshDatabase("mes_bench_ingest")
    let spool = NSTemporaryDirectory() + "mes-bench-spool-\(getpid())"
    let collector = try Child(
        ["collect", "--database-url", url, "--mqtt-url", mqttURL, "--client-id", "bench-collector-\(getpid())", "--spool", spool],
        environment: ["MES_LOG_LEVEL": ProcessInfo.processInfo.environment["MES_BENCH_COLLECT_LOG"] ?? "warning"])
    guard collector.await("subscribed") != nil else { throw BenchError("mes collect did not start:\n\(collector.log)") }
    let publisher = try mqtt("bench-ingest-pub-\(getpid())")
    try wait { try await publisher.connect() }
    let messages = (0..<count).map(message)
    let db = try PGConnection.connect(url: url, applicationName: "bench-ingest")
    func stored() throws -> Int64 {
        let rows: [Int64] = try db.query("SELECT count(*) FROM machine_event").decode(Int64.self)
        return rows[0]
    }
    let start = now()
    for (topic, payload) in messages { try publisher.send(topic, payload: payload, qos: 1) }
    var last: Int64 = -1
    var lastChange = now()
    var finished = start
    while true {
        let n = try stored()
        if n != last { last = n; lastChange = now(); finished = lastChange }
        if n >= Int64(count) || now() - lastChange > 10 { break }
        usleep(20_000)
    }
    publisher.close()
    let log = collector.stop()
    try forgetSession("bench-collector-\(getpid())")
    if ProcessInfo.processInfo.environment["MES_BENCH_COLLECT_LOG"] != nil { print(log) }
    let line = log.split(separator: "\n").last { $0.contains("mes collect: received") }.map(String.init) ?? log
    let letterRows: [Int64] = try db.query("SELECT count(*) FROM dead_letter").decode(Int64.self)
    let letters = letterRows[0]
    return (Double(last) / (finished - start), last, letters, line)
}

// MARK: 3b. What kill -9 of the collector loses.

/// Publishes `count` messages at `rate` per second, kills `mes collect` with SIGKILL halfway,
/// starts it again on the same persistent session, and counts what reached the database.
func killLoss(_ count: Int, rate: Int) throws -> (stored: Int64, lost: Int64, killedAt: Int) {
    let url = try freshDatabase("mes_bench_kill")
    let spool = NSTemporaryDirectory() + "mes-bench-spool-kill-\(getpid())"
    let clientID = "bench-kill-\(getpid())"
    let arguments = ["collect", "--database-url", url, "--mqtt-url", mqttURL, "--client-id", clientID, "--spool", spool]
    var collector = try Child(arguments, environment: ["MES_LOG_LEVEL": "warning"])
    guard collector.await("subscribed") != nil else { throw BenchError("mes collect did not start:\n\(collector.log)") }
    let publisher = try mqtt("bench-kill-pub-\(getpid())")
    try wait { try await publisher.connect() }
    let start = now()
    for i in 0..<count {
        let due = start + Double(i) / Double(rate)
        if due > now() { usleep(useconds_t((due - now()) * 1_000_000)) }
        let (topic, payload) = message(i)
        try publisher.send(topic, payload: payload, qos: 1)
        if i == count / 2 {
            kill(collector.process.processIdentifier, SIGKILL)
            collector.process.waitUntilExit()
            collector = try Child(arguments, environment: ["MES_LOG_LEVEL": "warning"])
        }
    }
    guard collector.await("subscribed") != nil else { throw BenchError("mes collect did not restart:\n\(collector.log)") }
    let db = try PGConnection.connect(url: url, applicationName: "bench-ingest")
    var stored: Int64 = -1
    var stable = now()
    while now() - stable < 3 {
        let rows: [Int64] = try db.query("SELECT count(*) FROM machine_event").decode(Int64.self)
        if rows[0] != stored { stored = rows[0]; stable = now() }
        usleep(100_000)
    }
    publisher.close()
    _ = collector.stop()
    try forgetSession(clientID)
    return (stored, Int64(count) - stored, count / 2)
}

// MARK: 3c. Draining a backlog: the publishers off the collector's cores.

/// Messages queued per round for an offline session. Mosquitto 2.0.11 stalled part-way through
/// delivering backlogs of 100,000 and more to a returning session (seen with a plain
/// subscriber too), so the backlog comes in rounds of this size.
let drainRound = 50_000

/// The broker's own backlog delivery: a persistent session subscribes and goes away, a round of
/// messages is queued for it, and the time runs from its reconnect to the round's last message.
func brokerDrainCeiling(_ count: Int) throws -> Double {
    let id = "bench-drain-sub-\(getpid())"
    let first = try mqtt(id, persistent: true)
    try wait {
        try await first.connect()
        try await first.subscribe("drain/#", qos: 1)
    }
    first.close()
    var (delivered, elapsed) = (0, 0.0)
    for round in stride(from: 0, to: count, by: drainRound) {
        let size = min(drainRound, count - round)
        try queue(round..<(round + size), prefix: "drain/")
        let received = Mutex(0)
        let subscriber = try mqtt(id, persistent: true) { _ in received.withLock { $0 += 1 } }
        let start = now()
        try wait { try await subscriber.connect() }
        let got = awaitCount(size) { received.withLock { $0 } }
        elapsed += now() - start
        delivered += got
        subscriber.close()
        if got < size { print("  broker drain: only \(got) of \(size) delivered in round \(round / drainRound + 1)") }
    }
    try forgetSession(id)
    return Double(delivered) / elapsed
}

/// Ends a persistent session on the broker (a clean-start connect replaces it), so that later
/// phases do not pay for the broker queueing their messages for a client that is gone.
func forgetSession(_ id: String) throws {
    let client = try mqtt(id)
    try wait { try await client.connect() }
    client.close()
}

/// Publishes messages `range` at QoS 1, each acknowledged by the broker, with nobody reading.
func queue(_ range: Range<Int>, prefix: String = "") throws {
    let publisher = try mqtt("bench-queue-pub-\(getpid())")
    try wait { try await publisher.connect() }
    for i in range {
        let (topic, payload) = message(i)
        try publisher.send(prefix + topic, payload: payload, qos: 1)
    }
    // The broker has them all once a message sent after them is acknowledged. (Rounds stay
    // under 65,535 so that the 16-bit packet ids in flight are unique.)
    try wait { try await publisher.publish("bench/sentinel", payload: [0x7b, 0x7d], qos: 1) }  // nobody subscribes to it
    publisher.close()
}

/// Polls `current` until it reaches `count` or stops moving for 10 s; returns the last value.
func awaitCount<T: BinaryInteger>(_ count: T, _ current: () throws -> T) rethrows -> T {
    var last: T = -1
    var changed = now()
    while true {
        let n = try current()
        if n != last { last = n; changed = now() }
        if n >= count || now() - changed > 10 { return n }
        usleep(2_000)
    }
}

/// `mes collect` draining the same backlogs into PostgreSQL: its session subscribes and stops,
/// a round is queued, and the collector is started again. Only the broker, the collector and PostgreSQL share the cores
/// meanwhile, as in a plant whose machines publish from elsewhere.
func drain(_ count: Int) throws -> (rate: Double, stored: Int64, collectorLine: String) {
    let url = try freshDatabase("mes_bench_drain")
    let spool = NSTemporaryDirectory() + "mes-bench-spool-drain-\(getpid())"
    let arguments = ["collect", "--database-url", url, "--mqtt-url", mqttURL, "--client-id", "bench-drain-\(getpid())", "--spool", spool]
    let first = try Child(arguments, environment: ["MES_LOG_LEVEL": "warning"])
    guard first.await("subscribed") != nil else { throw BenchError("mes collect did not start:\n\(first.log)") }
    _ = first.stop()
    let db = try PGConnection.connect(url: url, applicationName: "bench-ingest")
    var (stored, measured, elapsed, line): (Int64, Int64, Double, String) = (0, 0, 0, "")
    for round in stride(from: 0, to: count, by: drainRound) {
        let size = min(drainRound, count - round)
        try queue(round..<(round + size))
        let collector = try Child(arguments, environment: ["MES_LOG_LEVEL": ProcessInfo.processInfo.environment["MES_BENCH_COLLECT_LOG"] ?? "warning"])
        // Timed from the first committed batch to the last, counting the rows in between: the
        // process start and the connection are not ingest.
        var first: (time: Double, rows: Int64)?
        var finished = now()
        var last: Int64 = -1
        stored = try awaitCount(Int64(round + size)) {
            let rows: [Int64] = try db.query("SELECT count(*) FROM machine_event").decode(Int64.self)
            if rows[0] != last {
                last = rows[0]
                finished = now()
                if first == nil && rows[0] > Int64(round) { first = (finished, rows[0]) }
            }
            return rows[0]
        }
        if let first {
            measured += stored - first.rows
            elapsed += finished - first.time
            if ProcessInfo.processInfo.environment["MES_BENCH_VERBOSE"] != nil {
                print("    round \(round / drainRound + 1): \(stored - first.rows) rows in \(String(format: "%.3f", finished - first.time)) s after the first batch (\(first.rows - Int64(round)) rows)")
            }
        }
        let log = collector.stop()
        line = log.split(separator: "\n").last { $0.contains("mes collect: received") }.map(String.init) ?? log
    }
    try forgetSession("bench-drain-\(getpid())")
    return (Double(measured) / elapsed, stored, line)
}

// MARK: 4. Publish-to-browser latency through mes collect and mes serve.

func latency(machines: Int, perSecond: Int, seconds: Int) throws -> (p50: Double, p99: Double, max: Double, sent: Int, seen: Int) {
    let url = try freshDatabase("mes_bench_latency")
    let spool = NSTemporaryDirectory() + "mes-bench-spool-latency-\(getpid())"
    let collector = try Child(
        ["collect", "--database-url", url, "--mqtt-url", mqttURL, "--client-id", "bench-latency-\(getpid())", "--spool", spool],
        environment: ["MES_LOG_LEVEL": "warning"])
    guard collector.await("subscribed") != nil else { throw BenchError("mes collect did not start:\n\(collector.log)") }
    let server = try Child(["serve", "--database-url", url, "--http-address", "127.0.0.1:0"], environment: ["MES_LOG_LEVEL": "warning"])
    guard let listening = server.await("listening on"), let port = Int(listening.split(separator: ":").last ?? "") else {
        throw BenchError("mes serve did not start:\n\(server.log)")
    }

    // The browser: one SSE connection, reading update events.
    let latencies = Mutex<[Double]>([])
    let reader = Thread {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        let request = "GET /events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var pending = ""
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            let arrived = now() * 1000
            pending += String(decoding: buffer[0..<n], as: UTF8.self)
            while let newline = pending.firstIndex(of: "\n") {
                let line = pending[..<newline]
                pending = String(pending[pending.index(after: newline)...])
                guard line.hasPrefix("data: {\"machines\"") else { continue }
                var found: [Double] = []
                var rest = line[...]
                while let range = rest.range(of: "\"since\":") {
                    rest = rest[range.upperBound...]
                    let digits = rest.prefix { $0.isNumber }
                    if let since = Double(digits) { found.append(arrived - since) }
                }
                latencies.withLock { $0 += found }
            }
        }
    }
    reader.start()
    usleep(300_000)

    let publisher = try mqtt("bench-latency-pub-\(getpid())")
    try wait { try await publisher.connect() }
    // Warm-up, not measured: the collector registers the 500 machines it has not seen (in a
    // plant they exist already).
    for machine in 0..<machines {
        try publisher.send("mes/S1/A1/L1/N\(machine)/state", payload: Array(#"{"ts":\#(Int64(now() * 1000) - 60_000),"state":"offline"}"#.utf8), qos: 1)
    }
    usleep(3_000_000)
    latencies.withLock { $0.removeAll() }
    var sent = 0
    let start = now()
    let interval = 1.0 / Double(perSecond)
    for tick in 0..<(seconds * perSecond) {
        let due = start + Double(tick) * interval
        let pause = due - now()
        if pause > 0 { usleep(useconds_t(pause * 1_000_000)) }
        // Every machine changes state once per tick: each message becomes a notified update.
        let ts = Int64(now() * 1000)
        let state = tick % 2 == 0 ? "running" : "idle"
        for machine in 0..<machines {
            let payload = #"{"ts":\#(ts),"state":"\#(state)"}"#
            try publisher.send("mes/S1/A1/L1/N\(machine)/state", payload: Array(payload.utf8), qos: 1)
            sent += 1
        }
    }
    usleep(2_000_000)
    publisher.close()
    _ = server.stop()
    _ = collector.stop()
    let sorted = latencies.withLock { $0 }.sorted()
    guard !sorted.isEmpty else { throw BenchError("no update reached the event stream") }
    func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
    return (percentile(0.5), percentile(0.99), sorted.last!, sent, sorted.count)
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}


func format(_ value: Double) -> String { String(format: "%.0f", value) }

print("machine-data benchmark: \(total) messages, \(machines) machines; \(ProcessInfo.processInfo.activeProcessorCount) cores")
/// The JSON dialect's decoder alone, on one thread: the collector's per-message CPU cost.
func decodeRate(_ count: Int) -> Double {
    let messages = (0..<count).map(message)
    let start = now()
    var decoded = 0
    for (topic, payload) in messages {
        if case .success = JSONDialect.decode(topic: topic, payload: payload) { decoded += 1 }
    }
    precondition(decoded == count)
    return Double(count) / (now() - start)
}

let only = ProcessInfo.processInfo.environment["MES_BENCH_ONLY"]
if only == "latency" {
    let live = try latency(machines: 500, perSecond: 5, seconds: 20)
    print("  publish → SSE: p50 \(String(format: "%.1f", live.p50)) ms, p99 \(String(format: "%.1f", live.p99)) ms, max \(String(format: "%.1f", live.max)) ms; \(live.seen) of \(live.sent)")
    exit(0)
}
if only == "decode" {
    print("  JSON dialect decode, one thread: \(format(decodeRate(total))) msg/s")
    exit(0)
}
if only == "drain" {
    print("  Mosquitto alone, backlog → subscriber: \(format(try brokerDrainCeiling(total))) msg/s")
    let run = try drain(total)
    print("  mes collect, backlog → PostgreSQL: \(format(run.rate)) msg/s, stored \(run.stored)")
    exit(0)
}
if only == "ingest" {
    let run = try ingest(total)
    print("  mes collect: \(format(run.rate)) msg/s, stored \(run.stored)")
    exit(0)
}
let ceiling = try brokerCeiling(total)
print("  Mosquitto alone, publish → subscriber, QoS 1:        \(format(ceiling)) msg/s")
print("  JSON dialect decode, one thread:                      \(format(decodeRate(total))) msg/s")
let copy = try copyRate(total)
print("  PostgreSQL COPY of machine_event-shaped rows:          \(format(copy)) rows/s")
let run = try ingest(total)
print("  mes collect, broker → PostgreSQL (committed, derived): \(format(run.rate)) msg/s   target ≥ 50,000")
func printLoss(stored: Int64, collectorLine: String, deadLetters: Int64? = nil) {
    print("    stored \(stored) of \(total), lost \(Int64(total) - stored)" + (deadLetters.map { ", dead letters \($0)" } ?? ""))
    print("    \(collectorLine)")
}
printLoss(stored: run.stored, collectorLine: run.collectorLine, deadLetters: run.deadLetters)
let drainCeiling = try brokerDrainCeiling(total)
print("  Mosquitto alone, a queued backlog → subscriber:        \(format(drainCeiling)) msg/s")
let drained = try drain(total)
print("  mes collect, a queued backlog → PostgreSQL:            \(format(drained.rate)) msg/s   target ≥ 50,000")
printLoss(stored: drained.stored, collectorLine: drained.collectorLine)
let killed = try killLoss(100_000, rate: 10_000)
print("  kill -9 of mes collect after \(killed.killedAt) of 100000 messages at 10,000 msg/s, then restart:")
print("    stored \(killed.stored), lost \(killed.lost)")
let live = try latency(machines: 500, perSecond: 5, seconds: 20)
print("  publish → SSE at 500 machines × 5 msg/s: p50 \(String(format: "%.1f", live.p50)) ms, p99 \(String(format: "%.1f", live.p99)) ms, max \(String(format: "%.1f", live.max)) ms   target p99 < 100 ms")
print("    sent \(live.sent) state changes, \(live.seen) reached the browser")
