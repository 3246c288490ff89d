#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain
import Glibc
import Services
import Workers

/// Batches the database could not take yet, on disk: the collector keeps accepting messages
/// while PostgreSQL is down and writes them, oldest first, once it is back.
///
/// One file per batch, written to a temporary name, flushed with fsync and renamed, so a crash
/// leaves either the whole batch or none of it. Files are named by a rising sequence number.
/// A write that fails (a full disk) deletes its partial file at once, and opening the folder
/// deletes the partial files of a crash, so neither holds space the next batch needs.
public final class Spool: Sendable {
    public struct Batch: Codable, Sendable, Equatable {
        public var messages: [MachineMessage]
        public var deadLetters: [DeadLetter]
        public init(messages: [MachineMessage], deadLetters: [DeadLetter]) {
            self.messages = messages
            self.deadLetters = deadLetters
        }
    }

    public let directory: String
    private let next: Locked<UInt64>

    /// Opens (creating if needed) a spool folder and continues its numbering.
    public init(directory: String) throws(CollectorError) {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CollectorError("cannot create the spool folder \(directory): \(error)")
        }
        next = Locked((Self.sequenceNumbers(in: directory).max() ?? 0) + 1)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasSuffix(".batch.tmp") {
            unlink(directory + "/" + name)
        }
    }

    static func sequenceNumbers(in directory: String) -> [UInt64] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).compactMap { name in
            name.hasSuffix(".batch") ? UInt64(name.dropLast(6)) : nil
        }
    }

    /// Batches waiting, oldest first.
    public var pending: [String] {
        Self.sequenceNumbers(in: directory).sorted().map(path)
    }

    private func path(_ number: UInt64) -> String {
        let digits = String(number)
        return directory + "/" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".batch"
    }

    /// Writes a batch durably.
    public func append(_ batch: Batch) throws(CollectorError) {
        let number = next.withLock { next in
            defer { next += 1 }
            return next
        }
        let final = path(number)
        let temporary = final + ".tmp"
        do {
            let bytes = try JSONEncoder().encode(batch)
            do {
                try Self.writeDurably(Array(bytes), to: temporary)
                guard rename(temporary, final) == 0 else { throw CollectorError("rename: \(String(cString: strerror(errno)))") }
            } catch {
                unlink(temporary)
                throw error
            }
        } catch let error as CollectorError {
            throw CollectorError("cannot spool to \(final): \(error.message)")
        } catch {
            throw CollectorError("cannot spool to \(final): \(error)")
        }
    }

    /// Reads a spooled batch.
    public func read(_ path: String) throws(CollectorError) -> Batch {
        guard let data = FileManager.default.contents(atPath: path) else { throw CollectorError("cannot read \(path)") }
        do {
            return try JSONDecoder().decode(Batch.self, from: data)
        } catch {
            throw CollectorError("\(path) is not a spooled batch: \(error)")
        }
    }

    /// Forgets a batch once the database has it.
    public func remove(_ path: String) {
        unlink(path)
    }

    static func writeDurably(_ bytes: [UInt8], to path: String) throws(CollectorError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CollectorError("open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else {
                if n < 0 && errno == EINTR { continue }
                throw CollectorError("write: \(String(cString: strerror(errno)))")
            }
            written += n
        }
        guard fsync(fd) == 0 else { throw CollectorError("fsync: \(String(cString: strerror(errno)))") }
    }
}

/// A collector that cannot do its work (spool folder, configuration).
public struct CollectorError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
