#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain
import JSON
import Postgres

/// Quality at the operation: characteristics and their measurements, each new point judged at
/// once against its control limits, SPC alarms for the wall screen, holds, and
/// nonconformances with their signed disposition.
///
/// A measurement outside the specification is a failed inspection: it opens a nonconformance
/// and holds the operation until quality gives the nonconformance a disposition (use as is,
/// rework, scrap or return) and releases the hold. An SPC signal raises an alarm; on a
/// characteristic with `holdOnSignal` it holds the operation too.
public final class QualityService: Sendable {
    let pool: PGPool
    let clock: @Sendable () -> Date
    let production: ProductionService

    public init(pool: PGPool, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.pool = pool
        self.clock = clock
        production = ProductionService(pool: pool, clock: clock)
    }

    // MARK: Characteristics

    /// A characteristic to define: what is measured on a part at an operation, its
    /// specification and how it is charted.
    public struct CharacteristicSpec: Sendable {
        public var part: String
        public var operationSequence: Int
        public var code: String
        public var name: String
        public var unit: String
        public var nominal: Double?
        public var lsl: Double?
        public var usl: Double?
        public var subgroupSize: Int
        /// Minutes between samples while the operation runs; nil when not sampled on a clock.
        public var samplingMinutes: Int?
        public var chart: LivePointCheck.Chart
        public var rules: [SPCRule]
        /// Whether an SPC signal holds the operation (a point out of specification always does).
        public var holdOnSignal: Bool

        public init(
            part: String, operationSequence: Int, code: String, name: String, unit: String = "mm", nominal: Double? = nil, lsl: Double? = nil,
            usl: Double? = nil, subgroupSize: Int = 1, samplingMinutes: Int? = nil, chart: LivePointCheck.Chart = .imr,
            rules: [SPCRule] = [.n1, .n2, .n3, .n5, .n6], holdOnSignal: Bool = false
        ) {
            self.part = part
            self.operationSequence = operationSequence
            self.code = code
            self.name = name
            self.unit = unit
            self.nominal = nominal
            self.lsl = lsl
            self.usl = usl
            self.subgroupSize = subgroupSize
            self.samplingMinutes = samplingMinutes
            self.chart = chart
            self.rules = rules
            self.holdOnSignal = holdOnSignal
        }
    }

    /// Defines a characteristic, or changes its definition (the change is audited with the
    /// definition before and after).
    @discardableResult
    public func define(_ spec: CharacteristicSpec, by actor: String) throws -> Int64 {
        guard (spec.chart == .imr) == (spec.subgroupSize == 1), (1...25).contains(spec.subgroupSize) else {
            throw ProductionRuleError(.invalidInput, "an I-MR chart takes subgroups of 1; X̄-R and X̄-S charts take subgroups of 2 to 25")
        }
        if let lsl = spec.lsl, let usl = spec.usl, lsl >= usl {
            throw ProductionRuleError(.invalidInput, "the lower specification limit must be below the upper one")
        }
        guard !spec.rules.isEmpty else { throw ProductionRuleError(.invalidInput, "a characteristic needs at least one SPC rule") }
        return try pool.transaction { db in
            let partID = try Lookup.partID(spec.part, db)
            let existing = try db.query("""
                SELECT id FROM quality_characteristic WHERE part_id = \(partID) AND operation_sequence = \(spec.operationSequence) AND code = \(spec.code)
                """).decode(Int64.self).first
            let before = try existing.flatMap { try AuditTrail.snapshot("quality_characteristic", id: $0, db) }
            let rules = spec.rules.map(\.rawValue).joined(separator: ",")
            let id = try db.query("""
                INSERT INTO quality_characteristic (part_id, operation_sequence, code, name, unit, nominal, lsl, usl, subgroup_size,
                    sampling_minutes, chart, rules, hold_on_signal)
                VALUES (\(partID), \(spec.operationSequence), \(spec.code), \(spec.name), \(spec.unit), \(spec.nominal), \(spec.lsl), \(spec.usl),
                    \(spec.subgroupSize), \(spec.samplingMinutes), \(spec.chart.rawValue), string_to_array(\(rules), ','), \(spec.holdOnSignal))
                ON CONFLICT (part_id, operation_sequence, code) DO UPDATE SET name = EXCLUDED.name, unit = EXCLUDED.unit,
                    nominal = EXCLUDED.nominal, lsl = EXCLUDED.lsl, usl = EXCLUDED.usl, subgroup_size = EXCLUDED.subgroup_size,
                    sampling_minutes = EXCLUDED.sampling_minutes, chart = EXCLUDED.chart, rules = EXCLUDED.rules,
                    hold_on_signal = EXCLUDED.hold_on_signal, active = true
                RETURNING id
                """).decode(Int64.self)[0]
            try AuditTrail.record(
                existing == nil ? "characteristic.defined" : "characteristic.changed", entity: "quality_characteristic", id: String(id),
                actor: actor, at: clock(), before: before, after: try AuditTrail.snapshot("quality_characteristic", id: id, db), db)
            return id
        }
    }

