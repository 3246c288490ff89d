@testable import Postgres
import Testing

struct SQLTests {
    @Test func sql_turnsInterpolatedValuesIntoNumberedBinds() {
        let code = "M-01'; DROP TABLE machine; --"
        let line = 7
        let (text, binds) = ("SELECT id FROM machine WHERE code = \(code) AND line_id = \(line)" as SQL).render()
        #expect(text == "SELECT id FROM machine WHERE code = $1 AND line_id = $2")
        #expect(binds == [
            PGBind(typeOID: PGTypeOID.unspecified, value: .text(code)),
            PGBind(typeOID: PGTypeOID.int8, value: .text("7")),
        ])
    }

    @Test func sql_composedFragmentsAreRenumberedInOrder() {
        let filter: SQL = "state = \("released") AND site_id = \(3)"
        let query: SQL = "SELECT * FROM work_order WHERE priority > \(1) AND \(filter) LIMIT \(50)"
        let (text, binds) = query.render()
        #expect(text == "SELECT * FROM work_order WHERE priority > $1 AND state = $2 AND site_id = $3 LIMIT $4")
        #expect(binds.map(\.value) == [.text("1"), .text("released"), .text("3"), .text("50")])
    }

    @Test func sql_nilOptionalBindsNullWithTheWrappedType() {
        let missing: Int? = nil
        let (text, binds) = ("UPDATE t SET n = \(missing)" as SQL).render()
        #expect(text == "UPDATE t SET n = $1")
        #expect(binds == [PGBind(typeOID: PGTypeOID.int8, value: .null)])
    }

    @Test func sql_listBecomesCommaSeparatedBinds() {
        let (text, binds) = ("SELECT * FROM part WHERE id IN (\(list: [4, 5, 6]))" as SQL).render()
        #expect(text == "SELECT * FROM part WHERE id IN ($1, $2, $3)")
        #expect(binds.count == 3)
    }

    @Test(arguments: [
        ("machine", "\"machine\""),
        ("we\"ird", "\"we\"\"ird\""),
        ("Line 1; DROP", "\"Line 1; DROP\""),
        ("nul\0byte", "\"nulbyte\""),
    ])
    func sql_identifiersAreQuoted(name: String, quoted: String) {
        #expect(("SELECT * FROM \(identifier: name)" as SQL).render().text == "SELECT * FROM \(quoted)")
    }

    @Test func sql_joinedKeepsEveryBind() {
        let parts: [SQL] = ["a = \(1)", "b = \(2)", "c = \(3)"]
        let (text, binds) = SQL.joined(parts, separator: " OR ").render()
        #expect(text == "a = $1 OR b = $2 OR c = $3")
        #expect(binds.count == 3)
    }

    @Test func sql_descriptionShowsPlaceholdersNeverValues() {
        let secret = "hunter2"
        #expect(("SELECT * FROM app_user WHERE password_hash = \(secret)" as SQL).description.contains(secret) == false)
    }
}
