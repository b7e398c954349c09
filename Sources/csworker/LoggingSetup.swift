import ArgumentParser
import Foundation
import Logging
import Synchronization

/// `--log-level` and `--log-format` on every command. Logging is set up
/// before the command line is parsed (so the libraries' loggers honour it
/// too): `CSWorker.main` reads these two flags itself; declaring them here
/// makes every command accept them and list them in its help.
struct LoggingOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error (env CSE_LOG_LEVEL, default info).")
    var levelFlag: String?

    @Option(name: .customLong("log-format"), help: "json or text (env CSE_LOG_FORMAT; default text on a terminal, else json).")
    var formatFlag: String?

    /// The value of `--name value` or `--name=value` in `arguments`, the last one given.
    static func scan(_ name: String, in arguments: [String]) -> String? {
        var found: String?
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            if argument == "--" { break }
            if argument == "--\(name)", index + 1 < arguments.endIndex {
                found = arguments[index + 1]
                index += 1
            } else if argument.hasPrefix("--\(name)=") {
                found = String(argument.dropFirst(name.count + 3))
            }
            index += 1
        }
        return found
    }
}

/// CSE_LOG_LEVEL and CSE_LOG_FORMAT (or their flags), applied to every command before it runs.
struct LoggingSettings: Equatable {
    enum Format: String, CaseIterable { case json, text }

    var level: Logger.Level
    var format: Format

    /// Invalid values are configuration errors naming the setting (exit 64),
    /// not silently replaced: an operator who asked for debug logs should know
    /// they are not getting them.
    static func fromEnvironment(
        _ environment: [String: String], arguments: [String] = [], stderrIsTerminal: Bool
    ) throws -> LoggingSettings {
        var settings = LoggingSettings(level: .info, format: stderrIsTerminal ? .text : .json)
        let levelFlag = LoggingOptions.scan(Setting.logLevel.flag, in: arguments)
        if let text = Setting.logLevel.resolve(flag: levelFlag, environment: environment).value {
            guard let level = Logger.Level(rawValue: text.lowercased()) else {
                throw ValidationError(
                    "CSE_LOG_LEVEL / --log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'")
            }
            settings.level = level
        }
        let formatFlag = LoggingOptions.scan(Setting.logFormat.flag, in: arguments)
        if let text = Setting.logFormat.resolve(flag: formatFlag, environment: environment).value {
            guard let format = Format(rawValue: text.lowercased()) else {
                throw ValidationError("CSE_LOG_FORMAT / --log-format must be json or text, not '\(text)'")
            }
            settings.format = format
        }
        return settings
    }

    /// This process's settings: its environment, command line and stderr.
    static func ofThisProcess() throws -> LoggingSettings {
        try fromEnvironment(
            ProcessInfo.processInfo.environment, arguments: Array(CommandLine.arguments.dropFirst()),
            stderrIsTerminal: isatty(STDERR_FILENO) != 0)
    }

    func bootstrap() {
        let level = self.level
        switch format {
        case .json:
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}

extension CSWorker {
    /// Logging is configured before ArgumentParser runs the command, so every
    /// command's loggers (and the libraries') honour the settings.
    static func main() async {
        do {
            try LoggingSettings.ofThisProcess().bootstrap()
        } catch {
            printError("csworker: \(error)")
            Foundation.exit(ServiceExit.usage.rawValue)
        }
        await main(nil)
    }
}

/// One JSON object per line on stderr: timestamp (UTC, milliseconds), level,
/// label, message, and the metadata as string fields. Messages and metadata
/// are written as given: masking identifiers is the callers' job (SSNs mask
/// themselves), so this handler adds no second source of truth.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider

    /// Whole lines only: records from several threads never interleave.
    private static let output = Mutex(())

    init(label: String) {
        self.label = label
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let line = Self.line(
            timestamp: Date(), level: event.level, label: label, message: event.message.description, metadata: merged)
        Self.output.withLock { _ in
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    static func line(
        timestamp: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata
    ) -> String {
        var out = "{\"timestamp\":"
        appendQuoted(timestamp.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)), to: &out)
        out += ",\"level\":"
        appendQuoted(level.rawValue, to: &out)
        out += ",\"label\":"
        appendQuoted(label, to: &out)
        out += ",\"message\":"
        appendQuoted(message, to: &out)
        out += ",\"metadata\":{"
        for (index, key) in metadata.keys.sorted().enumerated() {
            if index > 0 { out += "," }
            appendQuoted(key, to: &out)
            out += ":"
            appendQuoted(metadata[key]!.description, to: &out)
        }
        out += "}}\n"
        return out
    }

    /// RFC 8259 string: quotes, backslashes and control characters escaped.
    static func appendQuoted(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
