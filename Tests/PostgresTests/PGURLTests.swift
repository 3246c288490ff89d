import Postgres
import Testing

struct PGURLTests {
    @Test(arguments: [
        ("postgresql://mes:s3cret@db:5432/mes", "postgresql://mes:***@db:5432/mes"),
        ("postgresql://mes@db/mes", "postgresql://mes@db/mes"),
        ("postgres://db/mes", "postgres://db/mes"),
        ("host=db user=mes password=s3cret dbname=mes", "host=db user=mes password=*** dbname=mes"),
    ])
    func redacted_hidesPasswordsOnly(url: String, expected: String) {
        #expect(PGURL.redacted(url) == expected)
    }
}