    /// Freezes control limits (center and sigma) from `effectiveFrom` on: points measured
    /// since then are judged against them instead of the trial limits.
    public func freezeLimits(characteristicID: Int64, center: Double, sigma: Double, effectiveFrom: Date, by actor: String, reason: String) throws {
        guard center.isFinite, sigma.isFinite, sigma > 0 else { throw ProductionRuleError(.invalidInput, "frozen limits need a center and a positive sigma") }
        guard !reason.trimmedIsEmpty else { throw ProductionRuleError(.reasonRequired, "freezing limits needs a reason") }
        try pool.transaction { db in
            let userID = try Lookup.userID(actor, db)
            let id = try db.query("""
                INSERT INTO characteristic_limits (characteristic_id, effective_from, center, sigma, frozen_by)
                VALUES (\(characteristicID), \(effectiveFrom), \(center), \(sigma), \(userID)) RETURNING id
                """).decode(Int64.self)[0]
            try AuditTrail.record(
                "characteristic.limits_frozen", entity: "quality_characteristic", id: String(characteristicID), actor: actor, at: clock(),
                reason: reason, after: try AuditTrail.snapshot("characteristic_limits", id: id, db), db)
        }
    }

    // MARK: Measurements

    /// Where a measurement comes from.
    public enum Source: String, Sendable {
        case `operator`
        case gauge
        case api
    }

    /// A subgroup of values for one characteristic, at an operation (by id, or the one
    /// running on a machine for a gauge that knows only its machine).
    public struct MeasurementInput: Sendable {
        public enum Target: Sendable {
            case operation(Int64)
            case machine(site: String, machine: String)
        }

        public var target: Target
        public var characteristic: String
        public var values: [Double]
        public var source: Source
        public var username: String?
        public var requestKey: String?

        public init(target: Target, characteristic: String, values: [Double], source: Source, username: String? = nil, requestKey: String? = nil) {
            self.target = target
            self.characteristic = characteristic
            self.values = values
            self.source = source
            self.username = username
            self.requestKey = requestKey
        }
    }

    /// What a new point did, for the operator's immediate feedback.
    public struct MeasurementResult: Sendable, Equatable {
        public var measurementID: Int64
        /// The same request key was recorded before: nothing new happened.
        public var duplicate: Bool
        /// The subgroup's mean (the value itself for a subgroup of one).
        public var mean: Double
        public var outOfSpecification: Bool
        /// The limits the point was judged against; nil while trial limits are still
        /// being collected.
        public var check: LivePointCheck?
        public var alarmID: Int64?
        public var holdID: Int64?
        public var nonconformanceID: Int64?

        /// In control: inside the specification and no SPC test failed.
        public var inControl: Bool { !outOfSpecification && (check?.signals.isEmpty ?? true) }
    }

    /// Points read for the runs and trends of the live check.
    static let window = 30

    /// Records a subgroup and judges it at once (see the type's documentation for what a
    /// failure sets off). A repeated `requestKey` returns the first result's measurement.
    @discardableResult
    public func record(_ input: MeasurementInput) throws -> MeasurementResult {
        try pool.transaction { db in try record(input, at: clock(), db) }
    }

