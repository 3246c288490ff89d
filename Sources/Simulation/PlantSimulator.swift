import Domain
import Glibc

/// A deterministic plant: machines that run cycles, make good parts and rejects, stop for
/// small stops and breakdowns (with and without a reason), change over between parts, wait
/// for material, raise and clear alarms, and report a gauge measurement every few cycles that
/// now and then drifts or shifts so that SPC rules fire. The same seed gives the same plant.
///
/// Times are milliseconds since 1970; `advance(to:)` returns what happened up to that instant,
/// in time order, as the machines would publish it.
public struct PlantSimulator: Sendable {
    public struct Settings: Sendable {
        public var site = "S1"
        public var area = "A1"
        /// Machines per line; lines are named L1, L2, …
        public var machinesPerLine = 10
        public var smallStopChance = 0.01
        public var breakdownChance = 0.002
        public var starvedChance = 0.004
        public var rejectChance = 0.02
        /// Cycles between changeovers, on average.
        public var cyclesPerJob = 400.0
        public var measurementEvery = 5
        public init() {}
    }

    public static let stopReasons = ["tool broken", "spindle fault", "coolant low", "door interlock", "material jam", "program error"]
    /// The part numbers the simulated machines make.
    public static let parts = ["P-1001", "P-1002", "P-2040", "P-3300"]

    struct Machine: Sendable {
        var path: MachinePath
        var idealCycleMs: Double
        var state: MachineState = .running
        var nextAt: Int64
        var total: Int64
        var reject: Int64
        var cycles = 0
        var jobCycles = 0
        var part: String
        var alarm: String?
        // Gauge: nominal and spread, with a drift or a shift now and then.
        var nominal: Double
        var sigma: Double
        var drift = 0.0
        var driftLeft = 0
        var shift = 0.0
        var shiftLeft = 0
        /// Each machine draws from its own generator, so how often `advance` is called cannot
        /// change what a machine does.
        var random: SplitMix64
    }

    public var settings: Settings
    var machines: [Machine]
    var started = false

    public init(machines count: Int, seed: UInt64, start: Int64, settings: Settings = Settings()) {
        self.settings = settings
        var seeds = SplitMix64(seed: seed)
        machines = (0..<count).map { index in
            var random = SplitMix64(seed: seeds.next())
            let line = index / settings.machinesPerLine + 1
            let cycle = 8_000 + random.nextDouble() * 37_000
            return Machine(
                path: MachinePath(site: settings.site, area: settings.area, line: "L\(line)", machine: format3(index + 1)),
                idealCycleMs: cycle, nextAt: start + Int64(random.nextDouble() * cycle), total: Int64(random.next() % 1_000_000),
                reject: Int64(random.next() % 10_000), part: Self.parts[Int(random.next() % UInt64(Self.parts.count))],
                nominal: 12.0, sigma: 0.004, random: random)
        }
        startAt = start
    }

    let startAt: Int64

    /// The machines' paths, in order.
    public var paths: [MachinePath] { machines.map(\.path) }

    /// Each machine's ideal cycle in seconds (its nameplate speed; real cycles run a little
    /// slower), in the order of `paths`: what a plant model needs for OEE performance.
    public var idealCycleSeconds: [Double] { machines.map { $0.idealCycleMs / 1000 } }

    /// Everything that happened after the previous call up to `time`, in time order.
    public mutating func advance(to time: Int64) -> [MachineMessage] {
        var out: [MachineMessage] = []
        if !started {
            started = true
            for machine in machines {
                out.append(MachineMessage(path: machine.path, timestampMilliseconds: startAt, body: .state(.running, reason: nil)))
            }
        }
        for index in machines.indices {
            var machine = machines[index]
            while machine.nextAt <= time {
                step(&machine, &out)
            }
            machines[index] = machine
        }
        // Stable: a machine's own messages keep their order at equal times.
        return out.enumerated().sorted { ($0.element.timestampMilliseconds, $0.offset) < ($1.element.timestampMilliseconds, $1.offset) }.map(\.element)
    }

