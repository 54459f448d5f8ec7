import ArgumentParser
import Foundation
import TraceAnalysis
import TraceRendering

extension ColorMode: ExpressibleByArgument {}

/// The trace file every reading command takes.
struct InputOptions: ParsableArguments {
    @Argument(help: "The trace file (.ctrace) to read.", completion: .file(extensions: ["ctrace"]))
    var file: String
}

/// Whether text output is coloured.
struct ColorOptions: ParsableArguments {
    @Option(help: "Colour: auto (when stdout is a terminal and NO_COLOR is unset), always, never.")
    var color: ColorMode = .auto

    var style: Style {
        Style(enabled: color.resolved(isTerminal: isatty(STDOUT_FILENO) == 1, environment: ProcessInfo.processInfo.environment))
    }
}

/// Colour and width, for commands that draw timelines.
struct DisplayOptions: ParsableArguments {
    @OptionGroup var colors: ColorOptions

    @Option(help: "Output width in columns (default: the terminal's width, or 100).")
    var width: Int?

    func validate() throws {
        if let width, width < 50 || width > 1000 { throw ValidationError("--width must be between 50 and 1000") }
    }

    var style: Style { colors.style }

    var resolvedWidth: Int {
        if let width { return width }
        var size = winsize()
        if isatty(STDOUT_FILENO) == 1, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col >= 50 {
            return Int(size.ws_col)
        }
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns >= 50 { return columns }
        return 100
    }
}

/// The progress bar shown while a large trace is read.
struct ProgressOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Show no progress bar while reading (it only shows when stderr is a terminal).")
    var quiet = false

    /// A bar on stderr, or nil when quiet or stderr is not a terminal.
    func bar(for file: String) -> ProgressBar? {
        guard !quiet, isatty(STDERR_FILENO) == 1 else { return nil }
        var info = stat()
        guard stat(file, &info) == 0, info.st_size > 0 else { return nil }
        return ProgressBar(total: UInt64(info.st_size), label: (file as NSString).lastPathComponent) { text in
            StandardError.write(text)
        }
    }
}

/// Rule levels and thresholds, for commands that run the rules.
struct RuleOptions: ParsableArguments {
    @Option(name: .customLong("level"), parsing: .singleValue,
            help: ArgumentHelp("Set a rule's level: RULE=error|warning|note|off. Repeatable.", valueName: "rule=level"))
    var levels: [String] = []

    @Option(name: .customLong("threshold"), parsing: .singleValue,
            help: ArgumentHelp("Set a rule's threshold: RULE=DURATION, e.g. slow-cancellation=250ms (units ns, us, ms, s). Repeatable.",
                               valueName: "rule=duration"))
    var thresholds: [String] = []

    @Option(name: .customLong("allow"), parsing: .singleValue,
            help: ArgumentHelp("Accept a rule's findings about a task: [RULE=]TASK, TASK a name or creation site (`poller`, `fetch-*`, `App/Poller.swift:*`) or an id (`#7`); without RULE, every rule. Repeatable.",
                               valueName: "[rule=]task"))
    var allowed: [String] = []

    func configuration() throws -> RuleConfiguration {
        var configuration = RuleConfiguration()
        for setting in allowed {
            let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2, let rule = Rules.named(parts[0]) {
                guard !parts[1].isEmpty else { throw ValidationError("--allow \(setting): expected RULE=TASK") }
                configuration.suppressions.append(Suppression(rule: rule.id, task: parts[1]))
            } else {
                guard !setting.isEmpty else { throw ValidationError("--allow: expected [RULE=]TASK") }
                configuration.suppressions.append(Suppression(task: setting))
            }
        }
        for setting in levels {
            let (rule, value) = try Self.split(setting, option: "--level")
            switch value {
            case "off": configuration.levels[rule.id] = .some(nil)
            default:
                guard let level = Level(rawValue: value) else {
                    throw ValidationError("--level \(setting): level must be error, warning, note or off")
                }
                configuration.levels[rule.id] = level
            }
        }
        for setting in thresholds {
            let (rule, value) = try Self.split(setting, option: "--threshold")
            guard rule.defaultThreshold != nil else { throw ValidationError("--threshold \(setting): rule \(rule.id) has no threshold") }
            guard let duration = Self.parseDuration(value) else {
                throw ValidationError("--threshold \(setting): expected a duration such as 250ms, 1.5s, 800us")
            }
            configuration.thresholds[rule.id] = duration
        }
        return configuration
    }

    func validate() throws { _ = try configuration() }

    private static func split(_ setting: String, option: String) throws -> (any Rule, String) {
        let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw ValidationError("\(option) \(setting): expected RULE=VALUE") }
        guard let rule = Rules.named(parts[0]) else {
            throw ValidationError("\(option) \(setting): unknown rule \(parts[0]); known: \(Rules.all.map(\.id).joined(separator: ", "))")
        }
        return (rule, parts[1])
    }

    /// `250ms`, `1.5s`, `800us`, `100ns` → nanoseconds.
    static func parseDuration(_ text: String) -> UInt64? {
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count)), number >= 0, number * scale < 1.8e19 else { return nil }
            return UInt64((number * scale).rounded())
        }
        return nil
    }
}
