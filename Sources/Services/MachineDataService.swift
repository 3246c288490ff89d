#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain
import Logging
import Postgres

/// A message the collector could not use, kept with the reason (`dead_letter`).
public struct DeadLetter: Sendable, Equatable, Codable {
    public var receivedAt: Date
    public var topic: String
    public var payload: [UInt8]
    public var reason: String

    public init(receivedAt: Date, topic: String, payload: [UInt8], reason: String) {
        self.receivedAt = receivedAt
        self.topic = topic
        self.payload = payload
        self.reason = reason
    }
}

/// What to do with a message from a machine the plant model does not know.
public enum UnknownMachinePolicy: String, Sendable, CaseIterable {
    /// Register it under its site, on its line if that exists, else unassigned.
    case register
    /// Dead-letter its messages until someone adds the machine.
    case refuse
}

/// A machine's state now, as the wall screen shows it; sent on NOTIFY after each batch.
public struct MachineStatus: Sendable, Equatable, Codable {
    public var site: String
    public var machine: String
    public var state: MachineState
    public var reason: String?
    /// Since when, in milliseconds since 1970.
    public var since: Int64

    public init(site: String, machine: String, state: MachineState, reason: String?, since: Int64) {
        self.site = site
        self.machine = machine
        self.state = state
        self.reason = reason
        self.since = since
    }
}

/// Machine data into the database: the service the collector hands its batches to.
///
/// One call of `ingest` is one transaction: the raw events (idempotent: a redelivered message
/// is stored once), the derived state intervals, part counts and alarms, each machine's status,
/// the dead letters, and a NOTIFY on `mes_events` carrying the changed statuses, delivered
/// when the transaction commits.
public final class MachineDataService: Sendable {
    public static let notifyChannel = "mes_events"

    let pool: PGPool
    let directory: MachineDirectory
    let logger: Logger
    let quality: QualityService

    public init(pool: PGPool, unknownMachines: UnknownMachinePolicy = .register, logger: Logger = Logger(label: "mes.machine-data")) {
        self.pool = pool
        self.quality = QualityService(pool: pool)
        self.directory = MachineDirectory(policy: unknownMachines)
        self.logger = logger
    }

    /// What a batch did.
    public struct IngestReport: Sendable, Equatable {
        /// Messages stored as new raw events.
        public var stored = 0
        /// Messages already stored (QoS 1 redelivery, a repeated birth): ignored.
        public var duplicates = 0
        /// Dead letters written, the collector's and those refused here (unknown machines).
        public var deadLetters = 0
        /// Machines whose state changed, as notified.
        public var statusChanges: [MachineStatus] = []
        /// Counter resets seen (parts before each reset are missing).
        public var counterResets = 0
        /// Gauge readings taken as quality measurements (see `judgeMeasurements`).
        public var qualityPoints = 0
    }

    /// Stores a batch in one transaction; see the type's description.
    public func ingest(_ messages: [MachineMessage], deadLetters: [DeadLetter] = []) throws -> IngestReport {
        try pool.transaction { db in
            var report = IngestReport()
            var letters = deadLetters
            var events: [(machineID: Int64, message: MachineMessage)] = []
            events.reserveCapacity(messages.count)
            let now = Date()
            for message in messages {
                switch try directory.resolve(message.path, db) {
                case .machine(let id): events.append((id, message))
                case .refused(let reason):
                    letters.append(DeadLetter(
                        receivedAt: now, topic: message.path.description, payload: Array(String(describing: message.body).utf8), reason: reason))
                }
            }
            let fresh = try insertEvents(events, db)
            report.stored = fresh.count
            report.duplicates = events.count - fresh.count
            report.statusChanges = try deriveStates(fresh, db)
            report.counterResets = try deriveCounts(fresh, db)
            try deriveAlarms(fresh, db)
            report.qualityPoints = try judgeMeasurements(fresh, db)
            if !letters.isEmpty {
                try db.copy(into: "dead_letter", columns: ["received_at", "topic", "payload", "reason"]) { rows in
                    for letter in letters { try rows.append(letter.receivedAt, letter.topic, letter.payload, letter.reason) }
                }
            }
            report.deadLetters = letters.count
            try notify(report.statusChanges, db)
            return report
        }
    }

    // MARK: Raw events

    struct EventKey: Hashable {
        var machineID: Int64
        var kind: String
        var subject: String
        var milliseconds: Int64
    }

