/// Material waiting at or being worked at an operation: part of one work order's quantity.
public struct WIPLot: Sendable, Equatable {
    public var workOrder: String
    /// The operation the lot is at (e.g. `"0030"` or a routing step's id).
    public var operation: String
    public var quantity: Double
    /// When the lot reached the operation (the previous operation reported it, or it was released).
    public var arrivedAt: Double

    public init(workOrder: String, operation: String, quantity: Double, arrivedAt: Double) {
        self.workOrder = workOrder
        self.operation = operation
        self.quantity = quantity
        self.arrivedAt = arrivedAt
    }
}

/// Work in process at one operation, as a plant manager reads it.
public struct WIPSummary: Sendable, Equatable {
    public var operation: String
    public var quantity: Double
    public var lots: Int
    /// Age of the lot that has waited longest.
    public var oldestAgeSeconds: Double
    /// Age weighted by quantity: how long the average part has been at the operation.
    public var meanAgeSeconds: Double

    public init(operation: String, quantity: Double, lots: Int, oldestAgeSeconds: Double, meanAgeSeconds: Double) {
        self.operation = operation
        self.quantity = quantity
        self.lots = lots
        self.oldestAgeSeconds = oldestAgeSeconds
        self.meanAgeSeconds = meanAgeSeconds
    }
}

/// WIP count and age per operation (ISO 22400-2 "work in process inventory"; age as time since
/// arrival at the operation).
public enum WorkInProcess {
    /// One summary per operation with material, in operation order. Empty lots are left out; a
    /// lot stamped after `now` (a clock a little ahead) counts as age zero.
    public static func summarize(_ lots: [WIPLot], at now: Double) throws(KPIError) -> [WIPSummary] {
        var byOperation: [String: WIPSummary] = [:]
        var weightedAge: [String: Double] = [:]
        for lot in lots {
            guard lot.quantity >= 0, lot.quantity.isFinite else {
                throw KPIError("work order \(lot.workOrder), operation \(lot.operation): the quantity must be zero or more")
            }
            guard lot.quantity > 0 else { continue }
            let age = max(0, now - lot.arrivedAt)
            var summary = byOperation[lot.operation]
                ?? WIPSummary(operation: lot.operation, quantity: 0, lots: 0, oldestAgeSeconds: 0, meanAgeSeconds: 0)
            summary.quantity += lot.quantity
            summary.lots += 1
            summary.oldestAgeSeconds = max(summary.oldestAgeSeconds, age)
            byOperation[lot.operation] = summary
            weightedAge[lot.operation, default: 0] += age * lot.quantity
        }
        return byOperation.values.map { summary in
            var summary = summary
            summary.meanAgeSeconds = weightedAge[summary.operation, default: 0] / summary.quantity
            return summary
        }.sorted { $0.operation < $1.operation }
    }
}
