import ArgumentParser
import Config
import Domain
import Foundation
import Glibc
import HTTP
import Logging
import Postgres
import Services
import Simulation

/// `mes demo`: the whole product on embedded defaults, for a first look. A PostgreSQL and a
/// Mosquitto of its own under `.mes/`, the schema, a seeded plant, the simulator feeding it,
/// the collector and the server; the URL and demo sign-ins printed; everything stopped on
/// Ctrl-C. Run again, it reuses the data; `--reset` starts over.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole MES on embedded defaults: its own PostgreSQL and Mosquitto, a demo plant, the simulator.",
        discussion: """
            Everything lives in the data folder (.mes by default): the database, the broker's \
            configuration, the logs. The first run makes the database, builds the schema and \
            seeds a 22-machine machining plant (three lines, two shifts, parts, reason codes, \
            a characteristic with frozen limits, one person per role, released work orders); \
            later runs reuse it. It needs PostgreSQL's server binaries and mosquitto \
            (Debian: postgresql, mosquitto); as root, PostgreSQL runs as the postgres user. \
            Ctrl-C (or SIGTERM) stops the simulator, the collector, the server, the broker \
            and the database, in that order.
            """
    )

    @Option(help: "The data folder.")
    var data = ".mes"

    @Flag(help: "Delete the data folder first and start over.")
    var reset = false

    @Option(name: .customLong("http-address"), help: "host:port of the web server (port 0 picks a free one).")
    var httpAddress = "127.0.0.1:8080"

    @Option(help: "How much faster than real time the simulated plant runs.")
    var speed = 1.0

    @Option(help: "An ERP beside the demo: 'tryton' starts Tryton 8.2 with scripts/tryton-up.sh (installed from PyPI on first use, 1 to 3 minutes) and runs the ERP jobs.")
    var erp: String?

    func validate() throws {
        guard erp == nil || erp == "tryton" else { throw ValidationError("--erp: '\(erp ?? "")' is not tryton, the one ERP the demo can start") }
        guard speed > 0 else { throw ValidationError("--speed must be positive") }
    }

    static let machines = 22
    static let seed: UInt64 = 7

    func run() throws {
        TerminationSignals.block()
        let started = Date()
        func step(_ text: String) {
            print(String(format: "[%5.1f s] ", Date().timeIntervalSince(started)) + text)
            fflush(nil)
        }
        let folder = URL(fileURLWithPath: data, isDirectory: true).standardizedFileURL
        if reset, FileManager.default.fileExists(atPath: folder.path) {
            step("deleting \(folder.path)")
            try FileManager.default.removeItem(at: folder)
        }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("logs"), withIntermediateDirectories: true)

        step("starting PostgreSQL in \(folder.path)/pg")
        let database = try EmbeddedPostgres(folder: folder.appendingPathComponent("pg"))
        try database.start(log: step)
        defer { step("stopping PostgreSQL"); database.stop() }

        step("starting Mosquitto")
        let broker = try EmbeddedMosquitto(folder: folder.appendingPathComponent("mqtt"))
        try broker.start()
        defer { step("stopping Mosquitto"); broker.stop() }

        var erpEnvironment: [String: String] = [:]
        // scripts/ beside Migrations/: tryton-up.sh and tryton-down.sh; set once Tryton is asked for.
        var trytonScripts: URL?
        if erp == "tryton" {
            step("starting Tryton (the first time installs it from PyPI and takes minutes; see logs/tryton.log)")
            let scripts = URL(fileURLWithPath: try locateFolder("Migrations", configured: nil, setting: "MES_MIGRATIONS_DIR", flag: "--migrations"))
                .standardizedFileURL.deletingLastPathComponent().appendingPathComponent("scripts")
            trytonScripts = scripts
            let state = folder.appendingPathComponent("tryton").path
            let exports = folder.appendingPathComponent("tryton.env")
            try? FileManager.default.removeItem(at: exports)
            let status = try Spawned(scripts.appendingPathComponent("tryton-up.sh").path, [],
                                     environment: ProcessInfo.processInfo.environment.merging(["MES_TRYTON_STATE_DIR": state]) { $1 },
                                     output: exports.path, errors: folder.appendingPathComponent("logs/tryton.log").path).wait()
            guard status == 0 else { throw ValidationError("Tryton did not start; see \(folder.path)/logs/tryton.log") }
            var values: [String: String] = [:]
            for line in (try String(contentsOf: exports, encoding: .utf8)).split(separator: "\n") where line.hasPrefix("export ") {
                let pair = line.dropFirst(7).split(separator: "=", maxSplits: 1)
                if pair.count == 2 { values[String(pair[0])] = String(pair[1]) }
            }
            erpEnvironment = [
                "MES_ERP_URL": values["MES_TEST_TRYTON_URL"] ?? "", "MES_ERP_DATABASE": values["MES_TEST_TRYTON_DATABASE"] ?? "",
                "MES_ERP_USER": values["MES_TEST_TRYTON_USER"] ?? "", "MES_ERP_PASSWORD": values["MES_TEST_TRYTON_PASSWORD"] ?? "",
                "MES_ERP_SITE": DemoPlant.site,
            ]
        }
        defer {
            if let scripts = trytonScripts {
                step("stopping Tryton")
                try? runProgram(scripts.appendingPathComponent("tryton-down.sh").path, [folder.appendingPathComponent("tryton").path],
                                log: folder.appendingPathComponent("logs/tryton.log"))
            }
        }

        let pool = PGPool(configuration: PGPoolConfiguration(url: database.url, maxConnections: 2))
        defer { pool.close() }
        let migrationsFolder = try locateFolder("Migrations", configured: nil, setting: "MES_MIGRATIONS_DIR", flag: "--migrations")
        let migrations = try PGMigration.load(directory: migrationsFolder)
        var quiet = Logger(label: "mes.demo")
        quiet.logLevel = .warning
        let applied = try pool.withConnection { [quiet] in try PGMigrator(migrations: migrations, logger: quiet).migrate(on: $0) }
        step(applied.isEmpty ? "schema is up to date" : "applied \(applied.count) migrations")
        if try DemoPlant.isSeeded(pool) {
            step("reusing the demo plant (--reset starts over)")
        } else {
            step("seeding a \(Self.machines)-machine plant")
            let simulator = PlantSimulator(machines: Self.machines, seed: Self.seed, start: 0)
            try DemoPlant.seed(pool, machines: simulator.paths.map(\.machine), idealCycleSeconds: simulator.idealCycleSeconds, parts: PlantSimulator.parts)
        }

        let environment = [
            "MES_DATABASE_URL": database.url, "MES_MQTT_URL": broker.url, "MES_LOG_LEVEL": "warning",
            "MES_MIGRATIONS_DIR": URL(fileURLWithPath: migrationsFolder).standardizedFileURL.path,
            "MES_TEMPLATES_DIR": URL(fileURLWithPath: try locateFolder("Templates", configured: nil, setting: "MES_TEMPLATES_DIR", flag: "--templates")).standardizedFileURL.path,
            "MES_PUBLIC_DIR": URL(fileURLWithPath: try locateFolder("Public", configured: nil, setting: "MES_PUBLIC_DIR", flag: "--public")).standardizedFileURL.path,
            "MES_SPOOL_DIR": folder.appendingPathComponent("spool").path,
        ].merging(erpEnvironment) { $1 }
        var children: [Spawned] = []
        defer {
            for child in children.reversed() { child.stop() }
        }
        step("starting the server with its collector, then the simulator (\(speed)x)")
        // The server collects too (as in a small plant), so its /metrics shows the MQTT side.
        let serveLog = folder.appendingPathComponent("logs/serve.log")
        children.append(try child(
            ["serve", "--http-address", httpAddress] + (erp == nil ? ["--no-sync"] : []),
            environment.merging(["MES_COLLECTOR_ID": "mes-demo"]) { $1 }, log: serveLog))
        // It prints its address once subscribed: the simulator's first messages (every
        // machine's state) must find the subscription.
        var address: String?
        for _ in 0..<400 where address == nil {
            if let text = try? String(contentsOf: serveLog, encoding: .utf8), let range = text.range(of: "listening on ") {
                address = text[range.upperBound...].split(whereSeparator: \.isNewline).first.map(String.init)
            }
            if address == nil { usleep(50_000) }
        }
        if address != nil {
            children.append(try child(
                ["simulate", "--machines", String(Self.machines), "--seed", String(Self.seed), "--speed", String(speed), "--seconds", "0"], environment,
                log: folder.appendingPathComponent("logs/simulate.log")))
        }
        guard let address else { throw ValidationError("the server did not start; see \(serveLog.path)") }
        print("""

            The MES is running at \(address)
              office sign-in:   \(address)/login
              wall screen:      \(address)/wall/\(DemoPlant.site)
              plant overview:   \(address)/plant/\(DemoPlant.site)
              operator tablet:  \(address)/tablet/\(DemoPlant.site)/001  (badge and PIN below)
            Sign-ins (user / password):
            """)
        for login in DemoPlant.logins {
            print("  \(login.role.padding(toLength: 11, withPad: " ", startingAt: 0)) \(login.username) / \(login.password)"
                + (login.badge.map { "   badge \($0), PIN \(login.pin ?? "")" } ?? ""))
        }
        print("Logs are in \(folder.path)/logs. Press Ctrl-C to stop everything.\n")
        fflush(nil)
        while TerminationSignals.pending() == nil {
            if let ended = children.first(where: { !$0.isRunning }) {
                step("\(ended.name) stopped unexpectedly; see \(folder.path)/logs")
                break
            }
            usleep(200_000)
        }
        step("stopping")
    }
}