    static func row(_ message: MachineMessage) -> (kind: String, subject: String, value: Double?, detail: String?, severity: String?) {
        switch message.body {
        case .state(let state, let reason): ("state", state.rawValue, nil, reason, nil)
        case .count(let counter, let value, let part): ("count", counter, Double(value), part, nil)
        case .measurement(let characteristic, let value, let unit): ("measurement", characteristic, value, unit, nil)
        case .alarm(let code, let text, let active, let severity): ("alarm", code, active ? 1 : 0, text, severity)
        }
    }

    static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    /// Stores the batch's raw events; returns those that were new.
    ///
    /// The common case, a batch of nothing but new messages, is one COPY straight into
    /// `machine_event`, inside a savepoint. A redelivered message makes that COPY fail on the
    /// unique key; the savepoint is rolled back and the batch goes through a staging table and
    /// `INSERT … ON CONFLICT DO NOTHING RETURNING`, which says which messages were new.
    func insertEvents(_ events: [(machineID: Int64, message: MachineMessage)], _ db: PGConnection) throws -> [(machineID: Int64, message: MachineMessage)] {
        guard !events.isEmpty else { return [] }
        var keys = Set<EventKey>(minimumCapacity: events.count)
        let repeatedInBatch = events.contains { machineID, message in
            let row = Self.row(message)
            return !keys.insert(EventKey(machineID: machineID, kind: row.kind, subject: row.subject, milliseconds: message.timestampMilliseconds)).inserted
        }
        let columns = ["machine_id", "occurred_at", "kind", "subject", "value", "detail", "severity"]
        func copyRows(into table: String) throws {
            try db.copy(into: table, columns: columns) { rows in
                for (machineID, message) in events {
                    let row = Self.row(message)
                    try rows.append(machineID, Self.date(message.timestampMilliseconds), row.kind, row.subject, row.value, row.detail, row.severity)
                }
            }
        }
        if !repeatedInBatch {
            do {
                try db.transaction { _ in try copyRows(into: "machine_event") }
                return events
            } catch let error as PGError where error.isUniqueViolation {
                // Some message is stored already: sort the new from the old below.
            }
        }
        try db.execute("""
            CREATE TEMP TABLE IF NOT EXISTS machine_event_staging (
                machine_id bigint, occurred_at timestamptz, kind text, subject text,
                value double precision, detail text, severity text) ON COMMIT DELETE ROWS
            """)
        try copyRows(into: "machine_event_staging")
        let inserted = try db.query("""
            INSERT INTO machine_event (machine_id, occurred_at, kind, subject, value, detail, severity)
            SELECT machine_id, occurred_at, kind, subject, value, detail, severity FROM machine_event_staging
            ON CONFLICT DO NOTHING
            RETURNING machine_id, kind, subject, (extract(epoch FROM occurred_at) * 1000)::bigint
            """).decode((Int64, String, String, Int64).self)
        var new = Set(inserted.map { EventKey(machineID: $0.0, kind: $0.1, subject: $0.2, milliseconds: $0.3) })
        // A key inserted once may appear twice in the batch: the first occurrence is the new one.
        return events.filter { event in
            let row = Self.row(event.message)
            return new.remove(EventKey(machineID: event.machineID, kind: row.kind, subject: row.subject, milliseconds: event.message.timestampMilliseconds)) != nil
        }
    }

    // MARK: State intervals