    /// `record` inside the caller's transaction, measured at `now` (a gauge's reading carries
    /// its own time).
    func record(_ input: MeasurementInput, at now: Date, _ db: PGConnection) throws -> MeasurementResult {
        do {
            if let key = input.requestKey,
                let row = try db.query("SELECT id, (SELECT avg(v) FROM unnest(vals) v), out_of_spec FROM measurement WHERE request_key = \(key)")
                    .decode((Int64, Double, Bool).self).first
            {
                return MeasurementResult(measurementID: row.0, duplicate: true, mean: row.1, outOfSpecification: row.2)
            }
            let operationID = try resolve(input.target, db)
            guard let row = try db.query("""
                SELECT c.id, c.name, c.unit, c.lsl, c.usl, c.subgroup_size, c.chart, array_to_string(c.rules, ','), c.hold_on_signal,
                       o.machine_id, wo.number, o.sequence
                FROM work_order_operation o JOIN work_order wo ON wo.id = o.work_order_id
                JOIN quality_characteristic c ON c.part_id = wo.part_id AND c.operation_sequence = o.sequence
                WHERE o.id = \(operationID) AND c.code = \(input.characteristic) AND c.active
                """).decode((Int64, String, String, Double?, Double?, Int, String, String, Bool, Int64?, String, Int).self).first
            else {
                throw ProductionRuleError(.notFound, "the operation has no characteristic \(input.characteristic)")
            }
            let (characteristicID, name, unit, lsl, usl, size) = (row.0, row.1, row.2, row.3, row.4, row.5)
            guard input.values.count == size else {
                throw ProductionRuleError(.invalidInput, "\(name) is measured in subgroups of \(size); \(input.values.count) values were given")
            }
            guard input.values.allSatisfy(\.isFinite) else { throw ProductionRuleError(.invalidInput, "every value must be a finite number") }
            let userID = try input.username.map { try Lookup.userID($0, db) }
            let outside = input.values.filter { v in (lsl.map { v < $0 } ?? false) || (usl.map { v > $0 } ?? false) }
            let measurementID = try db.query("""
                INSERT INTO measurement (characteristic_id, operation_id, vals, source, user_id, measured_at, out_of_spec, request_key)
                VALUES (\(characteristicID), \(operationID), string_to_array(\(input.values.map { "\($0)" }.joined(separator: ",")), ',')::float8[],
                        \(input.source.rawValue), \(userID), \(now), \(!outside.isEmpty), \(input.requestKey))
                RETURNING id
                """).decode(Int64.self)[0]
            let actor = input.username ?? "\(input.source.rawValue)"
            try AuditTrail.record(
                "measurement.recorded", entity: "measurement", id: String(measurementID), actor: actor, at: now,
                after: try AuditTrail.snapshot("measurement", id: measurementID, db), db)

            let chart = LivePointCheck.Chart(rawValue: row.6) ?? .imr
            let rules = SPCRuleEvaluator(rules: row.7.split(separator: ",").compactMap { SPCRule(rawValue: String($0)) })
            let check = try judge(characteristicID: characteristicID, chart: chart, rules: rules, at: now, db)
            var result = MeasurementResult(
                measurementID: measurementID, duplicate: false, mean: input.values.reduce(0, +) / Double(size), outOfSpecification: !outside.isEmpty,
                check: check)
            let place = "\(row.10) operation \(row.11)"
            if let check, !check.signals.isEmpty {
                try db.execute("UPDATE measurement SET signals = string_to_array(\(check.signals.joined(separator: ",")), ',') WHERE id = \(measurementID)")
                let alarmID = try db.query("""
                    INSERT INTO spc_alarm (characteristic_id, measurement_id, operation_id, machine_id, rules, raised_at)
                    VALUES (\(characteristicID), \(measurementID), \(operationID), \(row.9), string_to_array(\(check.signals.joined(separator: ",")), ','), \(now))
                    RETURNING id
                    """).decode(Int64.self)[0]
                result.alarmID = alarmID
                try AuditTrail.record(
                    "spc.alarm_raised", entity: "spc_alarm", id: String(alarmID), actor: actor, at: now,
                    after: try AuditTrail.snapshot("spc_alarm", id: alarmID, db), db)
                try notifyAlarm(alarmID, db)
                if row.8 {
                    result.holdID = try hold(
                        operationID: operationID, source: "spc", reason: "SPC signal \(check.signals.joined(separator: ", ")) on \(name) at \(place)",
                        alarmID: alarmID, nonconformanceID: nil, by: userID, actor: actor, at: now, db)
                }
            }
            if !outside.isEmpty {
                let limits = "\(lsl.map { "\($0)" } ?? "-∞") to \(usl.map { "\($0)" } ?? "+∞") \(unit)"
                let description = "\(name) out of specification at \(place): \(outside.map { "\($0)" }.joined(separator: ", ")) \(unit) (specification \(limits))"
                let ncID = try db.query("""
                    INSERT INTO nonconformance (operation_id, measurement_id, description, opened_by, opened_at)
                    VALUES (\(operationID), \(measurementID), \(description), \(userID), \(now)) RETURNING id
                    """).decode(Int64.self)[0]
                result.nonconformanceID = ncID
                try AuditTrail.record(
                    "nonconformance.opened", entity: "nonconformance", id: String(ncID), actor: actor, at: now, reason: "failed inspection",
                    after: try AuditTrail.snapshot("nonconformance", id: ncID, db), db)
                let holdID = try hold(
                    operationID: operationID, source: "inspection", reason: description, alarmID: result.alarmID, nonconformanceID: ncID, by: userID,
                    actor: actor, at: now, db)
                result.holdID = result.holdID ?? holdID
            }
            return result
        }
    }

    private func resolve(_ target: MeasurementInput.Target, _ db: PGConnection) throws -> Int64 {
        switch target {
        case .operation(let id):
            return id
        case .machine(let site, let machine):
            guard let id = try db.query("""
                SELECT o.id FROM work_order_operation o JOIN machine m ON m.id = o.machine_id JOIN site s ON s.id = m.site_id
                WHERE s.code = \(site) AND m.code = \(machine) AND o.state IN ('setup', 'running', 'paused')
                ORDER BY o.state = 'running' DESC, o.started_at DESC LIMIT 1
                """).decode(Int64.self).first
            else { throw ProductionRuleError(.notFound, "no operation is running on \(machine) at \(site) to take the measurement") }
            return id
        }
    }

