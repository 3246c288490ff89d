import Config
import Testing

struct MESConfigurationTests {
    @Test func defaults_applyWhenNothingIsSet() throws {
        let configuration = try MESConfiguration(environment: [:])
        #expect(configuration.databaseURL == nil)
        #expect(configuration.databasePoolSize == 8)
        #expect(configuration.httpAddress == HostPort(host: "127.0.0.1", port: 8080))
        #expect(configuration.mqtt == nil)
        #expect(configuration.logLevel == "info")
        #expect(throws: ConfigurationError.self) { try configuration.requireDatabaseURL() }
    }

    @Test func flags_winOverEnvironment() throws {
        let configuration = try MESConfiguration(
            environment: ["MES_DATABASE_URL": "postgresql://env/db", "MES_LOG_LEVEL": "debug"],
            flags: ["MES_DATABASE_URL": "postgresql://flag/db"])
        #expect(configuration.databaseURL == "postgresql://flag/db")
        #expect(configuration.logLevel == "debug")
    }

    @Test(arguments: [
        ("MES_DATABASE_URL", "mysql://nope"),
        ("MES_DATABASE_POOL_SIZE", "0"),
        ("MES_DATABASE_POOL_SIZE", "many"),
        ("MES_HTTP_ADDRESS", "8080"),
        ("MES_HTTP_ADDRESS", "0.0.0.0:99999"),
        ("MES_HTTP_ADDRESS", ":8080"),
        ("MES_MQTT_URL", "tcp://broker:1883"),
        ("MES_MQTT_URL", "mqtt://broker:port"),
        ("MES_LOG_LEVEL", "loud"),
        ("MES_UNKNOWN_MACHINES", "ignore"),
        ("MES_COLLECTOR_SHARE", "a/b"),
        ("MES_COLLECTOR_ID", "mes#1"),
        ("MES_ERP_PUSH_CONCURRENCY", "0"),
        ("MES_ERP_PUSH_CONCURRENCY", "33"),
        ("MES_ERP_PUSH_CONCURRENCY", "four"),
    ])
    func badValues_areRefusedNamingTheSetting(name: String, value: String) {
        let error = #expect(throws: ConfigurationError.self) { try MESConfiguration(environment: [name: value]) }
        #expect(error?.setting == name)
        #expect(error?.description.contains(value) == true || error?.description.contains(name) == true)
    }

    @Test func mqttsWithoutACertificateAuthority_isRefused() {
        let error = #expect(throws: ConfigurationError.self) { try MESConfiguration(environment: ["MES_MQTT_URL": "mqtts://broker"]) }
        #expect(error?.setting == "MES_MQTT_CA_FILE")
    }

    @Test func collectorSettings_haveDefaults() throws {
        let configuration = try MESConfiguration(environment: [:])
        #expect(configuration.collectorID == "mes-collector" && configuration.collectorShare == nil)
        #expect(configuration.spoolDirectory == "spool" && configuration.unknownMachines == "register")
        #expect(configuration.erpPushConcurrency == 4)
    }

    @Test func mqttURL_isParsedWithDefaultsAndMaskedWhenPrinted() throws {
        let plain = try MQTTEndpoint(url: "mqtt://mes:s3cret@broker.local", setting: "MES_MQTT_URL")
        #expect(plain.host == "broker.local")
        #expect(plain.port == 1883)
        #expect(plain.username == "mes")
        #expect(plain.password == "s3cret")
        #expect(plain.tls == false)
        #expect(plain.description == "mqtt://mes:***@broker.local:1883")
        let secure = try MQTTEndpoint(url: "mqtts://[::1]:9883", setting: "MES_MQTT_URL")
        #expect(secure.host == "::1")
        #expect(secure.port == 9883)
        #expect(secure.tls)
        #expect(try MQTTEndpoint(url: "mqtts://broker", setting: "x").port == 8883)
    }

    @Test func httpAddress_acceptsIPv6Literals() throws {
        #expect(try HostPort("[::]:8443", setting: "MES_HTTP_ADDRESS") == HostPort(host: "::", port: 8443))
        #expect(HostPort(host: "::", port: 8443).description == "[::]:8443")
    }
}
