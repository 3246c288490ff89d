/// The settings of a `mes` process, from command-line flags over `MES_*` environment variables
/// over defaults. Every value is checked here, so a typo stops the process at start with a
/// message naming the flag or variable. See docs/configuration.md.
public struct MESConfiguration: Sendable, Equatable {
    /// PostgreSQL URL (`MES_DATABASE_URL`, `--database-url`); nil when not given.
    public var databaseURL: String?
    /// Most database connections per process (`MES_DATABASE_POOL_SIZE`).
    public var databasePoolSize: Int
    /// Folder of `NNNN_name.sql` files (`MES_MIGRATIONS_DIR`, `--migrations`); nil to search.
    public var migrationsDirectory: String?
    /// Folder of static files (`MES_PUBLIC_DIR`, `--public`); nil to search.
    public var publicDirectory: String?
    /// Folder of page templates (`MES_TEMPLATES_DIR`, `--templates`); nil to search.
    public var templatesDirectory: String?
    /// Whether session cookies are marked `Secure` (`MES_COOKIE_SECURE`, `true` or `false`):
    /// set it whenever browsers reach the server over HTTPS, directly or through a proxy.
    public var cookieSecure: Bool
    /// MQTT broker (`MES_MQTT_URL`), nil when not given.
    public var mqtt: MQTTEndpoint?
    /// Where the web server listens (`MES_HTTP_ADDRESS`).
    public var httpAddress: HostPort
    /// swift-log level name (`MES_LOG_LEVEL`).
    public var logLevel: String
    /// CA certificate for an `mqtts://` broker (`MES_MQTT_CA_FILE`).
    public var mqttCAFile: String?
    /// The collector's MQTT client id, which names its persistent session (`MES_COLLECTOR_ID`).
    public var collectorID: String
    /// MQTT v5 shared-subscription group, so several collectors split the messages
    /// (`MES_COLLECTOR_SHARE`); nil for a single collector.
    public var collectorShare: String?
    /// Folder where the collector spools batches while the database is away (`MES_SPOOL_DIR`).
    public var spoolDirectory: String
    /// `register` or `refuse` messages from machines the plant model lacks (`MES_UNKNOWN_MACHINES`).
    public var unknownMachines: String

    /// The ERP the sync jobs pull from and push to (`MES_ERP_URL` and friends); nil when none.
    public var erp: ERPEndpoint?
    /// Where the outbox is POSTed when there is no ERP connector (`MES_WEBHOOK_URL`), and the
    /// HMAC secret its deliveries are signed with (`MES_WEBHOOK_SECRET`).
    public var webhookURL: String?
    public var webhookSecret: String?
    /// Seconds between pulls from the ERP (`MES_ERP_PULL_INTERVAL`).
    public var erpPullInterval: Double
    /// Seconds between passes over the outbox (`MES_ERP_PUSH_INTERVAL`).
    public var erpPushInterval: Double
    /// Outbox entries sent to the ERP at once (`MES_ERP_PUSH_CONCURRENCY`; default 4).
    public var erpPushConcurrency: Int
    /// This process's name in the outbox ledger and the pull log (`MES_NODE`; default the host name).
    public var node: String?