    /// Judges the newest point of a characteristic against its frozen limits (those in effect
    /// at `now`) or its trial limits.
    func judge(characteristicID: Int64, chart: LivePointCheck.Chart, rules: SPCRuleEvaluator, at now: Date, _ db: PGConnection) throws -> LivePointCheck? {
        func subgroups(_ rows: [String]) -> [[Double]] { rows.map { $0.split(separator: ",").compactMap { Double(String($0)) } } }
        let frozen = try db.query("""
            SELECT center, sigma, effective_from FROM characteristic_limits
            WHERE characteristic_id = \(characteristicID) AND effective_from <= \(now) ORDER BY effective_from DESC LIMIT 1
            """).decode((Double, Double, Date).self).first
        // The window: the newest points, but none from before the frozen limits took effect.
        let window = subgroups(try db.query("""
            SELECT array_to_string(vals, ',') FROM (
                SELECT vals, id FROM measurement WHERE characteristic_id = \(characteristicID) AND measured_at >= \(frozen?.2 ?? Date.distantPast)
                ORDER BY id DESC LIMIT \(Self.window)) w ORDER BY id
            """).decode(String.self))
        let limits: LivePointCheck.Limits
        if let frozen {
            limits = .frozen(center: frozen.0, sigma: frozen.1)
        } else {
            limits = .trial(subgroups(try db.query("""
                SELECT array_to_string(vals, ',') FROM measurement WHERE characteristic_id = \(characteristicID)
                ORDER BY id LIMIT \(LivePointCheck.trialSubgroups)
                """).decode(String.self)))
        }
        do {
            return try LivePointCheck.judge(window, chart: chart, limits: limits, rules: rules)
        } catch {
            throw ProductionRuleError(.invalidInput, "the point cannot be judged: \(error)")
        }
    }

    /// Tells the wall screens (NOTIFY on the live channel, relayed over SSE).
    private func notifyAlarm(_ alarmID: Int64, _ db: PGConnection) throws {
        guard let payload = try db.query("""
            SELECT json_build_object('spc_alarms', json_build_array(json_build_object(
                'id', a.id, 'site', s.code, 'machine', m.code, 'characteristic', c.code, 'rules', a.rules,
                'raised_at', (extract(epoch FROM a.raised_at) * 1000)::bigint)))::text
            FROM spc_alarm a JOIN quality_characteristic c ON c.id = a.characteristic_id
            LEFT JOIN machine m ON m.id = a.machine_id LEFT JOIN site s ON s.id = m.site_id WHERE a.id = \(alarmID)
            """).decode(String.self).first
        else { return }
        try db.notify(MachineDataService.notifyChannel, payload: payload)
    }

    /// Acknowledges an alarm (it leaves the wall screen), with a note of what was done.
    public func acknowledge(alarmID: Int64, by username: String, note: String) throws {
        guard !note.trimmedIsEmpty else { throw ProductionRuleError(.reasonRequired, "acknowledging an alarm needs a note of what was done") }
        try pool.transaction { db in
            let userID = try Lookup.userID(username, db)
            let updated = try db.query("""
                UPDATE spc_alarm SET acknowledged_at = \(clock()), acknowledged_by = \(userID), note = \(note)
                WHERE id = \(alarmID) AND acknowledged_at IS NULL RETURNING id
                """).rowCount
            guard updated == 1 else { throw ProductionRuleError(.invalidTransition, "alarm \(alarmID) does not exist or is acknowledged already") }
            try AuditTrail.record(
                "spc.alarm_acknowledged", entity: "spc_alarm", id: String(alarmID), actor: username, at: clock(), reason: note, db)
        }
    }

    /// Sampling at an operation: when each characteristic with a sampling interval is due.
    public struct SamplingDue: Sendable, Equatable {
        public enum Status: String, Sendable { case ok, comingDue = "coming_due", overdue }
        public var characteristic: String
        public var dueAt: Date
        public var status: Status
    }

    /// For a running operation: each sampled characteristic's next due time (the last sample,
    /// or the operation's start, plus the interval). Coming due is the last fifth of the interval.
    public func sampling(operationID: Int64) throws -> [SamplingDue] {
        try pool.withConnection { db in
            let now = clock()
            return try db.query("""
                SELECT c.code, c.sampling_minutes,
                       coalesce((SELECT max(measured_at) FROM measurement m WHERE m.characteristic_id = c.id AND m.operation_id = o.id), o.started_at, \(now))
                FROM work_order_operation o JOIN work_order wo ON wo.id = o.work_order_id
                JOIN quality_characteristic c ON c.part_id = wo.part_id AND c.operation_sequence = o.sequence
                WHERE o.id = \(operationID) AND c.active AND c.sampling_minutes IS NOT NULL ORDER BY c.code
                """).decode((String, Int, Date).self).map { code, minutes, last in
                let interval = TimeInterval(minutes * 60)
                let due = last.addingTimeInterval(interval)
                let status: SamplingDue.Status = now >= due ? .overdue : (due.timeIntervalSince(now) <= interval / 5 ? .comingDue : .ok)
                return SamplingDue(characteristic: code, dueAt: due, status: status)
            }
        }
    }

    // MARK: Holds

    /// Puts an operation on hold by hand, with a reason; a running operation is paused.
    @discardableResult
    public func placeHold(operationID: Int64, reason: String, by username: String) throws -> Int64 {
        guard !reason.trimmedIsEmpty else { throw ProductionRuleError(.reasonRequired, "a hold needs a reason") }
        return try pool.transaction { db in
            let userID = try Lookup.userID(username, db)
            return try hold(operationID: operationID, source: "manual", reason: reason, alarmID: nil, nonconformanceID: nil, by: userID, actor: username, at: clock(), db)
        }
    }

