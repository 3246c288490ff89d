/// Applies special-cause tests to the points of one chart.
public struct SPCRuleEvaluator: Sendable {
    public var rules: [SPCRule]
    /// Points in a row on one side that make a run (N2, WE4): 8 or 9.
    public var runLength: Int

    public init(rules: [SPCRule], runLength: Int = 9) {
        self.rules = rules
        self.runLength = runLength
    }

    /// The rules that fire at each point. `center`, `ucl` and `lcl` are per point so that
    /// charts with varying limits (p, u) are judged against their own limits; a point's sigma
    /// is (UCL − center)/3.
    public func signals(values: [Double], center: [Double], ucl: [Double], lcl: [Double]) -> [[SPCRule]] {
        let z: [Double] = values.indices.map { i in
            let sigma = (ucl[i] - center[i]) / 3
            return sigma > 0 ? (values[i] - center[i]) / sigma : 0
        }
        var result = [[SPCRule]](repeating: [], count: values.count)
        for i in values.indices {
            for rule in rules where fires(rule, at: i, values: values, z: z, ucl: ucl, lcl: lcl) {
                result[i].append(rule)
            }
        }
        return result
    }

    private func fires(_ rule: SPCRule, at i: Int, values: [Double], z: [Double], ucl: [Double], lcl: [Double]) -> Bool {
        switch rule {
        case .n1, .we1:
            return values[i] > ucl[i] || values[i] < lcl[i]
        case .n2, .we4:
            return run(i, length: runLength) { z[$0] > 0 } || run(i, length: runLength) { z[$0] < 0 }
        case .n3:
            // Six points steadily rising or falling: five differences of one sign.
            return run(i, length: 5) { $0 > 0 && values[$0] > values[$0 - 1] }
                || run(i, length: 5) { $0 > 0 && values[$0] < values[$0 - 1] }
        case .n4:
            // Fourteen points alternating: thirteen differences (points i-13...i), each of the
            // last twelve opposite in sign to the one before it.
            guard i >= 13 else { return false }
            for k in (i - 11)...i {
                let previous = values[k - 1] - values[k - 2]
                let current = values[k] - values[k - 1]
                guard previous != 0, current != 0, (previous > 0) != (current > 0) else { return false }
            }
            return true
        case .n5, .we2:
            return window(i, of: 3, atLeast: 2) { z[$0] > 2 } || window(i, of: 3, atLeast: 2) { z[$0] < -2 }
        case .n6, .we3:
            return window(i, of: 5, atLeast: 4) { z[$0] > 1 } || window(i, of: 5, atLeast: 4) { z[$0] < -1 }
        case .n7:
            return run(i, length: 15) { abs(z[$0]) < 1 }
        case .n8:
            return run(i, length: 8) { abs(z[$0]) > 1 }
        }
    }

    /// True when the `length` points ending at `i` all satisfy `test`.
    private func run(_ i: Int, length: Int, _ test: (Int) -> Bool) -> Bool {
        guard i >= length - 1 else { return false }
        return ((i - length + 1)...i).allSatisfy(test)
    }

    /// True when point `i` satisfies `test` and so do at least `count` of the `size` points
    /// ending at `i`; requiring point `i` reports each pattern once, where it completes.
    private func window(_ i: Int, of size: Int, atLeast count: Int, _ test: (Int) -> Bool) -> Bool {
        guard i >= size - 1, test(i) else { return false }
        return ((i - size + 1)...i).filter(test).count >= count
    }
}
