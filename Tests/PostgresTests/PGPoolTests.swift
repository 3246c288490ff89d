import Postgres
import TestSupport
import Testing

struct PGPoolTests {
    @Test func pool_neverOpensMoreThanItsLimit() async throws {
        try await TestDatabase.withFresh { url in
            let pool = PGPool(configuration: PGPoolConfiguration(url: url, maxConnections: 3, applicationName: "mes-pool-limit"))
            defer { pool.close() }
            let peak = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<30 {
                    group.addTask {
                        try await pool.withConnection { connection in
                            try connection.execute("SELECT pg_sleep(0.01)")
                            return try connection.query("""
                                SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'mes-pool-limit'
                                """).rows[0].decode("n", as: Int.self)
                        }
                    }
                }
                return try await group.reduce(0) { max($0, $1) }
            }
            #expect(peak <= 3)
            #expect(peak >= 2, "the leases should have overlapped")
            #expect(pool.statistics.open <= 3)
        }
    }

    @Test func pool_leaseWaitsThenTimesOutWhenAllConnectionsAreBusy() async throws {
        try await TestDatabase.withFresh { url in
            let pool = PGPool(configuration: PGPoolConfiguration(url: url, maxConnections: 1, acquireTimeout: 0.3))
            defer { pool.close() }
            let holder = Task { try await pool.withConnection { try $0.execute("SELECT pg_sleep(1.5)") } }
            // Wait until the holder really holds the only connection.
            while pool.statistics.idle != 0 || pool.statistics.open != 1 { try await Task.sleep(for: .milliseconds(5)) }
            let error = try await #require(throws: PGError.self) {
                try await pool.withConnection { try $0.execute("SELECT 1") }
            }
            #expect(error.code == .poolTimeout)
            _ = try await holder.value
            #expect(try await pool.withConnection { try $0.query("SELECT 1 AS one").rows[0].decode("one", as: Int.self) } == 1)
        }
    }

    @Test func pool_replacesAConnectionKilledWhileIdle() async throws {
        try await TestDatabase.withFresh { url in
            let pool = PGPool(configuration: PGPoolConfiguration(url: url, maxConnections: 1))
            defer { pool.close() }
            let first = try await pool.withConnection { $0.backendPID }
            let killer = try PGConnection.connect(url: url)
            try killer.execute("SELECT pg_terminate_backend(\(first))")
            // Wait until the server has really ended that backend.
            while try killer.query("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = \(first)").rows[0].decode("n", as: Int.self) > 0 {
                try await Task.sleep(for: .milliseconds(5))
            }
            let second = try await pool.withConnection { $0.backendPID }
            #expect(second != first)
        }
    }

    @Test func pool_rollsBackATransactionLeftOpenByALease() async throws {
        try await TestDatabase.withFresh { url in
            let pool = PGPool(configuration: PGPoolConfiguration(url: url, maxConnections: 1))
            defer { pool.close() }
            try await pool.withConnection { connection in
                try connection.execute("CREATE TABLE event (n int)")
                try connection.execute("BEGIN")
                try connection.execute("INSERT INTO event VALUES (1)")
            }
            let (status, count) = try await pool.withConnection { connection in
                (connection.transactionStatus, try connection.query("SELECT count(*) AS n FROM event").rows[0].decode("n", as: Int.self))
            }
            #expect(status == .idle)
            #expect(count == 0)
        }
    }

    @Test func pool_transactionCommitsOrRollsBack() async throws {
        try await TestDatabase.withFresh { url in
            let pool = PGPool(configuration: PGPoolConfiguration(url: url, maxConnections: 2))
            defer { pool.close() }
            try await pool.withConnection { try $0.execute("CREATE TABLE event (n int CHECK (n > 0))") }
            try await pool.transaction { try $0.execute("INSERT INTO event VALUES (1)") }
            let error = try await #require(throws: PGError.self) {
                try await pool.transaction { tx in
                    try tx.execute("INSERT INTO event VALUES (2)")
                    try tx.execute("INSERT INTO event VALUES (-1)")
                }
            }
            #expect(error.isCheckViolation)
            let values = try await pool.withConnection { try $0.query("SELECT n FROM event").decode((Int).self) }
            #expect(values == [1])
        }
    }

    @Test func pool_afterClose_refusesLeases() async throws {
        try await TestDatabase.withFresh { url in
            let pool = PGPool(configuration: PGPoolConfiguration(url: url, maxConnections: 1))
            pool.close()
            await #expect(throws: (any Error).self) { try await pool.withConnection { try $0.execute("SELECT 1") } }
        }
    }

    @Test func pool_unreachableServer_failsTheLeaseAndFreesTheSlot() async throws {
        let pool = PGPool(configuration: PGPoolConfiguration(url: "postgresql://mes:mes@127.0.0.1:1/mes?connect_timeout=2", maxConnections: 1))
        defer { pool.close() }
        for _ in 0..<2 {
            let error = try await #require(throws: PGError.self) { try await pool.withConnection { try $0.execute("SELECT 1") } }
            #expect(error.code == .connectionFailed)
        }
        #expect(pool.statistics.open == 0)
    }
}