    /// Puts a lot on hold: it cannot be consumed until released.
    @discardableResult
    public func placeHold(part: String, lot: String, reason: String, by username: String) throws -> Int64 {
        guard !reason.trimmedIsEmpty else { throw ProductionRuleError(.reasonRequired, "a hold needs a reason") }
        return try pool.transaction { db in
            let userID = try Lookup.userID(username, db)
            let lotID = try GenealogyService.lotID(part: part, code: lot, db)
            let now = clock()
            let id = try db.query("""
                INSERT INTO quality_hold (lot_id, source, reason, opened_by, opened_at) VALUES (\(lotID), 'manual', \(reason), \(userID), \(now)) RETURNING id
                """).decode(Int64.self)[0]
            try AuditTrail.record("hold.placed", entity: "quality_hold", id: String(id), actor: username, at: now, reason: reason,
                                  after: try AuditTrail.snapshot("quality_hold", id: id, db), db)
            return id
        }
    }

    func hold(
        operationID: Int64, source: String, reason: String, alarmID: Int64?, nonconformanceID: Int64?, by userID: Int64?, actor: String, at now: Date,
        _ db: PGConnection
    ) throws -> Int64 {
        let state = try db.query("SELECT state FROM work_order_operation WHERE id = \(operationID)").decode(String.self).first
        guard let state else { throw ProductionRuleError(.notFound, "there is no operation \(operationID)") }
        let id = try db.query("""
            INSERT INTO quality_hold (operation_id, source, reason, alarm_id, nonconformance_id, opened_by, opened_at)
            VALUES (\(operationID), \(source), \(reason), \(alarmID), \(nonconformanceID), \(userID), \(now)) RETURNING id
            """).decode(Int64.self)[0]
        try AuditTrail.record("hold.placed", entity: "quality_hold", id: String(id), actor: actor, at: now, reason: reason,
                              after: try AuditTrail.snapshot("quality_hold", id: id, db), db)
        if state == OperationState.running.rawValue || state == OperationState.setup.rawValue {
            _ = try production.perform(.pause, operationID: operationID, by: nil, at: now, db)
        }
        return id
    }

    /// Releases a hold with a reason. A hold that came with a nonconformance is released only
    /// once the nonconformance has its disposition; only quality may release.
    public func releaseHold(_ holdID: Int64, reason: String, by username: String) throws {
        guard !reason.trimmedIsEmpty else { throw ProductionRuleError(.reasonRequired, "releasing a hold needs a reason") }
        try pool.transaction { db in
            let now = clock()
            let userID = try Lookup.userID(username, db)
            guard try db.query("SELECT 1 FROM user_role WHERE user_id = \(userID) AND role_code = 'quality'").rowCount > 0 else {
                throw ProductionRuleError(.signerNotAllowed, "only quality can release a hold; \(username) does not have that role")
            }
            guard let hold = try db.query("""
                SELECT h.released_at IS NOT NULL, n.state FROM quality_hold h LEFT JOIN nonconformance n ON n.id = h.nonconformance_id
                WHERE h.id = \(holdID) FOR UPDATE OF h
                """).decode((Bool, String?).self).first
            else { throw ProductionRuleError(.notFound, "there is no hold \(holdID)") }
            guard !hold.0 else { throw ProductionRuleError(.invalidTransition, "hold \(holdID) is released already") }
            if let state = hold.1, state != "dispositioned" {
                throw ProductionRuleError(.invalidTransition, "the hold's nonconformance has no disposition yet; give it one before releasing")
            }
            let before = try AuditTrail.snapshot("quality_hold", id: holdID, db)
            try db.execute("""
                UPDATE quality_hold SET released_at = \(now), released_by = \(userID), release_reason = \(reason) WHERE id = \(holdID)
                """)
            try AuditTrail.record("hold.released", entity: "quality_hold", id: String(holdID), actor: username, at: now, reason: reason,
                                  before: before, after: try AuditTrail.snapshot("quality_hold", id: holdID, db), db)
        }
    }

    /// Open holds, oldest first: id, what is held, and why.
    public func openHolds() throws -> [(id: Int64, subject: String, source: String, reason: String, since: Date)] {
        try pool.withConnection { db in
            try db.query("""
                SELECT h.id, coalesce(wo.number || ' operation ' || o.sequence, 'lot ' || l.code), h.source, h.reason, h.opened_at
                FROM quality_hold h LEFT JOIN work_order_operation o ON o.id = h.operation_id LEFT JOIN work_order wo ON wo.id = o.work_order_id
                LEFT JOIN lot l ON l.id = h.lot_id WHERE h.released_at IS NULL ORDER BY h.id
                """).decode((Int64, String, String, String, Date).self).map { (id: $0.0, subject: $0.1, source: $0.2, reason: $0.3, since: $0.4) }
        }
    }

    // MARK: Nonconformances

    /// What becomes of nonconforming material.
    public enum Disposition: String, Sendable, CaseIterable {
        case useAsIs = "use_as_is"
        case rework
        case scrap
        case `return`
    }

