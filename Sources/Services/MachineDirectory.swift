import Domain
import Postgres
import Workers

/// Machine ids by site and machine code, cached: every message names its machine, and a batch
/// must not cost a lookup per message.
final class MachineDirectory: Sendable {
    enum Resolution {
        case machine(Int64)
        case refused(String)
    }

    struct Name: Hashable, Sendable {
        var site: String
        var machine: String
    }

    let policy: UnknownMachinePolicy
    private let state = Locked(State())

    struct State {
        var ids: [Name: Int64] = [:]
        var names: [Int64: Name] = [:]
    }

    init(policy: UnknownMachinePolicy) {
        self.policy = policy
    }

    func name(of id: Int64) -> Name? {
        state.withLock { $0.names[id] }
    }

    /// The machine's id; registers an unknown machine when the policy says so.
    func resolve(_ path: MachinePath, _ db: PGConnection) throws -> Resolution {
        let name = Name(site: path.site, machine: path.machine)
        if let id = state.withLock({ $0.ids[name] }) { return .machine(id) }
        if let id = try db.query("""
            SELECT m.id FROM machine m JOIN site s ON s.id = m.site_id WHERE s.code = \(path.site) AND m.code = \(path.machine)
            """).decode(Int64.self).first {
            remember(name, id)
            return .machine(id)
        }
        guard try db.query("SELECT 1 FROM site WHERE code = \(path.site)").rowCount > 0 else {
            return .refused("unknown site '\(path.site)': add the site (with its time zone) before its machines report")
        }
        guard policy == .register else {
            return .refused("unknown machine '\(path.machine)' at site '\(path.site)': unknown machines are refused (MES_UNKNOWN_MACHINES=refuse)")
        }
        guard Self.isValidCode(path.machine) else {
            return .refused("machine code '\(path.machine.prefix(60))' is not allowed: letters, digits, '_', '.', '-', starting with a letter or digit")
        }
        // Placed on its line when the topic's area and line exist; unassigned otherwise.
        let id = try db.query("""
            INSERT INTO machine (site_id, code, name, line_id)
            SELECT s.id, \(path.machine), \(path.machine),
                   (SELECT l.id FROM line l JOIN area a ON a.id = l.area_id
                    WHERE a.site_id = s.id AND a.code = \(path.area) AND l.code = \(path.line))
            FROM site s WHERE s.code = \(path.site)
            ON CONFLICT (site_id, code) DO UPDATE SET code = excluded.code
            RETURNING id
            """).decode(Int64.self).first
        guard let id else { return .refused("unknown site '\(path.site)'") }
        remember(name, id)
        return .machine(id)
    }

    private func remember(_ name: Name, _ id: Int64) {
        state.withLock { state in
            state.ids[name] = id
            state.names[id] = name
        }
    }

    /// The `machine.code` check: `^[A-Za-z0-9][A-Za-z0-9_.-]*$`.
    static func isValidCode(_ code: String) -> Bool {
        guard let first = code.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic || ("0"..."9").contains(first) else { return false }
        return code.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_.-".unicodeScalars.contains($0)) }
    }
}