/// A program started with `posix_spawn`, its output going to a file (Foundation's `Process`
/// does not notice its children ending while `TerminationSignals` holds the signals back).
final class Spawned {
    let name: String
    let pid: pid_t

    init(_ path: String, _ arguments: [String], environment: [String: String]? = nil, output: String, errors: String? = nil, name: String? = nil) throws {
        self.name = name ?? URL(fileURLWithPath: path).lastPathComponent
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if let errors {
            posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // The child starts with no signal blocked, whatever this process holds back.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { env.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, path, &actions, &attributes, argv, env)
        guard status == 0 else { throw ValidationError("cannot start \(path): \(String(cString: strerror(status)))") }
        self.pid = pid
    }

    /// Waits for the end; the exit status.
    @discardableResult
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    var isRunning: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    func stop() {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        wait()
    }
}

/// A `mes` subcommand as a child process, its output in a log file.
func child(_ arguments: [String], _ environment: [String: String], log: URL) throws -> Spawned {
    let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return try Spawned(executable, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }, output: log.path,
                       name: "mes " + arguments[0])
}

/// Runs a program to its end, its output in `log`; throws with the output's end when it fails.
func runProgram(_ path: String, _ arguments: [String], asPostgres: Bool = false, log: URL) throws {
    let (program, all) = asPostgres && getuid() == 0 ? ("/usr/sbin/runuser", ["-u", "postgres", "--", path] + arguments) : (path, arguments)
    let status = try Spawned(program, all, output: log.path).wait()
    guard status == 0 else {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        throw ValidationError("\(URL(fileURLWithPath: path).lastPathComponent) failed (exit \(status)): \(text.suffix(800))")
    }
}