    /// Opens a nonconformance by hand (found at an operation), holding the operation.
    @discardableResult
    public func openNonconformance(operationID: Int64, description: String, quantity: Double?, by username: String) throws -> (id: Int64, holdID: Int64) {
        guard !description.trimmedIsEmpty else { throw ProductionRuleError(.reasonRequired, "a nonconformance needs a description") }
        if let quantity, !(quantity > 0 && quantity.isFinite) { throw ProductionRuleError(.badQuantity, "a quantity must be a positive number") }
        return try pool.transaction { db in
            let now = clock()
            let userID = try Lookup.userID(username, db)
            let id = try db.query("""
                INSERT INTO nonconformance (operation_id, quantity, description, opened_by, opened_at)
                VALUES (\(operationID), \(quantity), \(description), \(userID), \(now)) RETURNING id
                """).decode(Int64.self)[0]
            try AuditTrail.record("nonconformance.opened", entity: "nonconformance", id: String(id), actor: username, at: now,
                                  after: try AuditTrail.snapshot("nonconformance", id: id, db), db)
            let holdID = try hold(operationID: operationID, source: "inspection", reason: description, alarmID: nil, nonconformanceID: id,
                                  by: userID, actor: username, at: now, db)
            return (id, holdID)
        }
    }

    /// Records the investigation (open → investigating).
    public func investigate(_ id: Int64, findings: String, by username: String) throws {
        guard !findings.trimmedIsEmpty else { throw ProductionRuleError(.reasonRequired, "an investigation needs its findings") }
        try pool.transaction { db in
            let before = try AuditTrail.snapshot("nonconformance", id: id, db)
            let updated = try db.query("""
                UPDATE nonconformance SET state = 'investigating', investigation = \(findings)
                WHERE id = \(id) AND state IN ('open', 'investigating') RETURNING id
                """).rowCount
            guard updated == 1 else { throw ProductionRuleError(.invalidTransition, "nonconformance \(id) does not exist or has its disposition already") }
            try AuditTrail.record("nonconformance.investigated", entity: "nonconformance", id: String(id), actor: username, at: clock(),
                                  before: before, after: try AuditTrail.snapshot("nonconformance", id: id, db), db)
        }
    }

    /// Gives a nonconformance its disposition, with a mandatory reason and a signature by
    /// quality (not the person who opened it). Scrap and rework need a quantity and a reason
    /// code of their kind, and are reported at the operation as such (the ERP hears of scrap).
    public func disposition(
        _ id: Int64, _ disposition: Disposition, reason: String, quantity: Double? = nil, reasonCode: String? = nil, signature: SignatureRequest
    ) throws {
        guard !reason.trimmedIsEmpty else { throw ProductionRuleError(.reasonRequired, "a disposition needs a reason") }
        let now = clock()
        let signer = try Signatures.authenticate(signature, at: now, pool)
        try pool.transaction { db in
            guard let nc = try db.query("SELECT state, opened_by, operation_id, quantity::float8 FROM nonconformance WHERE id = \(id) FOR UPDATE")
                .decode((String, Int64?, Int64?, Double?).self).first
            else { throw ProductionRuleError(.notFound, "there is no nonconformance \(id)") }
            guard nc.0 != "dispositioned" else { throw ProductionRuleError(.invalidTransition, "nonconformance \(id) has its disposition already") }
            let before = try AuditTrail.snapshot("nonconformance", id: id, db)
            let amount = quantity ?? nc.3
            if disposition == .scrap || disposition == .rework {
                guard let operationID = nc.2 else {
                    throw ProductionRuleError(.invalidInput, "only a nonconformance at an operation can be scrapped or reworked there")
                }
                guard let amount else { throw ProductionRuleError(.badQuantity, "\(disposition.rawValue) needs the quantity") }
                _ = try production.report(
                    operationID: operationID, disposition == .scrap ? .scrap : .rework, quantity: amount, reason: reasonCode,
                    note: "nonconformance \(id): \(reason)", by: signer.username, at: now, requestKey: "nonconformance:\(id)", db)
            }
            try db.execute("""
                UPDATE nonconformance SET state = 'dispositioned', disposition = \(disposition.rawValue), disposition_reason = \(reason),
                    quantity = coalesce(\(amount), quantity), dispositioned_by = \(signer.id), dispositioned_at = \(now)
                WHERE id = \(id)
                """)
            try AuditTrail.record("nonconformance.dispositioned", entity: "nonconformance", id: String(id), actor: signer.username, at: now,
                                  reason: reason, before: before, after: try AuditTrail.snapshot("nonconformance", id: id, db), db)
            try Signatures.sign(
                signer, signature,
                rule: SignerRule(
                    roles: ["quality"], excluded: nc.1.map { [$0] } ?? [],
                    exclusion: "the person who found a nonconformance cannot sign its disposition"),
                table: "nonconformance", id: id, at: now, db)
        }
    }

    /// A nonconformance's signatures, each checked against its content now.
    public func signatures(nonconformance id: Int64) throws -> [Signature] {
        try pool.withConnection { db in try Signatures.signatures(table: "nonconformance", id: id, db) }
    }
}

