import Foundation
import Postgres
import TestSupport
import Testing

struct PGConnectionTests {
    @Test func connect_wrongPassword_failsWithServerMessageAndNoPassword() throws {
        let server = try TestDatabase.serverURL()
        let bad = server.replacingOccurrences(of: "mes:mes@", with: "mes:wrong-secret@")
        let error = try #require(throws: PGError.self) { try PGConnection.connect(url: bad) }
        #expect(error.code == .connectionFailed)
        #expect(error.message.contains("password authentication failed"))
        #expect(!error.message.contains("wrong-secret"))
    }

    @Test func connect_nothingListening_failsClearly() throws {
        let error = try #require(throws: PGError.self) {
            try PGConnection.connect(url: "postgresql://mes:mes@127.0.0.1:1/mes", connectTimeout: 2)
        }
        #expect(error.code == .connectionFailed)
        #expect(error.message.contains("127.0.0.1"))
    }

    @Test func binds_roundTripEveryStandardType() throws {
        try TestDatabase.withConnection { connection in
            let text = "Grüße, 日本語, emoji 🏭, quote ' and backslash \\"
            let bytes = (0...255).map(UInt8.init)
            let instant = Date(timeIntervalSince1970: 1_795_417_509.000123)
            let amount = Decimal(string: "12345678901234567890.123456789")!
            let id = UUID()
            let nothing = Int?.none
            let everything: SQL = """
                SELECT \(text)::text AS text, \(bytes) AS bytes, \(instant) AS instant, \(amount)::numeric AS amount,
                       \(id) AS id, \(nothing) AS nothing, \(true) AS yes, \(2.5) AS ratio, \(Int32(-7)) AS small,
                       \(Int.max) AS big
                """
            let row = try #require(try connection.query(everything).first)
            #expect(try row.decode("text", as: String.self) == text)
            #expect(try row.decode("bytes", as: [UInt8].self) == bytes)
            #expect(try row.decode("instant", as: Date.self) == instant)
            #expect(try row.decode("amount", as: Decimal.self) == amount)
            #expect(try row.decode("id", as: UUID.self) == id)
            #expect(try row.decode("nothing", as: Int?.self) == nil)
            #expect(row.isNull("nothing"))
            #expect(try row.decode("yes", as: Bool.self) == true)
            #expect(try row.decode("ratio", as: Double.self) == 2.5)
            #expect(try row.decode("small", as: Int32.self) == -7)
            #expect(try row.decode("big", as: Int.self) == Int.max)
        }
    }

    @Test func timestamptz_isReadCorrectlyWhateverTheSessionTimeZone() throws {
        try TestDatabase.withConnection { connection in
            try connection.execute("SET TIME ZONE 'America/St_Johns'")  // UTC-03:30 in winter
            let instant = try connection.query("SELECT timestamptz '2026-11-23 12:00:00+00' AS t")
                .rows[0].decode("t", as: Date.self)
            #expect(instant == Date(timeIntervalSince1970: 1_795_435_200))
        }
    }

    @Test func binds_storeAndReadBackThroughATable() throws {
        try TestDatabase.withConnection { connection in
            try connection.execute("CREATE TABLE sample (id serial PRIMARY KEY, label text, photo bytea, taken timestamptz, value numeric)")
            let label = "line 2\ttab\nnewline"
            let photo: [UInt8] = [0, 1, 2, 0xFF, 0x5C]
            let taken = Date(timeIntervalSince1970: 1_700_000_000.25)
            let inserted = try connection.execute("INSERT INTO sample (label, photo, taken, value) VALUES (\(label), \(photo), \(taken), \(Decimal(string: "0.1")!))")
            #expect(inserted == 1)
            let rows = try connection.query("SELECT label, photo, taken, value FROM sample").decode((String, [UInt8], Date, Decimal).self)
            #expect(rows.count == 1)
            #expect(rows[0].0 == label)
            #expect(rows[0].1 == photo)
            #expect(rows[0].2 == taken)
            #expect(rows[0].3 == Decimal(string: "0.1")!)
        }
    }

    @Test func injectionAttempt_staysAValue() throws {
        try TestDatabase.withConnection { connection in
            try connection.execute("CREATE TABLE victim (name text)")
            let hostile = "x'); DROP TABLE victim; --"
            try connection.execute("INSERT INTO victim VALUES (\(hostile))")
            let names = try connection.query("SELECT name FROM victim").decode((String).self)
            #expect(names == [hostile])
        }
    }

    @Test func decode_errorNamesColumnRowAndType() throws {
        try TestDatabase.withConnection { connection in
            let result = try connection.query("SELECT 'abc'::text AS machine_code, NULL::int AS good_count")
            let row = try #require(result.first)
            let notInt = try #require(throws: PGDecodingError.self) { try row.decode("machine_code", as: Int.self) }
            #expect(notInt.column == "machine_code")
            #expect(notInt.description.contains("machine_code"))
            #expect(notInt.description.contains("Int"))
            let null = try #require(throws: PGDecodingError.self) { try row.decode("good_count", as: Int.self) }
            #expect(null.column == "good_count")
            #expect(null.reason == "is NULL")
            let missing = try #require(throws: PGDecodingError.self) { try row.decode("scrap_count", as: Int.self) }
            #expect(missing.description.contains("scrap_count"))
            #expect(missing.description.contains("machine_code, good_count"))
        }
    }

    @Test func decode_integerOverflowIsAnError() throws {
        try TestDatabase.withConnection { connection in
            let row = try #require(try connection.query("SELECT 40000 AS n").first)
            #expect(throws: PGDecodingError.self) { try row.decode("n", as: Int16.self) }
            #expect(try row.decode("n", as: Int32.self) == 40000)
        }
    }

    @Test func serverErrors_carrySQLStateDetailAndConstraint() throws {
        try TestDatabase.withConnection { connection in
            try connection.execute("CREATE TABLE part (code text CONSTRAINT part_code_key UNIQUE)")
            try connection.execute("INSERT INTO part VALUES (\("P-100"))")
            let duplicate = try #require(throws: PGError.self) { try connection.execute("INSERT INTO part VALUES (\("P-100"))") }
            #expect(duplicate.code == .server)
            #expect(duplicate.sqlState == "23505")
            #expect(duplicate.isUniqueViolation)
            #expect(duplicate.constraint == "part_code_key")
            #expect(duplicate.table == "part")
            #expect(duplicate.detail?.contains("P-100") == true)
            #expect(duplicate.query == "INSERT INTO part VALUES ($1)")

            let syntax = try #require(throws: PGError.self) { try connection.execute("SELEC 1") }
            #expect(syntax.sqlState == "42601")
            #expect(syntax.position == 1)

            let missing = try #require(throws: PGError.self) { try connection.query("SELECT * FROM no_such_table") }
            #expect(missing.sqlState == "42P01")
            #expect(missing.description.contains("no_such_table"))
        }
    }

    @Test func nulByteInText_isRefusedBeforeSending() throws {
        try TestDatabase.withConnection { connection in
            let error = try #require(throws: PGError.self) { try connection.query("SELECT \("a\0b")::text") }
            #expect(error.message.contains("NUL"))
            #expect(try connection.query("SELECT 1 AS one").rows[0].decode("one", as: Int.self) == 1)
        }
    }

    @Test func terminatedBackend_isReportedAsConnectionLost() throws {
        try TestDatabase.withFresh { url in
            let victim = try PGConnection.connect(url: url)
            let killer = try PGConnection.connect(url: url)
            try killer.execute("SELECT pg_terminate_backend(\(victim.backendPID))")
            let error = try #require(throws: PGError.self) { try victim.query("SELECT 1") }
            #expect(error.code == .connectionLost || error.sqlState == "57P01")
            #expect(!victim.isOpen)
        }
    }
}
