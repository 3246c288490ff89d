/// A CSV file of numbers: rows of comma-separated fields, an optional header row, blank lines
/// skipped. Every field must be a number; the first field that is not names its line.
public struct NumericCSV: Sendable, Equatable {
    /// One parsed row and the line it came from.
    public struct Row: Sendable, Equatable {
        public var line: Int
        public var values: [Double]

        public init(line: Int, values: [Double]) {
            self.line = line
            self.values = values
        }
    }

    public var rows: [Row]
    /// The header fields, when the first line was one.
    public var header: [String]?

    /// Parses `text`; `name` is used in error messages.
    public init(text: String, name: String) throws(AnalysisError) {
        rows = []
        header = nil
        var lineNumber = 0
        // "\r\n" is one Character in Swift, so split on newline characters, not on "\n".
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            if line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "," }) { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { field in
                var trimmed = field.trimmingCharacters(in: " \t")
                if trimmed.count >= 2, trimmed.hasPrefix("\""), trimmed.hasSuffix("\"") { trimmed = String(trimmed.dropFirst().dropLast()) }
                return trimmed
            }
            let numbers = fields.map { Double($0) }
            if numbers.contains(where: { $0 == nil }) {
                if rows.isEmpty && header == nil && numbers.allSatisfy({ $0 == nil }) {
                    header = fields
                    continue
                }
                let bad = fields[numbers.firstIndex { $0 == nil }!]
                throw AnalysisError("\(name):\(lineNumber): '\(bad.prefix(40))' is not a number")
            }
            let values = numbers.map { $0! }
            guard values.allSatisfy(\.isFinite) else {
                throw AnalysisError("\(name):\(lineNumber): values must be finite numbers")
            }
            rows.append(Row(line: lineNumber, values: values))
        }
        guard !rows.isEmpty else { throw AnalysisError("\(name): no data rows") }
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        guard let start = firstIndex(where: { !characters.contains($0) }) else { return "" }
        let end = lastIndex(where: { !characters.contains($0) })!
        return String(self[start...end])
    }
}