extension QualityService {
    /// The active characteristics of an operation's part at its operation number, as defined.
    public func characteristics(operationID: Int64) throws -> [CharacteristicSpec] {
        try pool.withConnection { db in
            try db.query("""
                SELECT p.code, c.operation_sequence, c.code, c.name, c.unit, c.nominal, c.lsl, c.usl, c.subgroup_size, c.sampling_minutes,
                       c.chart, array_to_string(c.rules, ','), c.hold_on_signal
                FROM work_order_operation o JOIN work_order wo ON wo.id = o.work_order_id JOIN part p ON p.id = wo.part_id
                JOIN quality_characteristic c ON c.part_id = wo.part_id AND c.operation_sequence = o.sequence AND c.active
                WHERE o.id = \(operationID) ORDER BY c.code
                """).decode((String, Int, String, String, String, Double?, Double?, Double?, Int, Int?, String, String, Bool).self).map {
                CharacteristicSpec(
                    part: $0.0, operationSequence: $0.1, code: $0.2, name: $0.3, unit: $0.4, nominal: $0.5, lsl: $0.6, usl: $0.7, subgroupSize: $0.8,
                    samplingMinutes: $0.9, chart: LivePointCheck.Chart(rawValue: $0.10) ?? .imr,
                    rules: $0.11.split(separator: ",").compactMap { SPCRule(rawValue: String($0)) }, holdOnSignal: $0.12)
            }
        }
    }

    /// An unacknowledged SPC alarm, for the wall screen.
    public struct OpenAlarm: Sendable, Equatable {
        public var id: Int64
        public var machine: String?
        public var characteristic: String
        public var rules: [String]
        public var raisedAt: Date
    }

    /// Unacknowledged alarms, newest first: of one site's machines (and those of no machine),
    /// or of every site when `site` is nil.
    public func openAlarms(site: String?) throws -> [OpenAlarm] {
        try pool.withConnection { db in
            try db.query("""
                SELECT a.id, m.code, c.code, array_to_string(a.rules, ','), a.raised_at FROM spc_alarm a
                JOIN quality_characteristic c ON c.id = a.characteristic_id
                LEFT JOIN machine m ON m.id = a.machine_id LEFT JOIN site s ON s.id = m.site_id
                WHERE a.acknowledged_at IS NULL AND (\(site)::text IS NULL OR s.code = \(site) OR m.id IS NULL) ORDER BY a.raised_at DESC LIMIT 100
                """).decode((Int64, String?, String, String, Date).self).map {
                OpenAlarm(id: $0.0, machine: $0.1, characteristic: $0.2, rules: $0.3.split(separator: ",").map(String.init), raisedAt: $0.4)
            }
        }
    }

    /// A nonconformance as the quality pages show it.
    public struct NonconformanceView: Sendable, Equatable {
        public var id: Int64
        public var subject: String
        public var description: String
        public var state: String
        public var quantity: Double?
        public var investigation: String?
        public var disposition: String?
        public var dispositionReason: String?
        public var openedBy: String?
        public var openedAt: Date
    }

    /// Nonconformances, newest first; only those without a disposition when `open`.
    public func nonconformances(open: Bool, limit: Int = 200) throws -> [NonconformanceView] {
        try pool.withConnection { db in
            try db.query("""
                SELECT n.id, coalesce(wo.number || ' operation ' || o.sequence, 'lot ' || l.code, '-'), n.description, n.state, n.quantity::float8,
                       n.investigation, n.disposition, n.disposition_reason, u.username, n.opened_at
                FROM nonconformance n LEFT JOIN work_order_operation o ON o.id = n.operation_id LEFT JOIN work_order wo ON wo.id = o.work_order_id
                LEFT JOIN lot l ON l.id = n.lot_id LEFT JOIN app_user u ON u.id = n.opened_by
                WHERE NOT \(open) OR n.state <> 'dispositioned' ORDER BY n.id DESC LIMIT \(limit)
                """).decode((Int64, String, String, String, Double?, String?, String?, String?, String?, Date).self).map {
                NonconformanceView(
                    id: $0.0, subject: $0.1, description: $0.2, state: $0.3, quantity: $0.4, investigation: $0.5, disposition: $0.6,
                    dispositionReason: $0.7, openedBy: $0.8, openedAt: $0.9)
            }
        }
    }
}

extension QualityService {
    /// A characteristic's recent points on its control chart, judged against the limits in
    /// effect now, with the capability of those points against the specification.
    public struct ChartView: Sendable {
        public var id: Int64
        public var spec: CharacteristicSpec
        /// I or X̄, and MR, R or S; nil while trial limits are being collected.
        public var location: SPCSeries?
        public var dispersion: SPCSeries?
        /// Where the limits come from, in words.
        public var limits: String
        public var values: [Double]
        public var measuredAt: [Date]
        public var capability: ProcessCapability?
    }