    func step(_ machine: inout Machine, _ out: inout [MachineMessage]) {
        let now = machine.nextAt
        func emit(_ body: MachineMessage.Body) { out.append(MachineMessage(path: machine.path, timestampMilliseconds: now, body: body)) }
        func minutes(_ low: Double, _ high: Double) -> Int64 { Int64((low + machine.random.nextDouble() * (high - low)) * 60_000) }

        if machine.state != .running {
            // Back to work after a stop, a changeover or a wait.
            if let alarm = machine.alarm {
                emit(.alarm(code: alarm, text: nil, active: false, severity: nil))
                machine.alarm = nil
            }
            machine.state = .running
            emit(.state(.running, reason: nil))
            machine.nextAt = now + cycleTime(&machine)
            return
        }

        // A cycle just ended: count it.
        machine.cycles += 1
        machine.jobCycles += 1
        machine.total += 1
        emit(.count(counter: "total", value: machine.total, part: machine.part))
        if machine.random.nextDouble() < settings.rejectChance {
            machine.reject += 1
            emit(.count(counter: "reject", value: machine.reject, part: machine.part))
        }
        if machine.cycles % settings.measurementEvery == 0 {
            emit(.measurement(characteristic: "bore_diameter", value: gauge(&machine), unit: "mm"))
        }

        // What comes next.
        let roll = machine.random.nextDouble()
        if Double(machine.jobCycles) > settings.cyclesPerJob * (0.5 + machine.random.nextDouble()) {
            machine.jobCycles = 0
            machine.part = Self.parts[Int(machine.random.next() % UInt64(Self.parts.count))]
            machine.state = .setup
            emit(.state(.setup, reason: "changeover to \(machine.part)"))
            machine.nextAt = now + minutes(10, 25)
        } else if roll < settings.breakdownChance {
            // One breakdown in five is reported without a reason: someone classifies it later.
            let reason = machine.random.nextDouble() < 0.2 ? nil : Self.stopReasons[Int(machine.random.next() % UInt64(Self.stopReasons.count))]
            machine.state = .unplannedStop
            let code = "E\(100 + machine.random.next() % 50)"
            machine.alarm = code
            emit(.alarm(code: code, text: reason ?? "machine stopped", active: true, severity: "fault"))
            emit(.state(.unplannedStop, reason: reason))
            machine.nextAt = now + minutes(5, 40)
        } else if roll < settings.breakdownChance + settings.smallStopChance {
            machine.state = .unplannedStop
            emit(.state(.unplannedStop, reason: nil))
            machine.nextAt = now + Int64(20_000 + machine.random.nextDouble() * 90_000)
        } else if roll < settings.breakdownChance + settings.smallStopChance + settings.starvedChance {
            machine.state = .idle
            emit(.state(.idle, reason: "waiting for material"))
            machine.nextAt = now + minutes(1, 6)
        } else {
            machine.nextAt = now + cycleTime(&machine)
        }
    }

    /// The ideal cycle plus a little slowness, never faster than ideal.
    func cycleTime(_ machine: inout Machine) -> Int64 {
        Int64(machine.idealCycleMs * (1 + abs(machine.random.nextGaussian()) * 0.06))
    }

    /// One gauge reading: normal around the nominal, with an occasional drift (tool wear) or
    /// a sudden shift (a new insert set wrong) lasting a few dozen readings.
    func gauge(_ machine: inout Machine) -> Double {
        if machine.driftLeft == 0 && machine.shiftLeft == 0 {
            let roll = machine.random.nextDouble()
            if roll < 0.01 {
                machine.driftLeft = 25
                machine.drift = 0
            } else if roll < 0.02 {
                machine.shiftLeft = 20
                machine.shift = (machine.random.nextDouble() < 0.5 ? -2 : 2) * machine.sigma
            }
        }
        var offset = 0.0
        if machine.driftLeft > 0 {
            machine.drift += machine.sigma * 0.25
            machine.driftLeft -= 1
            offset += machine.drift
        }
        if machine.shiftLeft > 0 {
            machine.shiftLeft -= 1
            offset += machine.shift
        }
        let value = machine.nominal + offset + machine.random.nextGaussian() * machine.sigma
        return (value * 10_000).rounded() / 10_000
    }
}

/// `M007`: machine numbers padded to three digits.
func format3(_ number: Int) -> String {
    let digits = String(number)
    return "M" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
}

/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014):
/// small, fast, and the same sequence on every platform for a seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// Standard normal (Box–Muller).
    mutating func nextGaussian() -> Double {
        let u = max(nextDouble(), Double.leastNormalMagnitude)
        let v = nextDouble()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}
