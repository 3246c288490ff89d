import Postgres
import TestSupport
import Testing

struct PGTransactionTests {
    struct Boom: Error {}

    private func count(_ connection: PGConnection) throws -> Int {
        try connection.query("SELECT count(*) AS n FROM event").rows[0].decode("n", as: Int.self)
    }

    @Test func transaction_commitsWhenBodyReturns() throws {
        try TestDatabase.withConnection { connection in
            try connection.execute("CREATE TABLE event (n int)")
            let value = try connection.transaction { tx in
                try tx.execute("INSERT INTO event VALUES (1), (2)")
                return "done"
            }
            #expect(value == "done")
            #expect(try count(connection) == 2)
            #expect(connection.transactionStatus == .idle)
        }
    }

    @Test func transaction_rollsBackWhenBodyThrows() throws {
        try TestDatabase.withConnection { connection in
            try connection.execute("CREATE TABLE event (n int)")
            #expect(throws: Boom.self) {
                try connection.transaction { tx in
                    try tx.execute("INSERT INTO event VALUES (1)")
                    throw Boom()
                }
            }
            #expect(try count(connection) == 0)
            #expect(connection.transactionStatus == .idle)
        }
    }

    @Test func nestedTransaction_rollsBackOnlyItsSavepoint() throws {
        try TestDatabase.withConnection { connection in
            try connection.execute("CREATE TABLE event (n int)")
            try connection.transaction(isolation: .serializable) { tx in
                try tx.execute("INSERT INTO event VALUES (1)")
                #expect(throws: Boom.self) {
                    try tx.transaction { inner in
                        try inner.execute("INSERT INTO event VALUES (2)")
                        throw Boom()
                    }
                }
                try tx.transaction { inner in try inner.execute("INSERT INTO event VALUES (3)") }
            }
            #expect(try connection.query("SELECT n FROM event ORDER BY n").decode((Int).self) == [1, 3])
        }
    }

    @Test func transaction_whoseErrorWasSwallowed_isNotReportedAsCommitted() throws {
        try TestDatabase.withConnection { connection in
            try connection.execute("CREATE TABLE event (n int PRIMARY KEY)")
            let error = try #require(throws: PGError.self) {
                try connection.transaction { tx in
                    try tx.execute("INSERT INTO event VALUES (1)")
                    _ = try? tx.execute("INSERT INTO event VALUES (1)")  // duplicate, caught and ignored
                }
            }
            #expect(error.message.contains("aborted"))
            #expect(try count(connection) == 0)
        }
    }
}
