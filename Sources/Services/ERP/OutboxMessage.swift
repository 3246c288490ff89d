#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Something the ERP must hear about, written to `erp_outbox` in the same transaction as the
/// floor event it reports, and sent by the `OutboxDispatcher` exactly once.
public enum OutboxMessage: Sendable, Equatable {
    /// An operation finished: its run and setup time and quantities (Tryton: a work cycle).
    case operationDone(OperationDone)
    /// An operator's time on an operation (Tryton: a timesheet line).
    case labor(LaborLine)
    /// Parts scrapped at an operation, with the reason.
    case scrap(ScrapLine)
    /// The order's last operation finished: the good output (Tryton: production done).
    case orderDone(OrderDone)

    /// The `erp_outbox.kind` of this message.
    public var kind: String {
        switch self {
        case .operationDone: "operation_done"
        case .labor: "labor"
        case .scrap: "scrap"
        case .orderDone: "order_done"
        }
    }

    /// The message as the outbox stores it: JSON with sorted keys, ISO 8601 times.
    public func encodedPayload() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.dateEncodingStrategy = .iso8601
        let data: Data =
            switch self {
            case .operationDone(let value): try encoder.encode(value)
            case .labor(let value): try encoder.encode(value)
            case .scrap(let value): try encoder.encode(value)
            case .orderDone(let value): try encoder.encode(value)
            }
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(kind: String, payload: String) throws -> OutboxMessage {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let data = Data(payload.utf8)
        switch kind {
        case "operation_done": return .operationDone(try decoder.decode(OperationDone.self, from: data))
        case "labor": return .labor(try decoder.decode(LaborLine.self, from: data))
        case "scrap": return .scrap(try decoder.decode(ScrapLine.self, from: data))
        case "order_done": return .orderDone(try decoder.decode(OrderDone.self, from: data))
        default: throw ERPError(.malformedAnswer, "unknown outbox kind \(kind)")
        }
    }
}

/// The work order and operation a message is about, with the ERP's keys when it has them.
public struct OperationReference: Sendable, Equatable, Codable {
    public var workOrder: String
    /// The ERP's id of the order (Tryton: the production id), nil for orders made in the MES.
    public var workOrderRef: String?
    /// The operation number (10, 20, …).
    public var sequence: Int
    /// The ERP's id of the operation (Tryton: the production.work id).
    public var operationRef: String?

    public init(workOrder: String, workOrderRef: String?, sequence: Int, operationRef: String?) {
        self.workOrder = workOrder
        self.workOrderRef = workOrderRef
        self.sequence = sequence
        self.operationRef = operationRef
    }
}

public struct OperationDone: Sendable, Equatable, Codable {
    public var operation: OperationReference
    public var runSeconds: Double
    public var setupSeconds: Double
    public var good: Double
    public var scrap: Double
    public var rework: Double
    /// The ERP's employee key of whoever completed it.
    public var employeeRef: String?
    public var completedAt: Date
}

public struct LaborLine: Sendable, Equatable, Codable {
    public var operation: OperationReference
    public var username: String
    public var employeeRef: String?
    public var startedAt: Date
    public var seconds: Double
}

public struct ScrapLine: Sendable, Equatable, Codable {
    public var operation: OperationReference
    public var quantity: Double
    public var reason: String
    public var reportedAt: Date
}

public struct OrderDone: Sendable, Equatable, Codable {
    public var workOrder: String
    public var workOrderRef: String?
    /// Good parts out of the last operation.
    public var good: Double
    /// Parts scrapped over all operations.
    public var scrap: Double
    public var completedAt: Date
}

/// A failure talking to the ERP. Every kind is retried with backoff until the outbox entry's
/// attempts run out; the kind only says what happened, for the ledger and the logs.
public struct ERPError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The ERP could not be reached, or timed out.
        case unreachable
        /// The ERP refused the request (a business rule, a missing record, a login).
        case refused
        /// The ERP answered something the connector cannot read.
        case malformedAnswer = "malformed_answer"
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}

/// What the ERP did with a message, for the ledger.
public struct ERPReceipt: Sendable, Equatable {
    /// The ERP's answer in a line or two (the records it made or found).
    public var answer: String
    /// True when the ERP has nothing to record for this message (an order that did not come
    /// from it, an operation it keeps no timesheet for): the entry is marked `skipped`, not
    /// `sent`, so the ledger does not claim what did not happen.
    public var skipped: Bool

    public static func sent(_ answer: String) -> ERPReceipt { ERPReceipt(answer: answer, skipped: false) }
    public static func skipped(_ reason: String) -> ERPReceipt { ERPReceipt(answer: reason, skipped: true) }
}

/// An ERP the MES pushes floor events to. `push` must be idempotent for the entry's key: after
/// a crash between the ERP's commit and ours, the same entry is pushed again and must not
/// create a second record.
public protocol ERPConnector: Sendable {
    /// Sends one message and says what the ERP made of it.
    func push(_ message: OutboxMessage, idempotencyKey: String) throws(ERPError) -> ERPReceipt
}
