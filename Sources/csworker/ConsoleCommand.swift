import ArgumentParser
import CaseStorage
import Console
import Foundation
import Logging
import ServiceLifecycle

/// `csworker console`: the web console, a process of its own (the workers
/// stay lean; it connects with its own read-mostly database role).
struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Serve the web console for supervisors and operators, or manage its users.",
        subcommands: [Serve.self, AddUser.self, RemoveUser.self],
        defaultSubcommand: Serve.self
    )

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Serve the console (the default): timeliness, caseload, cases, operations and dead letters.",
            discussion: """
                Sign-in is required for every page and API answer; users come from --users-file (see `console
                add-user`). Needs CSE_DATABASE_URL (the console role of deploy/postgres-roles.sql); CSE_KAFKA_BROKERS
                for the consumer lag and replays; CSE_SSN_KEY for replays only (dead letters are sealed; without it
                the console holds no key, and its role cannot read the sealed columns either way). Serve it behind
                TLS: cookies are marked Secure, and HSTS sent, with --secure-cookies or when the proxy sends
                X-Forwarded-Proto: https. Behind a proxy, --trust-forwarded-for makes the sign-in limits per client
                address use the address the proxy reports.
                """
        )

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var kafka: KafkaOptions
        @OptionGroup var groupOptions: GroupOptions
        @OptionGroup var topicOptions: TopicOptions
        @OptionGroup var policyOptions: PolicyOptions
        @OptionGroup var logging: LoggingOptions
        @OptionGroup var users: UsersFileOptions

        @Option(help: "Port to listen on (env CSE_CONSOLE_PORT, default 8090).")
        var port: Int?

        @Option(help: "Address to listen on (env CSE_CONSOLE_HOST, default 0.0.0.0).")
        var host: String?

        @Flag(help: "Mark session cookies Secure and send HSTS (env CSE_CONSOLE_SECURE_COOKIES=true).")
        var secureCookies = false

        @Flag(help: "Limit sign-ins per client by the last X-Forwarded-For address (env CSE_CONSOLE_TRUST_FORWARDED_FOR=true).")
        var trustForwardedFor = false

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            let port = try Setting.consolePort.integer(flag: port, minimum: 0)
            guard port <= 65535 else { throw ValidationError("CSE_CONSOLE_PORT / --port must be a port number, not \(port)") }
            let host = Setting.consoleHost.text(flag: host)
            let secure = secureCookies || Setting.consoleSecureCookies.text(flag: nil).lowercased() == "true"
            let forwarded = trustForwardedFor || Setting.consoleTrustForwardedFor.text(flag: nil).lowercased() == "true"
            let usersFile = users.file
            guard FileManager.default.fileExists(atPath: usersFile.path) else {
                throw ValidationError("no users file at \(usersFile.path): add a user first with `csworker console add-user NAME --role operator`")
            }
            let brokers = kafka.isConfigured ? try kafka.brokers() : nil
            // Only replays need the key; a key that is set must be a valid one.
            let key = try environment[SSNKey.environmentVariable].flatMap { $0.isEmpty ? nil : $0 }.map { text in
                do { return try SSNKey(encoded: text) } catch { throw ValidationError("\(error)") }
            }
            let logger = Logger(label: "csworker.console")
            let data = ConsoleData(
                configuration: ConsoleData.Configuration(
                    databaseURL: try database.url(), policy: try policyOptions.load(), topics: topicOptions.topics,
                    group: groupOptions.group, brokers: brokers, kafkaProperties: try kafka.properties(), ssnKey: key),
                logger: logger)
            let server = ConsoleServer(
                configuration: ConsoleServer.Configuration(host: host, port: port, secureCookies: secure, trustForwardedFor: forwarded),
                data: data,
                users: usersFile, logger: logger,
                onListening: { port in logger.info("console listening", metadata: ["port": "\(port)", "host": "\(host)"]) })
            try await reportingFailures {
                let check = try connectDatabase(url: try database.url(), logger: logger)
                defer { check.close() }
                try requireCurrentSchema(check)
                let group = ServiceGroup(configuration: ServiceGroupConfiguration(
                    services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                try await group.run()
            }
        }
    }

    struct AddUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-user",
            abstract: "Add a console user (or set an existing user's password and role).",
            discussion: "The password is asked for without echo, or read from standard input's first line with --password-stdin. At least 12 characters."
        )

        @Argument(help: "The user's sign-in name (letters, digits, '.', '_', '-').")
        var name: String

        @Option(help: "viewer (reads every page) or operator (also replays dead letters).")
        var role: String

        @Flag(help: "Read the password from standard input's first line.")
        var passwordStdin = false

        @OptionGroup var users: UsersFileOptions
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            guard let role = ConsoleRole(rawValue: role) else { throw ValidationError("--role must be viewer or operator") }
            let password: String
            if passwordStdin {
                password = readLine(strippingNewline: true) ?? ""
            } else {
                guard isatty(STDIN_FILENO) != 0, let typed = getpass("Password for \(name): ") else {
                    throw ValidationError("no terminal to ask for the password on: pass --password-stdin")
                }
                password = String(cString: typed)
            }
            do {
                try users.file.add(name: name, role: role, password: password)
            } catch let problem as ConsoleUserFile.Problem {
                throw ValidationError(problem.description)
            }
            print("\(name) (\(role.rawValue)) saved in \(users.file.path)")
        }
    }

    struct RemoveUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove-user",
            abstract: "Remove a console user; their open sessions end within a minute."
        )

        @Argument(help: "The user's sign-in name.")
        var name: String

        @OptionGroup var users: UsersFileOptions
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            do {
                guard try users.file.remove(name: name) else { throw ValidationError("no user \(name) in \(users.file.path)") }
            } catch let problem as ConsoleUserFile.Problem {
                throw ValidationError(problem.description)
            }
            print("\(name) removed from \(users.file.path)")
        }
    }
}

/// `--users-file` (CSE_CONSOLE_USERS_FILE).
struct UsersFileOptions: ParsableArguments {
    @Option(name: .customLong("users-file"), help: ArgumentHelp(
        "The console's users: names, roles and scrypt password hashes (env CSE_CONSOLE_USERS_FILE, default console-users.json).",
        valueName: "path"))
    var path: String?

    var file: ConsoleUserFile { ConsoleUserFile(path: Setting.consoleUsersFile.text(flag: path)) }
}
