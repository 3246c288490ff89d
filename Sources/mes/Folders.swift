#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser

/// Finds one of the product's folders (`Migrations`, `Public`, `Templates`): the configured
/// path, else `./NAME` (a checkout), else installed beside the executable
/// (`../share/mes/NAME`, as the Docker image does, or `NAME` next to it).
func locateFolder(_ name: String, configured: String?, setting: String, flag: String) throws -> String {
    if let configured { return configured }
    var candidates = [name]
    if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        let folder = String(executable[..<(executable.lastIndex(of: "/") ?? executable.endIndex)])
        candidates += ["\(folder)/../share/mes/\(name)", "\(folder)/\(name)"]
    }
    var isDirectory = false
    for candidate in candidates where FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory) && isDirectory {
        return candidate
    }
    throw ValidationError("no \(name) folder found (looked in \(candidates.joined(separator: ", "))): pass \(flag) or set \(setting)")
}