/// 127.0.0.1:`port` as a socket address.
func loopback(_ port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return address
}

/// A free TCP port on 127.0.0.1.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = loopback(0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw ValidationError("cannot find a free port on 127.0.0.1") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// PostgreSQL in a folder of the demo's: made on first use, started and stopped by `mes demo`.
final class EmbeddedPostgres {
    let folder: URL
    let bin: String
    var port = 0
    var url: String { "postgresql://mes:mes@127.0.0.1:\(port)/mes" }

    init(folder: URL) throws {
        self.folder = folder
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let newest = versions.compactMap(Int.init).max() else {
            throw ValidationError("PostgreSQL's server binaries are not installed (Debian: apt-get install postgresql)")
        }
        bin = "/usr/lib/postgresql/\(newest)/bin"
    }

    func start(log: (String) -> Void) throws {
        let dataFolder = folder.appendingPathComponent("data").path
        let socketFolder = folder.appendingPathComponent("run").path
        try FileManager.default.createDirectory(atPath: socketFolder, withIntermediateDirectories: true)
        let fresh = !FileManager.default.fileExists(atPath: dataFolder + "/PG_VERSION")
        let setupLog = folder.appendingPathComponent("setup.log")
        if getuid() == 0 {
            try runProgram("/bin/chown", ["-R", "postgres:postgres", folder.path], log: setupLog)
            // PostgreSQL refuses to run as root: the postgres user must reach the folder.
            do {
                try runProgram("/usr/bin/test", ["-w", folder.path], asPostgres: true, log: setupLog)
            } catch {
                throw ValidationError("the postgres user cannot reach \(folder.path): a folder above it is private to root. Pass --data with a folder it can reach, e.g. --data /var/tmp/mes-demo")
            }
        }
        if fresh {
            log("creating the database cluster (initdb)")
            let passwords = folder.appendingPathComponent("pwfile").path
            try "postgres\n".write(toFile: passwords, atomically: true, encoding: .utf8)
            if getuid() == 0 { try runProgram("/bin/chown", ["postgres:postgres", passwords], log: setupLog) }
            try runProgram(bin + "/initdb", ["-D", dataFolder, "-U", "postgres", "--pwfile=\(passwords)", "--auth-local=trust", "--auth-host=scram-sha-256",
                                             "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], asPostgres: true, log: setupLog)
        }
        let portFile = folder.appendingPathComponent("port")
        port = (try? String(contentsOf: portFile, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
        if port == 0 || !portIsFree(port) { port = try freePort() }
        try String(port).write(to: portFile, atomically: true, encoding: .utf8)
        try runProgram(bin + "/pg_ctl", ["-D", dataFolder, "-l", folder.appendingPathComponent("server.log").path, "-w", "-t", "60",
                                         "-o", "-p \(port) -k \(socketFolder) -c listen_addresses=127.0.0.1 -c fsync=off", "start"], asPostgres: true,
                           log: folder.appendingPathComponent("pg_ctl.log"))
        if fresh {
            try runProgram(bin + "/psql", [
                "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", socketFolder, "-p", String(port), "-U", "postgres", "-d", "postgres",
                "-c", "CREATE ROLE mes LOGIN CREATEDB PASSWORD 'mes'", "-c", "CREATE DATABASE mes OWNER mes",
            ], asPostgres: true, log: setupLog)
        }
    }

    func stop() {
        try? runProgram(bin + "/pg_ctl", ["-D", folder.appendingPathComponent("data").path, "-m", "fast", "-w", "stop"], asPostgres: true,
                        log: folder.appendingPathComponent("pg_ctl.log"))
    }

    private func portIsFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = loopback(port)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

/// Mosquitto on a free loopback port, for the demo only (anonymous clients, no persistence).
final class EmbeddedMosquitto {
    let folder: URL
    let path: String
    var process: Spawned?
    var port = 0
    var url: String { "mqtt://127.0.0.1:\(port)" }

    init(folder: URL) throws {
        self.folder = folder
        guard let path = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ValidationError("mosquitto is not installed (Debian: apt-get install mosquitto)")
        }
        self.path = path
    }

    func start() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        port = try freePort()
        let configuration = folder.appendingPathComponent("mosquitto.conf")
        try """
            user \(String(cString: getpwuid(getuid()).pointee.pw_name))
            listener \(port) 127.0.0.1
            allow_anonymous true
            persistence false
            log_dest file \(folder.appendingPathComponent("mosquitto.log").path)
            max_queued_messages 100000
            max_inflight_messages 1000

            """.write(to: configuration, atomically: true, encoding: .utf8)
        process = try Spawned(path, ["-c", configuration.path], output: folder.appendingPathComponent("mosquitto.out").path)
        for _ in 0..<100 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = loopback(port)
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            close(fd)
            if connected { return }
            usleep(50_000)
        }
        throw ValidationError("mosquitto did not start; see \(folder.path)/mosquitto.log")
    }

    func stop() { process?.stop() }
}
