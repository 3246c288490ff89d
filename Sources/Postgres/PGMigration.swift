#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One forward-only schema change: a file `Migrations/NNNN_name.sql`.
public struct PGMigration: Sendable, Equatable {
    /// The number before the first underscore; migrations apply in this order.
    public var version: Int
    /// The part after the number, e.g. `plant_model`.
    public var name: String
    public var fileName: String
    /// The SQL, run as one script inside the migration's transaction.
    public var sql: String

    public init(version: Int, name: String, fileName: String, sql: String) {
        self.version = version
        self.name = name
        self.fileName = fileName
        self.sql = sql
    }

    /// Reads every `*.sql` file of `directory`, checks the names, and returns them in order.
    ///
    /// A file name must be four or more digits, an underscore, and a lower-case name
    /// (`0001_plant_model.sql`); anything else, a duplicate version or text that is not UTF-8 is
    /// an error naming the file. Files not ending in `.sql` are ignored.
    public static func load(directory: String) throws -> [PGMigration] {
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory else {
            throw PGMigrationError("the migrations directory '\(directory)' does not exist or is not a directory")
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw PGMigrationError("cannot list the migrations directory '\(directory)': \(error)")
        }
        var migrations: [PGMigration] = []
        var seen: [Int: String] = [:]
        for fileName in names.sorted() where fileName.hasSuffix(".sql") {
            let (version, name) = try parse(fileName: fileName)
            if let other = seen[version] {
                throw PGMigrationError("\(directory)/\(fileName): version \(version) is also used by \(other)")
            }
            seen[version] = fileName
            let path = directory.hasSuffix("/") ? directory + fileName : directory + "/" + fileName
            guard let data = FileManager.default.contents(atPath: path) else {
                throw PGMigrationError("\(path): cannot be read")
            }
            guard let sql = String(validating: data, as: UTF8.self) else {
                throw PGMigrationError("\(path): is not valid UTF-8")
            }
            guard !sql.allSatisfy(\.isWhitespace) else {
                throw PGMigrationError("\(path): is empty")
            }
            migrations.append(PGMigration(version: version, name: name, fileName: fileName, sql: sql))
        }
        return migrations.sorted { $0.version < $1.version }
    }

    /// Splits `0007_add_scrap_reasons.sql` into (7, "add_scrap_reasons").
    static func parse(fileName: String) throws -> (Int, String) {
        let stem = fileName.dropLast(4)
        guard let underscore = stem.firstIndex(of: "_") else {
            throw PGMigrationError("\(fileName): a migration file is named NNNN_name.sql (e.g. 0001_plant_model.sql)")
        }
        let digits = stem[..<underscore]
        let name = stem[stem.index(after: underscore)...]
        guard digits.count >= 4, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let version = Int(digits) else {
            throw PGMigrationError("\(fileName): the version must be at least four digits (e.g. 0001_plant_model.sql)")
        }
        guard !name.isEmpty, name.allSatisfy({ ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "_" }) else {
            throw PGMigrationError("\(fileName): the name after the version must be lower-case letters, digits and underscores")
        }
        return (version, String(name))
    }
}

/// A migration problem, with a message that says what and where.
public struct PGMigrationError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