    /// Extends each machine's state intervals with the batch's state changes and upserts the
    /// machines' status; returns the statuses that changed.
    func deriveStates(_ events: [(machineID: Int64, message: MachineMessage)], _ db: PGConnection) throws -> [MachineStatus] {
        var changes: [Int64: [StateChange]] = [:]
        for (machineID, message) in events {
            if case .state(let state, let reason) = message.body {
                changes[machineID, default: []].append(StateChange(timeMilliseconds: message.timestampMilliseconds, state: state, reason: reason))
            }
        }
        guard !changes.isEmpty else { return [] }
        let machineIDs = changes.keys.sorted()
        var open: [Int64: (id: Int64, interval: TimelineInterval)] = [:]
        for row in try db.query("""
            SELECT machine_id, id, (extract(epoch FROM started_at) * 1000)::bigint, state, reason
            FROM machine_state_interval WHERE ended_at IS NULL AND machine_id IN (\(list: machineIDs))
            """).decode((Int64, Int64, Int64, String, String?).self) {
            open[row.0] = (row.1, TimelineInterval(start: row.2, end: nil, state: MachineState(rawValue: row.3) ?? .offline, reason: row.4))
        }

        var rewrites: [(id: Int64, interval: TimelineInterval)] = []
        var additions: [(machineID: Int64, interval: TimelineInterval)] = []
        var finalState: [Int64: TimelineInterval] = [:]
        for machineID in machineIDs {
            let machineChanges = changes[machineID]!
            let earliest = machineChanges.map(\.timeMilliseconds).min()!
            var base = open[machineID]
            var replay = machineChanges
            if let current = base, earliest < current.interval.start {
                // A late change: rebuild from the interval it falls in, with every stored change since.
                (base, replay) = try rewind(machineID: machineID, to: earliest, db)
            }
            let update = StateTimeline.apply(replay, after: base?.interval)
            if let previous = update.previous, let id = base?.id { rewrites.append((id, previous)) }
            additions += update.added.map { (machineID, $0) }
            if let last = update.added.last ?? update.previous, last != base?.interval || base == nil {
                finalState[machineID] = last
            }
        }

        for chunk in rewrites.chunked(500) {
            let values = SQL.joined(chunk.map { rewrite in
                let interval = rewrite.interval
                let end: Date? = interval.end.map(Self.date)
                return "(\(rewrite.id)::bigint, \(end)::timestamptz, \(interval.state.rawValue)::text, \(interval.reason)::text)"
            }, separator: ", ")
            try db.execute("""
                UPDATE machine_state_interval AS i
                SET ended_at = v.ended_at, state = v.state, reason = v.reason,
                    reason_source = CASE WHEN v.reason IS NULL THEN NULL ELSE coalesce(i.reason_source, 'machine') END
                FROM (VALUES \(values)) AS v (id, ended_at, state, reason)
                WHERE i.id = v.id
                """)
        }
        if !additions.isEmpty {
            try db.copy(into: "machine_state_interval", columns: ["machine_id", "started_at", "ended_at", "state", "reason", "reason_source"]) { rows in
                for (machineID, interval) in additions {
                    try rows.append(
                        machineID, Self.date(interval.start), interval.end.map(Self.date), interval.state.rawValue, interval.reason,
                        interval.reason == nil ? nil : "machine")
                }
            }
        }

        var statuses: [MachineStatus] = []
        let changed = finalState.keys.sorted()
        for chunk in changed.chunked(500) {
            let values = SQL.joined(chunk.map { machineID in
                let interval = finalState[machineID]!
                return "(\(machineID)::bigint, \(interval.state.rawValue)::text, \(interval.reason)::text, \(Self.date(interval.start))::timestamptz)"
            }, separator: ", ")
            try db.execute("""
                INSERT INTO machine_status (machine_id, state, reason, since)
                SELECT * FROM (VALUES \(values)) AS v (machine_id, state, reason, since)
                ON CONFLICT (machine_id) DO UPDATE SET state = excluded.state, reason = excluded.reason,
                    since = excluded.since, updated_at = now()
                WHERE machine_status.since <= excluded.since
                """)
        }
        for machineID in changed {
            let interval = finalState[machineID]!
            guard let name = directory.name(of: machineID) else { continue }
            statuses.append(MachineStatus(site: name.site, machine: name.machine, state: interval.state, reason: interval.reason, since: interval.start))
        }
        return statuses
    }

    /// Undoes a machine's intervals from the one containing `time` on, so they can be derived
    /// again from the stored changes (which include the batch's, already inserted).
    func rewind(machineID: Int64, to time: Int64, _ db: PGConnection) throws -> ((id: Int64, interval: TimelineInterval)?, [StateChange]) {
        let containing = try db.query("""
            SELECT id, (extract(epoch FROM started_at) * 1000)::bigint, state, reason FROM machine_state_interval
            WHERE machine_id = \(machineID) AND started_at <= \(Self.date(time)) ORDER BY started_at DESC LIMIT 1
            """).decode((Int64, Int64, String, String?).self).first
        var base: (id: Int64, interval: TimelineInterval)?
        if let containing {
            try db.execute("DELETE FROM machine_state_interval WHERE machine_id = \(machineID) AND started_at > \(Self.date(containing.1))")
            try db.execute("UPDATE machine_state_interval SET ended_at = NULL WHERE id = \(containing.0)")
            base = (containing.0, TimelineInterval(start: containing.1, end: nil, state: MachineState(rawValue: containing.2) ?? .offline, reason: containing.3))
        } else {
            // Earlier than anything derived so far: derive the machine's whole timeline again.
            try db.execute("DELETE FROM machine_state_interval WHERE machine_id = \(machineID)")
        }
        let stored = try db.query("""
            SELECT (extract(epoch FROM occurred_at) * 1000)::bigint, subject, detail FROM machine_event
            WHERE machine_id = \(machineID) AND kind = 'state' AND occurred_at >= \(Self.date(base?.interval.start ?? time))
            ORDER BY occurred_at, id
            """).decode((Int64, String, String?).self)
        let replay = stored.compactMap { row in MachineState(rawValue: row.1).map { StateChange(timeMilliseconds: row.0, state: $0, reason: row.2) } }
        return (base, replay)
    }

