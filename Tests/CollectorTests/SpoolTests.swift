import Collector
import Domain
import Foundation
import Glibc
import Testing

/// The disk spool's failure modes. A full disk is made with /dev/full (every write fails with
/// ENOSPC): the spool's next temporary file is a link to it.
struct SpoolTests {
    static let batch = Spool.Batch(
        messages: [MachineMessage(path: MachinePath(site: "S1", area: "A1", line: "L1", machine: "M1"), timestampMilliseconds: 1_795_420_800_000,
                                  body: .state(.running, reason: nil))],
        deadLetters: [])

    static func withFolder(_ body: (String) throws -> Void) rethrows {
        let folder = NSTemporaryDirectory() + "mes-spool-test-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try body(folder)
    }

    static func files(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }

    @Test func aFullDisk_failsTheWrite_leavesNoPartialFile_andTheNextWriteWorks() throws {
        try Self.withFolder { folder in
            let spool = try Spool(directory: folder)
            let first = folder + "/00000000000000000001.batch.tmp"
            #expect(symlink("/dev/full", first) == 0)
            #expect(throws: CollectorError.self) { try spool.append(Self.batch) }
            #expect(Self.files(folder).isEmpty, "the partial file is deleted at once")
            #expect(spool.pending.isEmpty)

            try spool.append(Self.batch)
            #expect(spool.pending.count == 1)
            #expect(try spool.read(spool.pending[0]) == Self.batch)
        }
    }

    @Test func opening_deletesTheLeftoversOfACrash_andKeepsItsBatches() throws {
        try Self.withFolder { folder in
            try Spool(directory: folder).append(Self.batch)
            FileManager.default.createFile(atPath: folder + "/00000000000000000002.batch.tmp", contents: Data("{\"mess".utf8))
            let reopened = try Spool(directory: folder)
            #expect(Self.files(folder) == ["00000000000000000001.batch"])
            try reopened.append(Self.batch)
            #expect(reopened.pending.map { URL(fileURLWithPath: $0).lastPathComponent } == ["00000000000000000001.batch", "00000000000000000002.batch"])
        }
    }
}
