import Domain
import Testing

struct OperationStateMachineTests {
    /// Every (state, action) pair: where it leads on a released order and a free machine, or
    /// nil when it is refused as an invalid transition.
    static let table: [(OperationState, OperationAction, OperationState?)] = [
        (.queued, .setUp, .setup), (.queued, .start, .running), (.queued, .pause, nil), (.queued, .complete, nil),
        (.setup, .setUp, nil), (.setup, .start, .running), (.setup, .pause, .paused), (.setup, .complete, .complete),
        (.running, .setUp, nil), (.running, .start, nil), (.running, .pause, .paused), (.running, .complete, .complete),
        (.paused, .setUp, nil), (.paused, .start, .running), (.paused, .pause, nil), (.paused, .complete, .complete),
        (.complete, .setUp, nil), (.complete, .start, nil), (.complete, .pause, nil), (.complete, .complete, nil),
    ]

    @Test func everyStateAndAction_leadsWhereTheDiagramSays() {
        #expect(Self.table.count == OperationState.allCases.count * OperationAction.allCases.count)
        for (state, action, expected) in Self.table {
            let result = try? OperationStateMachine.next(state, action, order: .released, hasMachine: true, machine: .init())
            #expect(result == expected, "\(state) + \(action)")
        }
    }

    @Test func startingNeedsAReleasedOrder_aMachine_andAFreeMachine_butPausingAndCompletingDoNot() {
        func code(_ body: () throws -> OperationState) -> ProductionRuleError.Code? {
            do { _ = try body(); return nil } catch { return (error as? ProductionRuleError)?.code }
        }
        for order in WorkOrderState.allCases where !order.acceptsWork {
            #expect(code { try OperationStateMachine.next(.queued, .start, order: order, hasMachine: true, machine: .init()) } == .orderNotReleased)
        }
        #expect(code { try OperationStateMachine.next(.queued, .setUp, order: .inProgress, hasMachine: false, machine: .init()) } == .noMachine)
        let busy = OperationStateMachine.MachineOccupancy(busyWith: ["WO-9 operation 10"])
        #expect(code { try OperationStateMachine.next(.paused, .start, order: .inProgress, hasMachine: true, machine: busy) } == .machineBusy)
        var parallel = busy
        parallel.allowsParallel = true
        #expect(code { try OperationStateMachine.next(.paused, .start, order: .inProgress, hasMachine: true, machine: parallel) } == nil)
        // Winding down is always allowed, even when the order was cancelled meanwhile.
        #expect(code { try OperationStateMachine.next(.running, .pause, order: .cancelled, hasMachine: true, machine: busy) } == nil)
        #expect(code { try OperationStateMachine.next(.running, .complete, order: .cancelled, hasMachine: false, machine: busy) } == nil)
    }
}