    // MARK: Counts

    /// Turns counter readings into part counts, continuing from each counter's stored reading;
    /// returns the number of resets.
    func deriveCounts(_ events: [(machineID: Int64, message: MachineMessage)], _ db: PGConnection) throws -> Int {
        struct Key: Hashable { var machineID: Int64; var counter: String }
        var readings: [Key: [(milliseconds: Int64, value: Int64, part: String?)]] = [:]
        for (machineID, message) in events {
            if case .count(let counter, let value, let part) = message.body {
                readings[Key(machineID: machineID, counter: counter), default: []].append((message.timestampMilliseconds, value, part))
            }
        }
        guard !readings.isEmpty else { return 0 }
        let machineIDs = Set(readings.keys.map(\.machineID)).sorted()
        var trackers: [Key: CounterTracker] = [:]
        for row in try db.query("""
            SELECT machine_id, counter, value, (extract(epoch FROM read_at) * 1000)::bigint FROM machine_counter
            WHERE machine_id IN (\(list: machineIDs))
            """).decode((Int64, String, Int64, Int64).self) {
            trackers[Key(machineID: row.0, counter: row.1)] = CounterTracker(last: (row.3, row.2))
        }
        // Parts are stored per machine, counter and part per minute, at the minute's last
        // reading: a row per reading would double the writes for no use (OEE and roll-ups
        // need minutes, not cycles).
        struct Bucket: Hashable { var machineID: Int64; var counter: String; var part: String?; var minute: Int64 }
        var buckets: [Bucket: (milliseconds: Int64, quantity: Int64, reset: Bool)] = [:]
        var resets = 0
        for (key, list) in readings {
            var tracker = trackers[key] ?? CounterTracker()
            for reading in list.sorted(by: { $0.milliseconds < $1.milliseconds }) {
                let step = tracker.record(value: reading.value, timestampMilliseconds: reading.milliseconds)
                if step.reset { resets += 1 }
                guard step.parts > 0 || step.reset else { continue }
                let bucket = Bucket(machineID: key.machineID, counter: key.counter, part: reading.part, minute: reading.milliseconds / 60_000)
                var entry = buckets[bucket] ?? (reading.milliseconds, 0, false)
                entry.milliseconds = max(entry.milliseconds, reading.milliseconds)
                entry.quantity += step.parts
                entry.reset = entry.reset || step.reset
                buckets[bucket] = entry
            }
            trackers[key] = tracker
        }
        if !buckets.isEmpty {
            try db.copy(into: "production_count", columns: ["machine_id", "counted_at", "counter", "part", "quantity", "counter_reset"]) { rows in
                for (bucket, entry) in buckets {
                    try rows.append(bucket.machineID, Self.date(entry.milliseconds), bucket.counter, bucket.part, entry.quantity, entry.reset)
                }
            }
        }
        let latest = readings.keys.compactMap { key in trackers[key]?.last.map { (key, $0) } }
        for chunk in latest.chunked(500) {
            let values = SQL.joined(chunk.map { key, last in
                "(\(key.machineID)::bigint, \(key.counter)::text, \(last.value)::bigint, \(Self.date(last.timestampMilliseconds))::timestamptz)"
            }, separator: ", ")
            try db.execute("""
                INSERT INTO machine_counter (machine_id, counter, value, read_at)
                SELECT * FROM (VALUES \(values)) AS v (machine_id, counter, value, read_at)
                ON CONFLICT (machine_id, counter) DO UPDATE SET value = excluded.value, read_at = excluded.read_at
                WHERE machine_counter.read_at < excluded.read_at
                """)
        }
        return resets
    }

