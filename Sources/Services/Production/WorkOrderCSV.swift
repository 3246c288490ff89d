#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Work orders from a CSV file (RFC 4180: commas, double quotes, CRLF or LF), for plants whose
/// ERP can only export a spreadsheet. The first line names the columns, in any order:
///
///     number,part,quantity,site,due,planned_start,reference,priority,release
///
/// `number`, `part`, `quantity` and `site` are required; `due` and `planned_start` are RFC 3339
/// times or plain dates (`2026-11-30`, read as midnight UTC); `release` is `yes`/`no`/`true`/
/// `false`/`1`/`0`. Operations come from each part's routing.
public enum WorkOrderCSV {
    public static let columns = ["number", "part", "quantity", "site", "due", "planned_start", "reference", "priority", "release"]

    /// A problem in the file, with its line (1-based) and, when it is about one, its column.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Every order in `text`, or every problem found (all of them, not only the first).
    public static func parse(_ text: String) throws(CSVProblems) -> [WorkOrderInput] {
        let rows: [(line: Int, fields: [String])]
        do { rows = try records(text) } catch { throw CSVProblems(errors: [error]) }
        guard let header = rows.first else { throw CSVProblems(errors: [ParseError(line: 1, message: "the file is empty; the first line must name the columns")]) }
        var problems: [ParseError] = []
        let names = header.fields.map { trim($0).lowercased() }
        for name in names where !columns.contains(name) {
            problems.append(ParseError(line: header.line, message: "unknown column '\(name)'; the columns are \(columns.joined(separator: ", "))"))
        }
        for required in ["number", "part", "quantity", "site"] where !names.contains(required) {
            problems.append(ParseError(line: header.line, message: "the column '\(required)' is missing"))
        }
        if !problems.isEmpty { throw CSVProblems(errors: problems) }
        var orders: [WorkOrderInput] = []
        var numbers: [String: Int] = [:]
        for row in rows.dropFirst() {
            if row.fields.count == 1 && row.fields[0].isEmpty { continue }
            guard row.fields.count == names.count else {
                problems.append(ParseError(line: row.line, message: "\(row.fields.count) fields, but the header names \(names.count)"))
                continue
            }
            var value: [String: String] = [:]
            for (name, field) in zip(names, row.fields) {
                let trimmed = trim(field)
                if !trimmed.isEmpty { value[name] = trimmed }
            }
            func fail(_ message: String) { problems.append(ParseError(line: row.line, message: message)) }
            guard let number = value["number"], let part = value["part"], let site = value["site"], let quantityText = value["quantity"] else {
                fail("number, part, quantity and site must not be empty")
                continue
            }
            if let earlier = numbers[number] { fail("work order \(number) is already on line \(earlier)"); continue }
            numbers[number] = row.line
            guard let quantity = Double(quantityText), quantity > 0, quantity.isFinite else {
                fail("quantity '\(quantityText)' is not a positive number")
                continue
            }
            var order = WorkOrderInput(number: number, part: part, quantity: quantity, site: site, reference: value["reference"])
            for (column, keyPath) in [("due", \WorkOrderInput.due), ("planned_start", \WorkOrderInput.plannedStart)] {
                guard let text = value[column] else { continue }
                guard let date = time(text) else { fail("\(column) '\(text)' is neither an RFC 3339 time nor a YYYY-MM-DD date"); continue }
                order[keyPath: keyPath] = date
            }
            if let text = value["priority"] {
                guard let priority = Int(text) else { fail("priority '\(text)' is not a whole number"); continue }
                order.priority = priority
            }
            if let text = value["release"] {
                switch text.lowercased() {
                case "yes", "true", "1": order.release = true
                case "no", "false", "0": order.release = false
                default: fail("release '\(text)' is not yes or no"); continue
                }
            }
            orders.append(order)
        }
        if !problems.isEmpty { throw CSVProblems(errors: problems) }
        return orders
    }

    /// Every problem of a file.
    public struct CSVProblems: Error, Sendable, Equatable, CustomStringConvertible {
        public var errors: [ParseError]
        public var description: String { errors.map(\.description).joined(separator: "\n") }
    }

    static func trim(_ text: String) -> String {
        String(text.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }

    /// An RFC 3339 time, or a date at midnight UTC.
    static func time(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        return try? Date("\(year)-\(parts[1])-\(parts[2])T00:00:00Z", strategy: .iso8601)
    }

    /// The file's records with the line each starts on.
    static func records(_ text: String) throws(ParseError) -> [(line: Int, fields: [String])] {
        var rows: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field = ""
        var quoted = false
        var line = 1
        var rowLine = 1
        var afterQuote = false
        var iterator = Array(text.unicodeScalars).makeIterator()
        var pending: Unicode.Scalar? = nil
        while let scalar = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if scalar == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { field.unicodeScalars.append("\"") } else { quoted = false; afterQuote = true; pending = next }
                    } else { quoted = false; afterQuote = true }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case ",":
                fields.append(field); field = ""; afterQuote = false
            case "\r":
                continue
            case "\n":
                fields.append(field); field = ""; afterQuote = false
                rows.append((rowLine, fields)); fields = []
                line += 1; rowLine = line
            case "\"":
                guard field.isEmpty && !afterQuote else { throw ParseError(line: line, message: "a quote inside an unquoted field; quote the whole field") }
                quoted = true
            default:
                guard !afterQuote else { throw ParseError(line: line, message: "text after a closing quote") }
                field.unicodeScalars.append(scalar)
            }
        }
        if quoted { throw ParseError(line: rowLine, message: "a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty {
            fields.append(field)
            rows.append((rowLine, fields))
        }
        return rows
    }
}
