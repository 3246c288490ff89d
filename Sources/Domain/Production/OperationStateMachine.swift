/// Where an operation of a work order stands on the floor.
public enum OperationState: String, Sendable, CaseIterable, Codable {
    case queued
    case setup
    case running
    case paused
    case complete
}

/// Where a work order stands. `planned` orders are known but not yet on the floor; the floor
/// may work only on `released` and `inProgress` ones.
public enum WorkOrderState: String, Sendable, CaseIterable, Codable {
    case planned
    case released
    case inProgress = "in_progress"
    case completed
    case closed
    case cancelled

    /// Whether operations of the order may be set up or run.
    public var acceptsWork: Bool { self == .released || self == .inProgress }
}

/// What an operator or supervisor does to an operation.
public enum OperationAction: String, Sendable, CaseIterable, Codable {
    /// Begin setup (changeover) at the machine.
    case setUp = "setup"
    /// Begin or resume producing.
    case start
    case pause
    case complete
}

/// A refused action, in words an operator can act on.
public struct ProductionRuleError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        case orderNotReleased = "order_not_released"
        case machineBusy = "machine_busy"
        case invalidTransition = "invalid_transition"
        case noMachine = "no_machine"
        case badQuantity = "bad_quantity"
        case reasonRequired = "reason_required"
        case notFound = "not_found"
        case operatorNotSignedIn = "operator_not_signed_in"
        /// A request or file the rules cannot take (a missing field, an unknown scope).
        case invalidInput = "invalid_input"
        /// An order the floor has started: the ERP's changes no longer apply to it.
        case orderStarted = "order_started"
        /// The operation (or the lot) is on a quality hold.
        case onHold = "on_hold"
        /// The operator lacks a valid qualification the operation requires, and no supervisor
        /// has signed an override.
        case notQualified = "not_qualified"
        /// Re-authentication at signing failed: wrong password, unknown user, locked account.
        case signatureRejected = "signature_rejected"
        /// The signer may not sign this record (role, or signing their own work).
        case signerNotAllowed = "signer_not_allowed"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// The rules of an operation's life: which action leads where, and when it is refused.
///
/// ```
/// queued ──setup──► setup ──start──► running ◄──start── paused
///    └────────────start─────────────────┘ └──pause──►┘
/// setup, running, paused ──complete──► complete
/// ```
public enum OperationStateMachine {
    /// What the machine is doing with other operations when this one wants to start.
    public struct MachineOccupancy: Sendable, Equatable {
        /// Other operations in setup or running on the same machine (work order and operation
        /// number, for the message).
        public var busyWith: [String]
        /// The machine may run several operations at once (an oven, a wash line).
        public var allowsParallel: Bool

        public init(busyWith: [String] = [], allowsParallel: Bool = false) {
            self.busyWith = busyWith
            self.allowsParallel = allowsParallel
        }
    }

    /// The state after `action`, or the reason it is refused.
    public static func next(
        _ state: OperationState, _ action: OperationAction, order: WorkOrderState, hasMachine: Bool, machine: MachineOccupancy
    ) throws(ProductionRuleError) -> OperationState {
        let target: OperationState
        switch (state, action) {
        case (.queued, .setUp): target = .setup
        case (.queued, .start), (.setup, .start), (.paused, .start): target = .running
        case (.setup, .pause), (.running, .pause): target = .paused
        case (.setup, .complete), (.running, .complete), (.paused, .complete): target = .complete
        default:
            throw ProductionRuleError(.invalidTransition, "an operation that is \(state.rawValue) cannot \(Self.verb(action))")
        }
        if target == .setup || target == .running {
            guard order.acceptsWork else {
                throw ProductionRuleError(
                    .orderNotReleased, "the work order is \(order.rawValue.replacingUnderscores); only released orders can be worked on")
            }
            guard hasMachine else {
                throw ProductionRuleError(.noMachine, "the operation is not dispatched to a machine")
            }
            if !machine.allowsParallel, let other = machine.busyWith.first {
                throw ProductionRuleError(.machineBusy, "the machine is busy with \(other); pause or complete it first")
            }
        }
        return target
    }

    private static func verb(_ action: OperationAction) -> String {
        switch action {
        case .setUp: "start setup"
        case .start: "start"
        case .pause: "pause"
        case .complete: "complete"
        }
    }
}

extension String {
    fileprivate var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }
}
