import Foundation
import TraceFormat
#if canImport(Glibc)
import Glibc
#endif

/// Turns the `module+0xOFFSET` sites the preload library writes into `file:line (function)` and rewrites the
/// trace with them, after `canceltrace run`'s command has exited. Uses the toolchain's `llvm-symbolizer` (and
/// `swift-demangle` for names); without them, or without debug info, a site keeps its offset.
enum SiteSymbolizer {
    /// Rewrites `path` with symbolized sites. Returns how many distinct sites were symbolized (0: file untouched).
    static func symbolize(tracePath path: String) throws -> Int {
        guard let symbolizer = Toolchain.tool("llvm-symbolizer") else { return 0 }
        var locations: Set<String> = []
        let reader = try TraceReader(path: path)
        while let event = try reader.next() {
            if event.kind == .site { locations.insert(reader.strings[event.location]) }
        }
        var byModule: [String: [(location: String, offset: UInt64)]] = [:]
        for location in locations {
            guard let plus = location.range(of: "+0x", options: .backwards),
                  let offset = UInt64(location[plus.upperBound...], radix: 16), location.hasPrefix("/") else { continue }
            byModule[String(location[..<plus.lowerBound]), default: []].append((location, offset))
        }
        var names: [String: String] = [:]
        for (module, sites) in byModule {
            // A return address: look up the call instruction before it.
            let input = sites.map { "0x" + String($0.offset &- 1, radix: 16) }.joined(separator: "\n") + "\n"
            guard let output = run(symbolizer, ["--obj=\(module)", "--functions=linkage"], input: input) else { continue }
            let blocks = output.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            for (site, block) in zip(sites, blocks) {
                if let name = describe(block, module: module, offset: site.offset) { names[site.location] = name }
            }
        }
        guard !names.isEmpty else { return 0 }
        let demangled = demangle(Array(Set(names.values.compactMap(functionName))))
        try rewrite(path) { text in
            guard var name = names[text] else { return text }
            if let function = functionName(name), let readable = demangled[function] {
                name = name.replacingOccurrences(of: "(\(function))", with: "(\(readable))")
            }
            return name
        }
        return names.count
    }

    /// The first frame of an inlining chain (innermost first) that is the program's own code: `file:line (function)`;
    /// `module+0xOFFSET (function)` when the module has symbols but no line info.
    static func describe(_ block: String, module: String, offset: UInt64) -> String? {
        let lines = block.split(separator: "\n").map(String.init)
        var fallback: String?
        for index in stride(from: 0, to: lines.count - 1, by: 2) {
            let function = lines[index], place = lines[index + 1]
            if function == "??" || isWrapper(function) { continue }
            let parts = place.split(separator: ":")
            let file = parts.first.map(String.init) ?? "??"
            let line = parts.count > 1 ? String(parts[1]) : "0"
            // No line info: llvm-symbolizer names the object file and line 0.
            if file == "??" || line == "0" || file.contains("<compiler-generated>") || file.contains("/stdlib/") {
                if fallback == nil { fallback = "\((module as NSString).lastPathComponent)+0x\(String(offset, radix: 16)) (\(function))" }
                continue
            }
            return "\(shortPath(file)):\(line) (\(function))"
        }
        return fallback
    }

    /// Task.init, Task.detached, TaskGroup.addTask… emitted into the program: the site is their caller.
    static func isWrapper(_ function: String) -> Bool {
        ["$sScT", "$sScG", "$sScg"].contains { function.hasPrefix($0) } || function.contains("TaskGroupV")
    }

    private static func functionName(_ site: String) -> String? {
        guard site.hasSuffix(")"), let open = site.range(of: " (") else { return nil }
        return String(site[open.upperBound..<site.index(before: site.endIndex)])
    }

    private static func shortPath(_ file: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        return file.hasPrefix(cwd) ? String(file.dropFirst(cwd.count)) : file
    }

    /// Mangled name → `swift-demangle --simplified` form, for the names it can read.
    private static func demangle(_ names: [String]) -> [String: String] {
        guard !names.isEmpty, let tool = Toolchain.tool("swift-demangle"),
              let output = run(tool, ["--simplified", "--compact"], input: names.joined(separator: "\n") + "\n") else { return [:] }
        var result: [String: String] = [:]
        for (name, readable) in zip(names, output.split(separator: "\n", omittingEmptySubsequences: false)) where !readable.isEmpty {
            result[name] = String(readable)
        }
        return result
    }

    /// Copies the trace with every string field passed through `transform`; replaces the file at the end.
    private static func rewrite(_ path: String, transform: (String) -> String) throws {
        let reader = try TraceReader(path: path)
        let temporary = path + ".symbolizing"
        var builder = TraceBuilder(sink: try TraceFileWriter(path: temporary))
        do {
            while var event = try reader.next() {
                for (index, field) in event.kind.spec.fields.enumerated() where field.type == .string {
                    let id = builder.string(transform(reader.strings[event[field: index]]))
                    switch index {
                    case 0: event.fields.0 = id
                    case 1: event.fields.1 = id
                    case 2: event.fields.2 = id
                    default: event.fields.3 = id
                    }
                }
                try builder.append(event)
            }
            try builder.flush()
            builder.sink.close()
            guard rename(temporary, path) == 0 else { throw TraceWriteError.writeFailed(path: path, reason: String(cString: strerror(errno))) }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    /// Runs `tool` with `input` on stdin; its stdout, or nil when it fails.
    private static func run(_ tool: String, _ arguments: [String], input: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "LD_PRELOAD")
        process.environment = environment
        do { try process.run() } catch { return nil }
        let writer = Thread { [data = Data(input.utf8)] in
            stdin.fileHandleForWriting.write(data)
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? String(decoding: output, as: UTF8.self) : nil
    }
}

/// Tools of the Swift toolchain: on PATH, else beside the libswiftCore.so this process runs on.
enum Toolchain {
    static func tool(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        var folders = path.split(separator: ":").map(String.init)
        let maps = (try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8)) ?? ""
        if let line = maps.split(separator: "\n").first(where: { $0.hasSuffix("/libswiftCore.so") }),
           let slash = line.firstIndex(of: "/") {
            // <toolchain>/usr/lib/swift/linux/libswiftCore.so → <toolchain>/usr/bin
            var url = URL(fileURLWithPath: String(line[slash...]))
            for _ in 0..<4 { url.deleteLastPathComponent() }
            folders.append(url.appendingPathComponent("bin").path)
        }
        return folders.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