    public static let defaultPoolSize = 8
    public static let defaultHTTPAddress = HostPort(host: "127.0.0.1", port: 8080)
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// Resolves the configuration. `flags` holds values given on the command line, keyed by the
    /// environment variable they override (`"MES_DATABASE_URL"`), and wins over `environment`.
    public init(environment: [String: String], flags: [String: String] = [:]) throws(ConfigurationError) {
        func value(_ name: String) -> String? {
            let raw = flags[name] ?? environment[name]
            guard let raw, !raw.isEmpty else { return nil }
            return raw
        }
        databaseURL = value("MES_DATABASE_URL")
        if let url = databaseURL, !(url.hasPrefix("postgresql://") || url.hasPrefix("postgres://") || url.contains("=")) {
            throw ConfigurationError(setting: "MES_DATABASE_URL", "'\(url)' is neither a postgresql:// URL nor a libpq key=value string")
        }
        if let size = value("MES_DATABASE_POOL_SIZE") {
            guard let parsed = Int(size), (1...1000).contains(parsed) else {
                throw ConfigurationError(setting: "MES_DATABASE_POOL_SIZE", "'\(size)' is not a whole number from 1 to 1000")
            }
            databasePoolSize = parsed
        } else {
            databasePoolSize = Self.defaultPoolSize
        }
        migrationsDirectory = value("MES_MIGRATIONS_DIR")
        publicDirectory = value("MES_PUBLIC_DIR")
        templatesDirectory = value("MES_TEMPLATES_DIR")
        switch value("MES_COOKIE_SECURE")?.lowercased() {
        case nil, "false", "0", "no": cookieSecure = false
        case "true", "1", "yes": cookieSecure = true
        case let other?: throw ConfigurationError(setting: "MES_COOKIE_SECURE", "'\(other)' is not true or false")
        }
        mqtt = try value("MES_MQTT_URL").map { url throws(ConfigurationError) in
            try MQTTEndpoint(url: url, setting: "MES_MQTT_URL")
        }
        httpAddress = try value("MES_HTTP_ADDRESS").map { address throws(ConfigurationError) in
            try HostPort(address, setting: "MES_HTTP_ADDRESS")
        } ?? Self.defaultHTTPAddress
        mqttCAFile = value("MES_MQTT_CA_FILE")
        if mqtt?.tls == true && mqttCAFile == nil {
            throw ConfigurationError(setting: "MES_MQTT_CA_FILE", "an mqtts:// broker needs the CA certificate file that signed it")
        }
        collectorID = value("MES_COLLECTOR_ID") ?? "mes-collector"
        guard !collectorID.contains(where: { $0 == "/" || $0 == "+" || $0 == "#" }) else {
            throw ConfigurationError(setting: "MES_COLLECTOR_ID", "'\(collectorID)' must not contain '/', '+' or '#'")
        }
        collectorShare = value("MES_COLLECTOR_SHARE")
        if let share = collectorShare, share.contains(where: { $0 == "/" || $0 == "+" || $0 == "#" }) {
            throw ConfigurationError(setting: "MES_COLLECTOR_SHARE", "'\(share)' must not contain '/', '+' or '#'")
        }
        spoolDirectory = value("MES_SPOOL_DIR") ?? "spool"
        unknownMachines = value("MES_UNKNOWN_MACHINES") ?? "register"
        guard ["register", "refuse"].contains(unknownMachines) else {
            throw ConfigurationError(setting: "MES_UNKNOWN_MACHINES", "'\(unknownMachines)' is neither register nor refuse")
        }
        erp = try ERPEndpoint(url: value("MES_ERP_URL"), value: value)
        webhookURL = value("MES_WEBHOOK_URL")
        webhookSecret = value("MES_WEBHOOK_SECRET")
        if let url = webhookURL {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw ConfigurationError(setting: "MES_WEBHOOK_URL", "'\(url)' must start with http:// or https://")
            }
            guard erp == nil else {
                throw ConfigurationError(setting: "MES_WEBHOOK_URL", "the outbox goes either to Tryton (MES_ERP_URL) or to a webhook, not both")
            }
            guard let secret = webhookSecret, secret.utf8.count >= 16 else {
                throw ConfigurationError(setting: "MES_WEBHOOK_SECRET", "a webhook needs a signing secret of at least 16 bytes")
            }
        }
        erpPullInterval = try Self.seconds(value("MES_ERP_PULL_INTERVAL"), "MES_ERP_PULL_INTERVAL") ?? 60
        erpPushInterval = try Self.seconds(value("MES_ERP_PUSH_INTERVAL"), "MES_ERP_PUSH_INTERVAL") ?? 2
        if let text = value("MES_ERP_PUSH_CONCURRENCY") {
            guard let parsed = Int(text), (1...32).contains(parsed) else {
                throw ConfigurationError(setting: "MES_ERP_PUSH_CONCURRENCY", "'\(text)' is not a whole number from 1 to 32")
            }
            erpPushConcurrency = parsed
        } else {
            erpPushConcurrency = 4
        }
        node = value("MES_NODE")
        logLevel = value("MES_LOG_LEVEL")?.lowercased() ?? "info"
        guard Self.logLevels.contains(logLevel) else {
            throw ConfigurationError(setting: "MES_LOG_LEVEL", "'\(logLevel)' is not one of \(Self.logLevels.joined(separator: ", "))")
        }
    }

    static func seconds(_ text: String?, _ setting: String) throws(ConfigurationError) -> Double? {
        guard let text else { return nil }
        guard let seconds = Double(text), seconds.isFinite, seconds > 0, seconds <= 86_400 else {
            throw ConfigurationError(setting: setting, "'\(text)' is not a number of seconds from 0 to 86400")
        }
        return seconds
    }

    /// The database URL, or an error that says how to give one.
    public func requireDatabaseURL() throws(ConfigurationError) -> String {
        guard let databaseURL else {
            throw ConfigurationError(
                setting: "MES_DATABASE_URL",
                "no database given: pass --database-url or set MES_DATABASE_URL, e.g. postgresql://mes:mes@127.0.0.1:5432/mes")
        }
        return databaseURL
    }
}