    /// The chart of characteristic `id` over its last `points` subgroups.
    public func chart(characteristicID id: Int64, points: Int = 100) throws -> ChartView {
        try pool.withConnection { db in
            guard let row = try db.query("""
                SELECT p.code, c.operation_sequence, c.code, c.name, c.unit, c.nominal, c.lsl, c.usl, c.subgroup_size, c.sampling_minutes,
                       c.chart, array_to_string(c.rules, ','), c.hold_on_signal
                FROM quality_characteristic c JOIN part p ON p.id = c.part_id WHERE c.id = \(id)
                """).decode((String, Int, String, String, String, Double?, Double?, Double?, Int, Int?, String, String, Bool).self).first
            else { throw ProductionRuleError(.notFound, "there is no characteristic \(id)") }
            let spec = CharacteristicSpec(
                part: row.0, operationSequence: row.1, code: row.2, name: row.3, unit: row.4, nominal: row.5, lsl: row.6, usl: row.7, subgroupSize: row.8,
                samplingMinutes: row.9, chart: LivePointCheck.Chart(rawValue: row.10) ?? .imr,
                rules: row.11.split(separator: ",").compactMap { SPCRule(rawValue: String($0)) }, holdOnSignal: row.12)
            let recent = try db.query("""
                SELECT array_to_string(vals, ','), measured_at FROM (
                    SELECT vals, measured_at, id FROM measurement WHERE characteristic_id = \(id) ORDER BY id DESC LIMIT \(points)) w ORDER BY id
                """).decode((String, Date).self)
            let subgroups = recent.map { $0.0.split(separator: ",").compactMap { Double(String($0)) } }
            let frozen = try db.query("""
                SELECT center, sigma, effective_from FROM characteristic_limits WHERE characteristic_id = \(id) AND effective_from <= \(clock())
                ORDER BY effective_from DESC LIMIT 1
                """).decode((Double, Double, Date).self).first
            let estimation: SPCEstimation
            let limits: String
            if let frozen {
                estimation = .known(center: frozen.0, sigma: frozen.1)
                limits = "frozen limits (center \(frozen.0), sigma \(frozen.1)) in effect since \(frozen.2.ISO8601Format())"
            } else {
                let trial = try db.query("""
                    SELECT array_to_string(vals, ',') FROM measurement WHERE characteristic_id = \(id) ORDER BY id LIMIT \(LivePointCheck.trialSubgroups)
                    """).decode(String.self).map { $0.split(separator: ",").compactMap { Double(String($0)) } }
                guard trial.count >= LivePointCheck.trialSubgroups, let check = try? LivePointCheck.judge(
                    trial, chart: spec.chart, limits: .trial(trial), rules: SPCRuleEvaluator(rules: spec.rules))
                else {
                    return ChartView(
                        id: id, spec: spec, location: nil, dispersion: nil,
                        limits: "collecting trial limits: \(min(trial.count, LivePointCheck.trialSubgroups)) of \(LivePointCheck.trialSubgroups) subgroups",
                        values: subgroups.flatMap { $0 }, measuredAt: recent.map(\.1), capability: nil)
                }
                let sigma = (check.ucl - check.center) / 3 * Double(spec.subgroupSize).squareRoot()
                estimation = .known(center: check.center, sigma: sigma)
                limits = "trial limits from the first \(LivePointCheck.trialSubgroups) subgroups"
            }
            let rules = SPCRuleEvaluator(rules: spec.rules)
            var location: SPCSeries?
            var dispersion: SPCSeries?
            var sigmaWithin: Double?
            if subgroups.count >= 2 {
                switch spec.chart {
                case .imr:
                    let chart = try? IndividualsChart.compute(subgroups.map { $0[0] }, estimation: estimation, rules: rules)
                    (location, dispersion, sigmaWithin) = (chart?.individuals, chart?.movingRange, chart?.sigmaWithin)
                case .xbarR, .xbarS:
                    let chart = try? SubgroupChart.compute(
                        subgroups, dispersion: spec.chart == .xbarR ? .range : .standardDeviation, estimation: estimation, rules: rules)
                    (location, dispersion, sigmaWithin) = (chart?.means, chart?.dispersion, chart?.sigmaWithin)
                }
            }
            let values = subgroups.flatMap { $0 }
            let capability = sigmaWithin.flatMap { try? ProcessCapability.compute(values: values, sigmaWithin: $0, lsl: spec.lsl, usl: spec.usl) }
            return ChartView(
                id: id, spec: spec, location: location, dispersion: dispersion, limits: limits, values: values, measuredAt: recent.map(\.1),
                capability: capability)
        }
    }

    /// Every active characteristic: id, part, operation, code, name, points recorded and open alarms.
    public func characteristicList() throws -> [(id: Int64, part: String, operation: Int, code: String, name: String, points: Int, openAlarms: Int)] {
        try pool.withConnection { db in
            try db.query("""
                SELECT c.id, p.code, c.operation_sequence, c.code, c.name,
                       (SELECT count(*) FROM measurement m WHERE m.characteristic_id = c.id)::int,
                       (SELECT count(*) FROM spc_alarm a WHERE a.characteristic_id = c.id AND a.acknowledged_at IS NULL)::int
                FROM quality_characteristic c JOIN part p ON p.id = c.part_id WHERE c.active ORDER BY p.code, c.operation_sequence, c.code
                """).decode((Int64, String, Int, String, String, Int, Int).self).map {
                (id: $0.0, part: $0.1, operation: $0.2, code: $0.3, name: $0.4, points: $0.5, openAlarms: $0.6)
            }
        }
    }
}
