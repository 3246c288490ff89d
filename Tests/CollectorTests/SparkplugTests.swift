@testable import Collector
import Domain
import Services
import Testing

/// The Sparkplug B host against messages captured from a real edge node (SparkplugVectors).
struct SparkplugTests {
    static let group = "spBv1.0/Plant1"
    static let t: Int64 = 1_795_387_960_000

    @Test func capturedPayloads_decodeToWhatTheEdgeNodeSent() throws {
        let nbirth = try SparkplugPayload.decode(SparkplugVectors.v02_nbirth)
        #expect(nbirth.seq == 0)
        #expect(SparkplugHost.bdSeq(nbirth) == 0)
        let rebirth = try #require(nbirth.metrics.first { $0.name == "Node Control/Rebirth" })
        #expect(rebirth.alias == nil && rebirth.value(datatype: nil) == .boolean(false))
        #expect(nbirth.metrics.contains { $0.alias == 23 })

        let first = try SparkplugPayload.decode(SparkplugVectors.v05_ddataFirst)
        #expect(first.seq == 3 && first.metrics.allSatisfy { $0.name == nil && $0.datatype == nil && $0.alias != nil })
        #expect(first.metrics.map(\.alias) == [3, 4, 6, 7, 1])
        #expect(first.metrics[0].value(datatype: 4) == .int(1))
        #expect(first.metrics[2].value(datatype: 9) == .double(12000))
        #expect(first.metrics[4].value(datatype: 12) == .string("RUNNING"))

        // Int32 -1 travels as uint32 4294967295 and reads back as -1 with the birth's type.
        let cleared = try SparkplugPayload.decode(SparkplugVectors.v07_ddataAlarmCleared)
        let code = try #require(cleared.metrics.first { $0.alias == 9 })
        #expect(code.raw == .int(4_294_967_295) && code.value(datatype: 3) == .int(-1))

        #expect(try SparkplugPayload.decode(SparkplugVectors.v08_ddataSeq255).seq == 255)
        #expect(try SparkplugPayload.decode(SparkplugVectors.v09_ddataSeq0Wrap).seq == 0)
        let death = try SparkplugPayload.decode(SparkplugVectors.v12_ddeathCnc02)
        #expect(death.seq == 4 && death.metrics.isEmpty)
        let will = try SparkplugPayload.decode(SparkplugVectors.v13_ndeathWill)
        #expect(will.seq == nil && SparkplugHost.bdSeq(will) == 0)
    }

    /// Eclipse Tahu (Java) sign-extends small signed integers to 32 or 64 bits and puts UInt32
    /// in long_value; pysparkplug uses the type's own width. Both read back the same.
    @Test func tahuJavaIntegerEncoding_readsBackSigned() throws {
        let payload = try SparkplugPayload.decode(SparkplugVectors.v17_nbirthTahuJavaIntEncoding)
        func value(_ name: String) -> SparkplugValue? {
            payload.metrics.first { $0.name == name }.flatMap { $0.value(datatype: nil) }
        }
        #expect(value("T/Int8 -5") == .int(-5))
        #expect(value("T/Int16 -300") == .int(-300))
        #expect(value("T/Int32 -1") == .int(-1))
        #expect(value("T/Int64 -2") == .int(-2))
        #expect(value("T/UInt32 3000000000") == .unsigned(3_000_000_000))
        #expect(value("T/DateTime") == .dateTime(1_700_000_000_000))
        #expect(value("T/Null Double") == nil)
        // And pysparkplug's own width (Int8 -5 as 251) reads the same.
        #expect(SparkplugMetric(datatype: 1, raw: .int(251)).value(datatype: nil) == .int(-5))
    }

    enum BadTopic: String, CaseIterable {
        case otherNamespace = "spAv1.0/Plant1/NDATA/node"
        case unknownType = "spBv1.0/Plant1/NSTATUS/node"
        case deviceMissing = "spBv1.0/Plant1/DDATA/node"
        case deviceNotAllowed = "spBv1.0/Plant1/NDATA/node/device"
        case emptyLevel = "spBv1.0//NDATA/node"
        case stateWithExtra = "spBv1.0/STATE/host/extra"
    }

