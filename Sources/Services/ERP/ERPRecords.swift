#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Master data and orders as an ERP hands them to the MES, in the ERP's own keys (`ref`).
/// A connector turns its ERP's records into these; `ERPPull` writes them to the plant model.

/// What writing one record from outside (an ERP pull, the API, a CSV line) did.
public enum UpsertOutcome: String, Sendable, Equatable {
    case created, updated, unchanged
}

/// A work center: a machine when it has no children (a group of them otherwise, not pulled).
public struct ERPWorkCenter: Sendable, Equatable {
    public var ref: String
    public var name: String
    public var active: Bool

    public init(ref: String, name: String, active: Bool = true) {
        self.ref = ref
        self.name = name
        self.active = active
    }
}

/// A product the plant makes or consumes.
public struct ERPPart: Sendable, Equatable {
    public var ref: String
    public var code: String
    public var name: String
    public var unit: String
    public var active: Bool

    public init(ref: String, code: String, name: String, unit: String, active: Bool = true) {
        self.ref = ref
        self.code = code
        self.name = name
        self.unit = unit
        self.active = active
    }
}

/// A person who books labor.
public struct ERPEmployee: Sendable, Equatable {
    public var ref: String
    public var name: String
    public var active: Bool

    public init(ref: String, name: String, active: Bool = true) {
        self.ref = ref
        self.name = name
        self.active = active
    }
}

/// A bill of materials: `outputQuantity` of the part `partRef` from its components.
public struct ERPBill: Sendable, Equatable {
    public struct Component: Sendable, Equatable {
        public var partRef: String
        public var quantity: Double
        public var unit: String

        public init(partRef: String, quantity: Double, unit: String) {
            self.partRef = partRef
            self.quantity = quantity
            self.unit = unit
        }
    }

    public var ref: String
    public var name: String
    public var partRef: String
    public var outputQuantity: Double
    public var components: [Component]
    public var active: Bool

    public init(ref: String, name: String, partRef: String, outputQuantity: Double, components: [Component], active: Bool = true) {
        self.ref = ref
        self.name = name
        self.partRef = partRef
        self.outputQuantity = outputQuantity
        self.components = components
        self.active = active
    }
}

/// An operation of a routing or of an order.
public struct ERPOperation: Sendable, Equatable {
    public var ref: String
    /// The operation number, unique and positive within its routing or order.
    public var sequence: Int
    public var name: String
    /// The work center it runs on, when the ERP decides that.
    public var workCenterRef: String?

    public init(ref: String, sequence: Int, name: String, workCenterRef: String?) {
        self.ref = ref
        self.sequence = sequence
        self.name = name
        self.workCenterRef = workCenterRef
    }
}

/// A routing of the part `partRef`.
public struct ERPRouting: Sendable, Equatable {
    public var ref: String
    public var name: String
    public var partRef: String
    public var operations: [ERPOperation]
    public var active: Bool

    public init(ref: String, name: String, partRef: String, operations: [ERPOperation], active: Bool = true) {
        self.ref = ref
        self.name = name
        self.partRef = partRef
        self.operations = operations
        self.active = active
    }
}

/// A production order.
public struct ERPWorkOrder: Sendable, Equatable {
    public enum Status: String, Sendable, Equatable {
        /// Released for production (Tryton: waiting or assigned).
        case open
        /// Withdrawn by the ERP.
        case cancelled
    }

    public var ref: String
    public var number: String
    public var reference: String?
    public var status: Status
    public var partRef: String
    public var quantity: Double
    public var routingRef: String?
    public var billRef: String?
    /// The plant-local days the order should start and be done.
    public var plannedStart: String?
    public var due: String?
    public var operations: [ERPOperation]

    public init(
        ref: String, number: String, reference: String?, status: Status, partRef: String, quantity: Double, routingRef: String?,
        billRef: String?, plannedStart: String?, due: String?, operations: [ERPOperation]
    ) {
        self.ref = ref
        self.number = number
        self.reference = reference
        self.status = status
        self.partRef = partRef
        self.quantity = quantity
        self.routingRef = routingRef
        self.billRef = billRef
        self.plannedStart = plannedStart
        self.due = due
        self.operations = operations
    }
}

/// Records changed in the ERP since a point in time, and the newest change among them (the
/// next cursor).
public struct ERPChanges<Record: Sendable>: Sendable {
    public var records: [Record]
    public var newest: Date?

    public init(records: [Record], newest: Date?) {
        self.records = records
        self.newest = newest
    }
}

/// An ERP the MES pulls master data and orders from. `since` nil means everything; otherwise
/// every record changed at or after `since` (more is fine: the pull is idempotent).
public protocol ERPSource: Sendable {
    func workCenters(changedSince since: Date?) throws(ERPError) -> ERPChanges<ERPWorkCenter>
    func parts(changedSince since: Date?) throws(ERPError) -> ERPChanges<ERPPart>
    func employees(changedSince since: Date?) throws(ERPError) -> ERPChanges<ERPEmployee>
    func bills(changedSince since: Date?) throws(ERPError) -> ERPChanges<ERPBill>
    func routings(changedSince since: Date?) throws(ERPError) -> ERPChanges<ERPRouting>
    /// Open orders, and (when `since` is given) orders cancelled since.
    func workOrders(changedSince since: Date?) throws(ERPError) -> ERPChanges<ERPWorkOrder>
}