    // MARK: Alarms

    func deriveAlarms(_ events: [(machineID: Int64, message: MachineMessage)], _ db: PGConnection) throws {
        let alarms = events.filter { if case .alarm = $0.message.body { true } else { false } }
            .sorted { $0.message.timestampMilliseconds < $1.message.timestampMilliseconds }
        for (machineID, message) in alarms {
            guard case .alarm(let code, let text, let active, let severity) = message.body else { continue }
            let at = Self.date(message.timestampMilliseconds)
            if active {
                try db.execute("""
                    INSERT INTO machine_alarm (machine_id, code, text, severity, raised_at)
                    VALUES (\(machineID), \(code), \(text), \(severity), \(at))
                    ON CONFLICT (machine_id, code) WHERE cleared_at IS NULL DO NOTHING
                    """)
            } else {
                try db.execute("""
                    UPDATE machine_alarm SET cleared_at = \(at)
                    WHERE machine_id = \(machineID) AND code = \(code) AND cleared_at IS NULL AND raised_at <= \(at)
                    """)
            }
        }
    }

    // MARK: Gauges

    /// A measurement from a machine whose current operation (running, in setup or paused) has a
    /// characteristic of that name, charted in subgroups of one, is also a quality point: it is
    /// recorded and judged as `QualityService.record` does (alarms, holds, nonconformances).
    /// Other measurements stay raw events. A reading the quality rules refuse is logged and
    /// skipped (its raw event is kept); the batch goes on.
    func judgeMeasurements(_ events: [(machineID: Int64, message: MachineMessage)], _ db: PGConnection) throws -> Int {
        let readings = events.compactMap { event -> (machineID: Int64, code: String, value: Double, milliseconds: Int64)? in
            guard case .measurement(let code, let value, _) = event.message.body else { return nil }
            return (event.machineID, code, value, event.message.timestampMilliseconds)
        }
        guard !readings.isEmpty else { return 0 }
        let machines = Set(readings.map { String($0.machineID) }).sorted().joined(separator: ",")
        struct Key: Hashable { var machineID: Int64; var code: String }
        var operations: [Key: Int64] = [:]
        for (machineID, operationID, code) in try db.query("""
            SELECT DISTINCT ON (o.machine_id, c.code) o.machine_id, o.id, c.code
            FROM work_order_operation o JOIN work_order wo ON wo.id = o.work_order_id
            JOIN quality_characteristic c ON c.part_id = wo.part_id AND c.operation_sequence = o.sequence AND c.active AND c.subgroup_size = 1
            WHERE o.machine_id = ANY (string_to_array(\(machines), ',')::bigint[]) AND o.state IN ('setup', 'running', 'paused')
            ORDER BY o.machine_id, c.code, o.state = 'running' DESC, o.started_at DESC
            """).decode((Int64, Int64, String).self) {
            operations[Key(machineID: machineID, code: code)] = operationID
        }
        guard !operations.isEmpty else { return 0 }
        var judged = 0
        for reading in readings {
            guard let operationID = operations[Key(machineID: reading.machineID, code: reading.code)] else { continue }
            let input = QualityService.MeasurementInput(
                target: .operation(operationID), characteristic: reading.code, values: [reading.value], source: .gauge,
                requestKey: "gauge:\(reading.machineID):\(reading.code):\(reading.milliseconds)")
            do {
                _ = try db.transaction { db in try quality.record(input, at: Self.date(reading.milliseconds), db) }
                judged += 1
            } catch let error as ProductionRuleError {
                logger.warning("gauge reading \(reading.code) = \(reading.value) on machine \(reading.machineID) not judged: \(error.message)")
            }
        }
        return judged
    }

    // MARK: Live path