/// A Tryton server the MES syncs with, and the site its orders are for.
public struct ERPEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// Base URL, `http://` or `https://` (`MES_ERP_URL`).
    public var url: String
    /// Tryton's database (`MES_ERP_DATABASE`).
    public var database: String
    /// The integration user (`MES_ERP_USER`) and its password (`MES_ERP_PASSWORD`).
    public var user: String
    public var password: String
    /// The MES site code pulled orders and work centers belong to (`MES_ERP_SITE`).
    public var site: String

    /// Nil when `url` is nil; otherwise every other setting is required.
    init?(url: String?, value: (String) -> String?) throws(ConfigurationError) {
        guard let url else { return nil }
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw ConfigurationError(setting: "MES_ERP_URL", "'\(url)' must start with http:// or https://")
        }
        func required(_ name: String, _ what: String) throws(ConfigurationError) -> String {
            guard let text = value(name) else { throw ConfigurationError(setting: name, "MES_ERP_URL is set, so \(what) is needed too") }
            return text
        }
        self.url = url
        database = try required("MES_ERP_DATABASE", "Tryton's database name")
        user = try required("MES_ERP_USER", "the Tryton user the MES acts as")
        password = try required("MES_ERP_PASSWORD", "that user's password")
        site = try required("MES_ERP_SITE", "the code of the MES site its orders are for")
    }

    /// The endpoint without the password.
    public var description: String { "\(url) database \(database) as \(user), site \(site)" }
}

/// A setting that cannot be used, named by its environment variable.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var setting: String
    public var message: String
    public init(setting: String, _ message: String) {
        self.setting = setting
        self.message = message
    }
    public var description: String { "\(setting): \(message)" }
}

/// `host:port`, with `[v6]:port` for IPv6 literals.
public struct HostPort: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(_ text: String, setting: String) throws(ConfigurationError) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ConfigurationError(setting: setting, "'\(text)' is not [ipv6]:port")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw ConfigurationError(setting: setting, "'\(text)' has no port: write host:port, e.g. 0.0.0.0:8080")
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard !hostPart.isEmpty else { throw ConfigurationError(setting: setting, "'\(text)' has no host") }
        guard let port = Int(portPart), (0...65535).contains(port) else {
            throw ConfigurationError(setting: setting, "'\(portPart)' is not a port from 0 to 65535")
        }
        self.host = String(hostPart)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// An MQTT broker from `mqtt://user:password@host:port` (`mqtts://` for TLS).
public struct MQTTEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var tls: Bool

    public init(url: String, setting: String) throws(ConfigurationError) {
        let tls: Bool
        let rest: Substring
        if url.hasPrefix("mqtt://") {
            tls = false
            rest = url.dropFirst("mqtt://".count)
        } else if url.hasPrefix("mqtts://") {
            tls = true
            rest = url.dropFirst("mqtts://".count)
        } else {
            throw ConfigurationError(setting: setting, "'\(url)' must start with mqtt:// or mqtts://")
        }
        var authority = rest.prefix { $0 != "/" }
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                username = String(userInfo[..<colon])
                password = String(userInfo[userInfo.index(after: colon)...])
            } else {
                username = String(userInfo)
            }
            authority = authority[authority.index(after: at)...]
        }
        let defaultPort = tls ? 8883 : 1883
        let address = authority.contains(":") && !authority.hasSuffix("]") ? String(authority) : "\(authority):\(defaultPort)"
        let hostPort = try HostPort(address, setting: setting)
        self.host = hostPort.host
        self.port = hostPort.port
        self.tls = tls
    }

    /// The URL with the password masked.
    public var description: String {
        let user = username.map { name in password == nil ? "\(name)@" : "\(name):***@" } ?? ""
        return "\(tls ? "mqtts" : "mqtt")://\(user)\(HostPort(host: host, port: port))"
    }
}
