import Domain
import Testing

struct ProcessCapabilityTests {
    @Test func capability_usesWithinSigmaForCpAndOverallSigmaForPp() throws {
        // Mean 10, sample standard deviation 1 (values 9, 10, 11), within sigma 0.5.
        let capability = try ProcessCapability.compute(values: [9, 10, 11], sigmaWithin: 0.5, lsl: 7, usl: 16)
        #expect(capability.cp == 3)          // 9 / (6 * 0.5)
        #expect(capability.cpk == 2)         // (10 - 7) / (3 * 0.5)
        #expect(capability.pp == 1.5)        // 9 / (6 * 1)
        #expect(capability.ppk == 1)         // (10 - 7) / (3 * 1)
    }

    @Test func capability_withOneLimit_isOneSided() throws {
        let upperOnly = try ProcessCapability.compute(values: [9, 10, 11], sigmaWithin: 0.5, lsl: nil, usl: 13)
        #expect(upperOnly.cp == nil)
        #expect(upperOnly.cpk == 2)
        #expect(upperOnly.ppk == 1)
    }

    @Test func capability_refusesWhatItCannotCompute() {
        #expect(throws: SPCError.self) { try ProcessCapability.compute(values: [1, 2], sigmaWithin: 1, lsl: nil, usl: nil) }
        #expect(throws: SPCError.self) { try ProcessCapability.compute(values: [1, 2], sigmaWithin: 1, lsl: 5, usl: 4) }
        #expect(throws: SPCError.self) { try ProcessCapability.compute(values: [3, 3, 3], sigmaWithin: 1, lsl: 0, usl: 5) }
        #expect(throws: SPCError.self) { try ProcessCapability.compute(values: [1, 2], sigmaWithin: 0, lsl: 0, usl: 5) }
    }
}