    @Test(arguments: BadTopic.allCases)
    func badTopics_areRefusedWithAReason(_ topic: BadTopic) {
        #expect(throws: DeadLetterReason.self) { try SparkplugTopic.parse(topic.rawValue) }
    }

    @Test func topics_parse() throws {
        #expect(try SparkplugTopic.parse("spBv1.0/STATE/mes-collector") == .state(host: "mes-collector"))
        #expect(try SparkplugTopic.parse("spBv1.0/Plant1/DDATA/Line1-Gateway/CNC-01") == .edge(group: "Plant1", type: .ddata, node: "Line1-Gateway", device: "CNC-01"))
    }

    static func feed(_ host: inout SparkplugHost, _ type: String, _ bytes: [UInt8], device: String? = nil, node: String = "Line1-Gateway", at time: Int64 = t) -> SparkplugHost.Output {
        host.handle(topic: "\(group)/\(type)/\(node)" + (device.map { "/\($0)" } ?? ""), payload: bytes, receivedAtMilliseconds: time)
    }

    /// A whole captured session: births, data (with gaps between the captured samples), the
    /// seq wrap, a device death and the node's will. Without a reorder window, so each gap
    /// asks for a rebirth at once.
    @Test func aCapturedSession_becomesMachineMessages() throws {
        var host = SparkplugHost(reorderTimeoutMilliseconds: 0)
        #expect(Self.feed(&host, "NBIRTH", SparkplugVectors.v02_nbirth) == SparkplugHost.Output())
        let birth = Self.feed(&host, "DBIRTH", SparkplugVectors.v03_dbirthCnc01, device: "CNC-01")
        #expect(birth.deadLetters.isEmpty && birth.commands.isEmpty)
        let cnc01 = MachinePath(site: "Plant1", area: "Plant1", line: "Line1-Gateway", machine: "CNC-01")
        #expect(birth.messages.contains(MachineMessage(path: cnc01, timestampMilliseconds: 1_795_387_951_639, body: .state(.idle, reason: nil))))
        #expect(birth.messages.contains { if case .count("total", 0, "O1001") = $0.body { true } else { false } })
        _ = Self.feed(&host, "DBIRTH", SparkplugVectors.v04_dbirthCnc02, device: "CNC-02")

        let first = Self.feed(&host, "DDATA", SparkplugVectors.v05_ddataFirst, device: "CNC-01")
        #expect(first.commands.isEmpty && first.deadLetters.isEmpty)
        #expect(first.messages.map(\.body) == [
            .count(counter: "total", value: 1, part: "O1001"), .count(counter: "good", value: 1, part: "O1001"), .state(.running, reason: nil),
        ])

        // The next captured sample has seq 11: messages were missed, so the host asks for a rebirth.
        let alarm = Self.feed(&host, "DDATA", SparkplugVectors.v06_ddataAlarm, device: "CNC-01")
        #expect(alarm.commands.map(\.topic) == ["spBv1.0/Plant1/NCMD/Line1-Gateway"])
        #expect(alarm.messages.contains { $0.body == .alarm(code: "1042", text: "Spindle overload", active: true, severity: nil) })
        #expect(alarm.messages.contains { $0.body == .state(.unplannedStop, reason: nil) })
        let cleared = Self.feed(&host, "DDATA", SparkplugVectors.v07_ddataAlarmCleared, device: "CNC-01", at: Self.t + 1_000)
        #expect(cleared.commands.isEmpty, "a rebirth was asked for a second ago: not again yet")
        #expect(cleared.messages.contains { $0.body == .alarm(code: "1042", text: nil, active: false, severity: nil) })

        _ = Self.feed(&host, "DDATA", SparkplugVectors.v08_ddataSeq255, device: "CNC-01", at: Self.t + 2_000)
        let wrapped = Self.feed(&host, "DDATA", SparkplugVectors.v09_ddataSeq0Wrap, device: "CNC-02", at: Self.t + 2_001)
        #expect(wrapped.commands.isEmpty && wrapped.deadLetters.isEmpty, "255 → 0 is the wrap, not a gap")

        let deviceDeath = Self.feed(&host, "DDEATH", SparkplugVectors.v12_ddeathCnc02, device: "CNC-02", at: Self.t + 2_002)
        #expect(deviceDeath.messages.map(\.body) == [.state(.offline, reason: "device offline")])
        #expect(deviceDeath.messages.first?.path.machine == "CNC-02")

        let will = Self.feed(&host, "NDEATH", SparkplugVectors.v13_ndeathWill, at: Self.t + 5_000)
        #expect(will.messages == [MachineMessage(path: cnc01, timestampMilliseconds: Self.t + 5_000, body: .state(.offline, reason: "edge node offline"))])
    }

    /// An NDEATH whose bdSeq is not the current NBIRTH's (pysparkplug's off-by-one clean
    /// disconnect, or a late will from an older session) is ignored and dead-lettered.
    @Test func anNDEATHFromAnotherSession_isIgnored() {
        var host = SparkplugHost(reorderTimeoutMilliseconds: 0)  // the captured DDATA is seq 3 after a DBIRTH of seq 1
        _ = Self.feed(&host, "NBIRTH", SparkplugVectors.v02_nbirth, node: "Line2-Gateway")
        _ = Self.feed(&host, "DBIRTH", SparkplugVectors.v03_dbirthCnc01, device: "CNC-01", node: "Line2-Gateway")
        let stale = Self.feed(&host, "NDEATH", SparkplugVectors.v15_ndeathLibraryCleanOffbyone, node: "Line2-Gateway")
        #expect(stale.messages.isEmpty)
        #expect(stale.deadLetters.map(\.reason) == ["NDEATH ignored: its bdSeq 1, the current NBIRTH's 0 (a will from an older session)"])
        // The node is still online: its data is used.
        let named = Self.feed(&host, "DDATA", SparkplugVectors.v14_ddataNamedLibrary, device: "CNC-01", node: "Line2-Gateway")
        #expect(named.messages.contains { $0.body == .state(.running, reason: nil) })
    }

    @Test func dataFromAnUnknownNode_asksForARebirth_onceUntilTheRetryTime() throws {
        var host = SparkplugHost(rebirthRetryMilliseconds: 5_000)
        let first = Self.feed(&host, "DDATA", SparkplugVectors.v05_ddataFirst, device: "CNC-01")
        #expect(first.messages.isEmpty && first.deadLetters.count == 1)
        #expect(first.deadLetters[0].reason.contains("has not sent its NBIRTH"))
        #expect(first.deadLetters[0].payload == SparkplugVectors.v05_ddataFirst)
        let command = try #require(first.commands.first)
        #expect(command.topic == "spBv1.0/Plant1/NCMD/Line1-Gateway")
        // The request is what a node expects: one Boolean metric, true, and no seq.
        let request = try SparkplugPayload.decode(command.payload)
        #expect(request.seq == nil && request.timestamp == UInt64(Self.t))
        #expect(request.metrics.map(\.name) == ["Node Control/Rebirth"] && request.metrics[0].value(datatype: nil) == .boolean(true))
        #expect(Self.feed(&host, "DDATA", SparkplugVectors.v05_ddataFirst, device: "CNC-01", at: Self.t + 1_000).commands.isEmpty)
        #expect(Self.feed(&host, "DDATA", SparkplugVectors.v05_ddataFirst, device: "CNC-01", at: Self.t + 6_000).commands.count == 1)
    }

    @Test func anUnknownAlias_isDeadLettered_theKnownMetricsUsed_andARebirthAsked() {
        var host = SparkplugHost()
        _ = Self.feed(&host, "NBIRTH", SparkplugVectors.v02_nbirth)
        _ = Self.feed(&host, "DBIRTH", SparkplugVectors.v03_dbirthCnc01, device: "CNC-01")
        // CNC-02's data (aliases 14–18) reaches a host that saw only CNC-01's birth.
        _ = Self.feed(&host, "DBIRTH", SparkplugVectors.v04_dbirthCnc02, device: "CNC-02")
        var forgetful = host
        forgetful.nodes[SparkplugHost.NodeKey(group: "Plant1", node: "Line1-Gateway")]?.aliases[14] = nil
        let output = Self.feed(&forgetful, "DDATA", SparkplugVectors.v09_ddataSeq0Wrap, device: "CNC-02")
        #expect(output.deadLetters.map(\.reason) == ["unknown alias 14 (not in the births; the other metrics were used): rebirth requested"])
        #expect(output.commands.count == 1)
    }

    @Test func everyTruncatedPayload_isAReasonNeverACrash() {
        let bytes = SparkplugVectors.v03_dbirthCnc01
        var refused = 0
        for length in 0..<bytes.count {
            do {
                _ = try SparkplugPayload.decode(Array(bytes.prefix(length)))
            } catch {
                refused += 1
                #expect(error.reason.hasPrefix("not a Sparkplug B payload: "))
            }
        }
        // Cutting between two fields leaves a shorter valid payload; cutting inside one never does.
        #expect(refused > bytes.count / 2)
    }

    @Test func stateMessages_areNotMachineData() {
        var host = SparkplugHost()
        #expect(host.handle(topic: "spBv1.0/STATE/mes-collector", payload: SparkplugVectors.v01_stateOnline, receivedAtMilliseconds: Self.t) == SparkplugHost.Output())
        #expect(Self.feed(&host, "NCMD", SparkplugVectors.v10_ncmdRebirth) == SparkplugHost.Output())
        #expect(SparkplugPayload.state(online: true, timestamp: 1_795_387_951_352) == SparkplugVectors.v01_stateOnline)
    }

    // MARK: The reorder window

    /// CNC-01's cycle counter (alias 3 in the captured DBIRTH) at `value`, in a DDATA with `seq`.
    static func cycleCount(_ value: UInt64, seq: UInt64) -> [UInt8] {
        SparkplugPayload(
            timestamp: UInt64(t) + value, seq: seq,
            metrics: [SparkplugMetric(alias: 3, timestamp: UInt64(t) + value, raw: .long(value))]
        ).encoded()
    }

    static func counts(_ output: SparkplugHost.Output) -> [Int64] {
        output.messages.compactMap { if case .count("total", let value, _) = $0.body { value } else { nil } }
    }

    /// A born node (NBIRTH seq 0, DBIRTHs seq 1 and 2): its next DDATA is seq 3.
    static func bornNode(reorderTimeout: Int64 = 2_000) -> SparkplugHost {
        var host = SparkplugHost(reorderTimeoutMilliseconds: reorderTimeout)
        _ = feed(&host, "NBIRTH", SparkplugVectors.v02_nbirth)
        _ = feed(&host, "DBIRTH", SparkplugVectors.v03_dbirthCnc01, device: "CNC-01")
        _ = feed(&host, "DBIRTH", SparkplugVectors.v04_dbirthCnc02, device: "CNC-02")
        return host
    }

    /// Data that overtakes (QoS 0) waits for the message it overtook, then both are used in seq
    /// order: read in arrival order, counter 12 then 11 would look like a counter reset.
    @Test func messagesOutOfOrder_areUsedInSeqOrder_withoutARebirth() {
        var host = Self.bornNode()
        #expect(Self.counts(Self.feed(&host, "DDATA", Self.cycleCount(10, seq: 3), device: "CNC-01")) == [10])
        let early = Self.feed(&host, "DDATA", Self.cycleCount(12, seq: 5), device: "CNC-01", at: Self.t + 5)
        #expect(early.isEmpty, "held while seq 4 may still come")
        let early2 = Self.feed(&host, "DDATA", Self.cycleCount(13, seq: 6), device: "CNC-01", at: Self.t + 6)
        #expect(early2.isEmpty)
        let late = Self.feed(&host, "DDATA", Self.cycleCount(11, seq: 4), device: "CNC-01", at: Self.t + 40)
        #expect(Self.counts(late) == [11, 12, 13])
        #expect(late.commands.isEmpty && late.deadLetters.isEmpty)
        // The window is closed and the next seq is 7.
        #expect(Self.counts(Self.feed(&host, "DDATA", Self.cycleCount(14, seq: 7), device: "CNC-01", at: Self.t + 50)) == [14])
        #expect(host.expire(atMilliseconds: Self.t + 60_000, all: true).isEmpty)
    }

    /// A message that never comes: once the timeout has passed, the node is asked for a rebirth
    /// and what was held is used in seq order, whether the time is noticed by `expire` (the
    /// collector's timer) or by the node's next message.
    @Test func aGapStillOpenAfterTheTimeout_asksForARebirth_andReleasesWhatWasHeld() throws {
        var host = Self.bornNode(reorderTimeout: 2_000)
        #expect(Self.feed(&host, "DDATA", Self.cycleCount(12, seq: 4), device: "CNC-01", at: Self.t).isEmpty)
        #expect(Self.feed(&host, "DDATA", Self.cycleCount(13, seq: 5), device: "CNC-01", at: Self.t + 100).isEmpty)
        #expect(host.expire(atMilliseconds: Self.t + 1_999).isEmpty, "not yet: the timeout counts from the first held message")
        let expired = host.expire(atMilliseconds: Self.t + 2_000)
        #expect(Self.counts(expired) == [12, 13])
        #expect(expired.commands.map(\.topic) == ["spBv1.0/Plant1/NCMD/Line1-Gateway"])
        let request = try SparkplugPayload.decode(try #require(expired.commands.first).payload)
        #expect(request.metrics.map(\.name) == ["Node Control/Rebirth"])
        // The straggler arrives after all: behind the expected seq, used, no second request.
        let straggler = Self.feed(&host, "DDATA", Self.cycleCount(11, seq: 3), device: "CNC-01", at: Self.t + 2_100)
        #expect(Self.counts(straggler) == [11] && straggler.commands.isEmpty)
        #expect(Self.counts(Self.feed(&host, "DDATA", Self.cycleCount(14, seq: 6), device: "CNC-01", at: Self.t + 2_200)) == [14])

        // The same gap noticed by the node's next message instead of the timer.
        var other = Self.bornNode(reorderTimeout: 2_000)
        _ = Self.feed(&other, "DDATA", Self.cycleCount(12, seq: 4), device: "CNC-01", at: Self.t)
        let next = Self.feed(&other, "DDATA", Self.cycleCount(13, seq: 5), device: "CNC-01", at: Self.t + 2_500)
        #expect(Self.counts(next) == [12, 13], "the expired window is released first, then seq 5 is the expected one")
        #expect(next.commands.count == 1)
    }

    /// An NBIRTH (the node's new session) or NDEATH releases what was held before it acts, and a
    /// shutdown (`all`) releases every gap: a reorder window never loses data.
    @Test func heldMessages_areReleasedByABirthADeathOrShutdown() {
        var host = Self.bornNode()
        _ = Self.feed(&host, "DDATA", Self.cycleCount(12, seq: 4), device: "CNC-01")
        let rebirth = Self.feed(&host, "NBIRTH", SparkplugVectors.v02_nbirth, at: Self.t + 10)
        #expect(Self.counts(rebirth) == [12])

        var dying = Self.bornNode()
        _ = Self.feed(&dying, "DDATA", Self.cycleCount(12, seq: 4), device: "CNC-01")
        let death = Self.feed(&dying, "NDEATH", SparkplugVectors.v13_ndeathWill, at: Self.t + 10)
        #expect(death.messages.map(\.body) == [
            .count(counter: "total", value: 12, part: "O1001"), .state(.offline, reason: "edge node offline"), .state(.offline, reason: "edge node offline"),
        ], "the held count first, then both devices offline")

        var stopping = Self.bornNode()
        _ = Self.feed(&stopping, "DDATA", Self.cycleCount(12, seq: 4), device: "CNC-01")
        #expect(Self.counts(stopping.expire(atMilliseconds: Self.t + 1, all: true)) == [12])
    }

    /// With the window off, a gap asks for a rebirth at once and the data is used.
    @Test func withoutAWindow_aGapAsksForARebirthAtOnce() {
        var host = Self.bornNode(reorderTimeout: 0)
        let gap = Self.feed(&host, "DDATA", Self.cycleCount(12, seq: 4), device: "CNC-01")
        #expect(Self.counts(gap) == [12] && gap.commands.count == 1)
    }
}