    /// NOTIFY payloads are limited to 8,000 bytes: changes go out in as many as needed.
    func notify(_ statuses: [MachineStatus], _ db: PGConnection) throws {
        guard !statuses.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var pending: [String] = []
        var size = 0
        func flush() throws {
            guard !pending.isEmpty else { return }
            try db.notify(Self.notifyChannel, payload: #"{"machines":["# + pending.joined(separator: ",") + "]}")
            pending.removeAll()
            size = 0
        }
        for status in statuses {
            let json = String(decoding: try encoder.encode(status), as: UTF8.self)
            if size + json.count > 7_000 { try flush() }
            pending.append(json)
            size += json.count + 1
        }
        try flush()
    }
}

extension MachinePath: CustomStringConvertible {
    /// `mes/<site>/<area>/<line>/<machine>`: the JSON dialect's topic prefix for this machine.
    public var description: String { "mes/\(site)/\(area)/\(line)/\(machine)" }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}

// MARK: Classifying stops

/// A request about a state interval that cannot be carried out.
public struct MachineDataError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension MachineDataService {
    /// Gives a stop (or any interval) its reason, as a supervisor or operator classifies it.
    /// The reason is marked as the user's, and a machine's later report never overwrites it.
    /// When the interval is the machine's current one, its live status changes too (and the
    /// wall screens hear of it). The change is audited as `by`'s.
    public func classify(intervalID: Int64, reason: String, by actor: String = "system") throws {
        let reason = reason.trimmingWhitespace()
        guard !reason.isEmpty else { throw MachineDataError("a reason cannot be empty") }
        try pool.transaction { db in
            let before = try AuditTrail.snapshot("machine_state_interval", id: intervalID, db)
            let updated = try db.query("""
                UPDATE machine_state_interval SET reason = \(reason), reason_source = 'user'
                WHERE id = \(intervalID) RETURNING machine_id, ended_at IS NULL
                """).decode((Int64, Bool).self)
            guard let (machineID, isOpen) = updated.first else { throw MachineDataError("state interval \(intervalID) does not exist") }
            try AuditTrail.record("stop.classified", entity: "machine_state_interval", id: String(intervalID), actor: actor, at: Date(), reason: reason,
                                  before: before, after: try AuditTrail.snapshot("machine_state_interval", id: intervalID, db), db)
            if isOpen {
                try db.execute("UPDATE machine_status SET reason = \(reason), updated_at = now() WHERE machine_id = \(machineID)")
                try notify(try currentStatus(machineID, db), db)
            }
        }
    }

    /// A machine's status row as the wall screen gets it.
    func currentStatus(_ machineID: Int64, _ db: PGConnection) throws -> [MachineStatus] {
        try db.query("""
            SELECT s.code, m.code, st.state, st.reason, (extract(epoch FROM st.since) * 1000)::bigint
            FROM machine_status st JOIN machine m ON m.id = st.machine_id JOIN site s ON s.id = m.site_id WHERE st.machine_id = \(machineID)
            """).decode((String, String, String, String?, Int64).self).compactMap { row in
            MachineState(rawValue: row.2).map { MachineStatus(site: row.0, machine: row.1, state: $0, reason: row.3, since: row.4) }
        }
    }

    /// Splits an interval in two at `time`, strictly inside it: a stop that was really a
    /// breakdown and then a wait for the technician becomes two stops, each classifiable.
    /// Returns the id of the second part, which keeps the state and starts without a reason.
    @discardableResult
    public func split(intervalID: Int64, at time: Date, by actor: String = "system") throws -> Int64 {
        try pool.transaction { db in
            let rows = try db.query("""
                SELECT machine_id, started_at, ended_at, state FROM machine_state_interval WHERE id = \(intervalID) FOR UPDATE
                """).decode((Int64, Date, Date?, String).self)
            guard let (machineID, start, end, state) = rows.first else { throw MachineDataError("state interval \(intervalID) does not exist") }
            guard time > start, end.map({ time < $0 }) ?? true else {
                throw MachineDataError("the split time must lie strictly inside the interval")
            }
            // Close the first part before the second opens: one open interval per machine.
            try db.execute("UPDATE machine_state_interval SET ended_at = \(time) WHERE id = \(intervalID)")
            let second = try db.query("""
                INSERT INTO machine_state_interval (machine_id, started_at, ended_at, state)
                VALUES (\(machineID), \(time), \(end), \(state)) RETURNING id
                """).decode(Int64.self)
            if end == nil {
                try db.execute("UPDATE machine_status SET reason = NULL, since = \(time), updated_at = now() WHERE machine_id = \(machineID)")
                try notify(try currentStatus(machineID, db), db)
            }
            try AuditTrail.record("stop.split", entity: "machine_state_interval", id: String(intervalID), actor: actor, at: Date(),
                                  after: #"{"second": \#(second[0]), "at": "\#(time.ISO8601Format())"}"#, db)
            return second[0]
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
