import Foundation
import Postgres
import TestSupport
import Testing

struct PGCopyTests {
    @Test func copy_loads100kRows() throws {
        try TestDatabase.withConnection { connection in
            try connection.execute("CREATE TABLE measurement (id int, machine text, value double precision, taken timestamptz)")
            let start = Date(timeIntervalSince1970: 1_795_000_000)
            let stored = try connection.copy(into: "measurement", columns: ["id", "machine", "value", "taken"]) { rows in
                for i in 0..<100_000 {
                    try rows.append(i, "M-\(i % 20)", Double(i) / 4, start.addingTimeInterval(Double(i)))
                }
            }
            #expect(stored == 100_000)
            let row = try #require(try connection.query("""
                SELECT count(*) AS n, sum(id) AS ids, sum(value) AS total, count(DISTINCT machine) AS machines,
                       max(taken) AS last FROM measurement
                """).first)
            #expect(try row.decode("n", as: Int.self) == 100_000)
            #expect(try row.decode("ids", as: Int.self) == 4_999_950_000)
            #expect(try row.decode("total", as: Double.self) == 1_249_987_500)
            #expect(try row.decode("machines", as: Int.self) == 20)
            #expect(try row.decode("last", as: Date.self) == start.addingTimeInterval(99_999))
        }
    }

    @Test func copy_escapesSpecialCharactersNullsAndBytes() throws {
        try TestDatabase.withConnection { connection in
            try connection.execute("CREATE TABLE note (body text, photo bytea, shift int)")
            let nasty = "tab\there\nnewline\\backslash\r\\N not null 🏭"
            let photo: [UInt8] = [0, 9, 10, 13, 92, 255]
            let none: Int? = nil
            try connection.copy(into: "note", columns: ["body", "photo", "shift"]) { rows in
                try rows.append(nasty, photo, none)
                try rows.append("", [UInt8](), Optional(3))
            }
            let rows = try connection.query("SELECT body, photo, shift FROM note ORDER BY shift NULLS FIRST")
                .decode((String, [UInt8], Int?).self)
            #expect(rows.count == 2)
            #expect(rows[0].0 == nasty)
            #expect(rows[0].1 == photo)
            #expect(rows[0].2 == nil)
            #expect(rows[1].0 == "")
            #expect(rows[1].2 == 3)
        }
    }

    @Test func copy_thatThrowsMidway_insertsNothingAndLeavesTheConnectionUsable() throws {
        struct Interrupted: Error {}
        try TestDatabase.withConnection { connection in
            try connection.execute("CREATE TABLE event (n int)")
            #expect(throws: Interrupted.self) {
                try connection.copy(into: "event", columns: ["n"]) { rows in
                    for i in 0..<50_000 { try rows.append(i) }
                    throw Interrupted()
                }
            }
            #expect(try connection.query("SELECT count(*) AS n FROM event").rows[0].decode("n", as: Int.self) == 0)
            #expect(connection.transactionStatus == .idle)
        }
    }

    @Test func copy_badDataIsReportedWithTheServerError() throws {
        try TestDatabase.withConnection { connection in
            try connection.execute("CREATE TABLE event (n int NOT NULL)")
            let error = try #require(throws: PGError.self) {
                try connection.copy(into: "event", columns: ["n"]) { rows in
                    try rows.append(1)
                    try rows.append("not a number")
                }
            }
            #expect(error.sqlState == "22P02")
            #expect(try connection.query("SELECT count(*) AS n FROM event").rows[0].decode("n", as: Int.self) == 0)
        }
    }

    @Test func copy_wrongNumberOfValues_isRefused() throws {
        try TestDatabase.withConnection { connection in
            try connection.execute("CREATE TABLE pair (a int, b int)")
            let error = try #require(throws: PGError.self) {
                try connection.copy(into: "pair", columns: ["a", "b"]) { rows in try rows.append(1) }
            }
            #expect(error.message.contains("1 values for 2 columns"))
        }
    }

    @Test func copy_intoMissingTable_failsBeforeSendingRows() throws {
        try TestDatabase.withConnection { connection in
            let error = try #require(throws: PGError.self) {
                try connection.copy(into: "nowhere", columns: ["a"]) { rows in try rows.append(1) }
            }
            #expect(error.sqlState == "42P01")
        }
    }
}
