import Foundation
import Glibc

/// A private broker for tests that restart it, started with the project's own script.
public final class TestBroker {
    public let port: Int
    public private(set) var runDirectory: String

    private init(port: Int, runDirectory: String) {
        self.port = port
        self.runDirectory = runDirectory
    }
    public static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts")

    public static func start(port: Int? = nil) throws -> TestBroker {
        var environment = ProcessInfo.processInfo.environment
        if let port { environment["MQTT_PORT"] = String(port) }
        let (status, text) = try runScript(scripts.appendingPathComponent("mqtt-up.sh").path, arguments: [], environment: environment)
        guard status == 0,
              let run = text.split(separator: "\n").first(where: { $0.contains("MES_MQTT_RUN_DIR=") })?.split(separator: "=").last,
              let url = text.split(separator: "\n").first(where: { $0.contains("MES_MQTT_URL=") }),
              let portText = url.split(separator: ":").last, let actual = Int(portText)
        else { throw POSIXError(.EIO) }
        return TestBroker(port: actual, runDirectory: String(run))
    }

    public func stop() {
        _ = try? Self.runScript(Self.scripts.appendingPathComponent("mqtt-down.sh").path, arguments: [runDirectory], environment: ProcessInfo.processInfo.environment)
    }

    /// Runs a script as a shell would: signals unblocked and at their default actions. The test
    /// runner's threads block some signals, a spawned broker would inherit that mask, and
    /// mosquitto restores the inherited mask while it waits, so it would never see SIGTERM.
    public static func runScript(_ path: String, arguments: [String], environment: [String: String]) throws -> (Int32, String) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw POSIXError(.EIO) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Only fd 1 may keep the pipe open: a daemon started by the script inherits every other
        // descriptor, and would keep us waiting for an end of file that never comes.
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            throw POSIXError(.EIO)
        }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fds[0], &buffer, buffer.count)
            if count <= 0 { break }
            output += buffer[0..<count]
        }
        close(fds[0])
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return ((status >> 8) & 0xff, String(decoding: output, as: UTF8.self))
    }

    /// Stops the broker and starts a new one on the same port (with a fresh, empty store).
    public func restart() throws {
        stop()
        runDirectory = try TestBroker.start(port: port).runDirectory
    }
}
