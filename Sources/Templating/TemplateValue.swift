/// What a template sees: plain values, lists, and objects that answer for their keys.
///
/// View models are structs that conform to `TemplateObject` (a `switch` over their keys), so a
/// page is rendered without building dictionaries or reflecting over types. Literals make
/// fixtures short: `["line": "Line 2", "machines": [["code": "M-01"]]]`.
public enum TemplateValue: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([TemplateValue])
    case dictionary([String: TemplateValue])
    case object(any TemplateObject)

    /// Mustache's truthiness: only null, false and the empty list are false. `0` and `""` are
    /// true, as the specification has them (JavaScript's mustache.js differs).
    var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let value): value
        case .list(let items): !items.isEmpty
        default: true
        }
    }

    /// The member `key` of a dictionary or object; nil for anything else.
    func member(_ key: String) -> TemplateValue? {
        switch self {
        case .dictionary(let members): members[key]
        case .object(let object): object[templateKey: key]
        default: nil
        }
    }
}

/// A view model a template can look into.
public protocol TemplateObject: Sendable {
    /// The value a template means by `key`, or nil when the object has no such key (so the
    /// lookup goes on down the context stack, as Mustache requires).
    subscript(templateKey key: String) -> TemplateValue? { get }
}

/// A Swift value that has a template form.
public protocol TemplateRepresentable {
    var templateValue: TemplateValue { get }
}

extension TemplateValue: TemplateRepresentable {
    public var templateValue: TemplateValue { self }
}

extension String: TemplateRepresentable {
    public var templateValue: TemplateValue { .string(self) }
}

extension Int: TemplateRepresentable {
    public var templateValue: TemplateValue { .int(self) }
}

extension Double: TemplateRepresentable {
    public var templateValue: TemplateValue { .double(self) }
}

extension Bool: TemplateRepresentable {
    public var templateValue: TemplateValue { .bool(self) }
}

extension Optional: TemplateRepresentable where Wrapped: TemplateRepresentable {
    public var templateValue: TemplateValue { self?.templateValue ?? .null }
}

extension Array: TemplateRepresentable where Element: TemplateRepresentable {
    public var templateValue: TemplateValue { .list(map(\.templateValue)) }
}

extension TemplateValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: TemplateValue...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        self = .dictionary(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
