import Domain
import Testing

/// Published values: Montgomery, *Introduction to Statistical Quality Control*, 6th ed.
/// (Wiley, 2009), Appendix Table VI "Factors for constructing variables control charts",
/// which gives them to three or four decimals.
struct SPCConstantsTests {
    static let published: [(n: Int, d2: Double, d3: Double, c4: Double, A2: Double, A3: Double, B3: Double, B4: Double, D3: Double, D4: Double)] = [
        (2, 1.128, 0.853, 0.7979, 1.880, 2.659, 0, 3.267, 0, 3.267),
        (3, 1.693, 0.888, 0.8862, 1.023, 1.954, 0, 2.568, 0, 2.574),
        (4, 2.059, 0.880, 0.9213, 0.729, 1.628, 0, 2.266, 0, 2.282),
        (5, 2.326, 0.864, 0.9400, 0.577, 1.427, 0, 2.089, 0, 2.114),
        (6, 2.534, 0.848, 0.9515, 0.483, 1.287, 0.030, 1.970, 0, 2.004),
        (7, 2.704, 0.833, 0.9594, 0.419, 1.182, 0.118, 1.882, 0.076, 1.924),
        (8, 2.847, 0.820, 0.9650, 0.373, 1.099, 0.185, 1.815, 0.136, 1.864),
        (10, 3.078, 0.797, 0.9727, 0.308, 0.975, 0.284, 1.716, 0.223, 1.777),
        (15, 3.472, 0.756, 0.9823, 0.223, 0.789, 0.428, 1.572, 0.347, 1.653),
        (20, 3.735, 0.729, 0.9869, 0.180, 0.680, 0.510, 1.490, 0.415, 1.585),
        (25, 3.931, 0.708, 0.9896, 0.153, 0.606, 0.565, 1.435, 0.459, 1.541),
    ]

    @Test(arguments: published)
    func constants_matchThePublishedTable(row: (n: Int, d2: Double, d3: Double, c4: Double, A2: Double, A3: Double, B3: Double, B4: Double, D3: Double, D4: Double)) throws {
        let n = row.n
        // Three-decimal entries are rounded: allow half a unit of the last place. The derived
        // factors in printed tables were computed from rounded d2, d3 and c4 (D4(3) is printed
        // 2.574 although 1 + 3·d3/d2 = 2.5746), so they get one unit.
        #expect(abs(try SPCConstants.d2(n) - row.d2) <= 0.0005, "d2(\(n))")
        #expect(abs(try SPCConstants.d3(n) - row.d3) <= 0.0005, "d3(\(n))")
        #expect(abs(try SPCConstants.c4(n) - row.c4) <= 0.00005, "c4(\(n))")
        #expect(abs(try SPCConstants.A2(n) - row.A2) <= 0.001, "A2(\(n))")
        #expect(abs(try SPCConstants.A3(n) - row.A3) <= 0.001, "A3(\(n))")
        #expect(abs(try SPCConstants.B3(n) - row.B3) <= 0.001, "B3(\(n))")
        #expect(abs(try SPCConstants.B4(n) - row.B4) <= 0.001, "B4(\(n))")
        #expect(abs(try SPCConstants.D3(n) - row.D3) <= 0.001, "D3(\(n))")
        #expect(abs(try SPCConstants.D4(n) - row.D4) <= 0.001, "D4(\(n))")
    }

    @Test func constants_followTheirClosedForms() throws {
        // c4(2) = sqrt(2/pi) and d2(2) = 2/sqrt(pi), exactly.
        #expect(abs(try SPCConstants.c4(2) - (2 / Double.pi).squareRoot()) < 1e-9)
        #expect(abs(try SPCConstants.d2(2) - 2 / Double.pi.squareRoot()) < 1e-9)
        for n in SPCConstants.subgroupSizes {
            #expect(try SPCConstants.d2(n) > (n > 2 ? try SPCConstants.d2(n - 1) : 0), "d2 grows with n")
        }
    }

    @Test func constants_refuseSizesOutsideTheTable() {
        #expect(throws: SPCError.self) { try SPCConstants.d2(1) }
        #expect(throws: SPCError.self) { try SPCConstants.c4(26) }
    }
}
