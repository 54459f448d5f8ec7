// swift-tools-version:6.2
import PackageDescription

// Dependencies point one way: TraceFormat ← TraceRecorder; TraceFormat ← TraceAnalysis ← TraceRendering ← canceltrace.
let package = Package(
    name: "CancelTrace",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TraceRecorder", targets: ["TraceRecorder"]),
        .library(name: "TraceFormat", targets: ["TraceFormat"]),
        .library(name: "TraceAnalysis", targets: ["TraceAnalysis"]),
        .executable(name: "canceltrace", targets: ["canceltrace"]),
        .executable(name: "canceltrace-bench", targets: ["canceltrace-bench"]),
        // `canceltrace run` preloads this into an unmodified Swift program (Docs/Run.md); found beside the CLI.
        .library(name: "CancelTracePreload", type: .dynamic, targets: ["CPreload"]),
        // The static check (Docs/Lint.md) is its own product so nothing else waits for swift-syntax to build.
        .library(name: "CancelLint", targets: ["CancelLint"]),
        .executable(name: "canceltrace-lint", targets: ["canceltrace-lint"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        .package(url: "https://github.com/swiftlang/swift-syntax", from: "603.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        .target(name: "TraceFormat", dependencies: ["CZlib"]),
        // The recorder's cheap event clock: the CPU's invariant cycle counter, calibrated against CLOCK_MONOTONIC.
        .target(name: "CCycleCounter"),
        .target(name: "TraceRecorder", dependencies: ["TraceFormat", "CCycleCounter"]),
        // The LD_PRELOAD recorder in C: no Swift in it, so it loads into any process without a second runtime.
        .target(
            name: "CPreload",
            cSettings: [.unsafeFlags(["-fno-omit-frame-pointer"])],
            linkerSettings: [.linkedLibrary("z"), .linkedLibrary("dl"), .linkedLibrary("pthread")]
        ),
        .target(
            name: "TraceAnalysis",
            dependencies: ["TraceFormat", .product(name: "Histogram", package: "hdrhistogram-swift")]
        ),
        .target(name: "TraceRendering", dependencies: ["TraceAnalysis", "TraceFormat", "CZlib"]),
        .target(name: "Samples", dependencies: ["TraceRecorder"], path: "Samples/Swift"),
        .executableTarget(
            name: "canceltrace",
            dependencies: [
                "TraceFormat", "TraceAnalysis", "TraceRendering", "TraceRecorder", "Samples",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // `canceltrace lint` (Docs/Lint.md): parses only, never type-checks; `canceltrace` execs the tool beside it.
        .target(
            name: "CancelLint",
            dependencies: [
                "TraceAnalysis", "TraceRendering",
                .product(name: "SwiftSyntax", package: "swift-syntax"),
                .product(name: "SwiftParser", package: "swift-syntax"),
            ]
        ),
        .executableTarget(
            name: "canceltrace-lint",
            dependencies: ["CancelLint", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Benchmarks (Docs/Performance.md): a plain executable with its own timing and an interposed malloc counter.
        .target(name: "MallocCounter", path: "Benchmarks/MallocCounter"),
        .executableTarget(
            name: "canceltrace-bench",
            dependencies: ["TraceRecorder", "TraceFormat", "TraceAnalysis", "TraceRendering", "MallocCounter", "CZlib", "CCycleCounter"],
            path: "Benchmarks/CancelTraceBench"
        ),
        // What the format's tests share: chunk offsets, CRC repair, hand-framed chunks, a seeded generator.
        .target(name: "TraceTestSupport", dependencies: ["TraceFormat"], path: "Tests/TraceTestSupport"),
        .testTarget(name: "TraceFormatTests", dependencies: ["TraceFormat", "TraceTestSupport"]),
        .testTarget(name: "TraceRecorderTests", dependencies: ["TraceRecorder", "TraceFormat", "Samples"]),
        .testTarget(name: "TraceAnalysisTests", dependencies: ["TraceAnalysis", "TraceFormat", "TraceTestSupport"]),
        .testTarget(name: "CancelLintTests", dependencies: ["CancelLint", "canceltrace-lint"], exclude: ["Fixtures"]),
        .testTarget(
            name: "TraceRenderingTests",
            dependencies: ["TraceRendering", "TraceAnalysis", "TraceFormat", "TraceRecorder", "Samples"],
            exclude: ["Goldens", "Fixtures"]
        ),
        // A traced child process that CancelTraceCLITests kills with SIGKILL to test crash recovery.
        .executableTarget(name: "canceltrace-crash-child", dependencies: ["TraceRecorder"], path: "Tests/CrashChild"),
        .testTarget(
            name: "CancelTraceCLITests",
            // canceltrace-lint: `check --source` runs it from beside canceltrace.
            dependencies: ["canceltrace", "canceltrace-lint", "canceltrace-crash-child", "TraceFormat", "TraceTestSupport"]
        ),
    ]
)
