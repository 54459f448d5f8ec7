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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
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
        // Benchmarks (Docs/Performance.md): a plain executable with its own timing and an interposed malloc counter.
        .target(name: "MallocCounter", path: "Benchmarks/MallocCounter"),
        .executableTarget(
            name: "canceltrace-bench",
            dependencies: ["TraceRecorder", "TraceFormat", "TraceAnalysis", "TraceRendering", "MallocCounter", "CZlib", "CCycleCounter"],
            path: "Benchmarks/CancelTraceBench"
        ),
        .testTarget(name: "TraceFormatTests", dependencies: ["TraceFormat"]),
        .testTarget(name: "TraceRecorderTests", dependencies: ["TraceRecorder", "TraceFormat", "Samples"]),
        .testTarget(name: "TraceAnalysisTests", dependencies: ["TraceAnalysis", "TraceFormat"]),
        .testTarget(
            name: "TraceRenderingTests",
            dependencies: ["TraceRendering", "TraceAnalysis", "TraceFormat", "TraceRecorder", "Samples"],
            exclude: ["Goldens", "Fixtures"]
        ),
        // A traced child process that CancelTraceCLITests kills with SIGKILL to test crash recovery.
        .executableTarget(name: "canceltrace-crash-child", dependencies: ["TraceRecorder"], path: "Tests/CrashChild"),
        .testTarget(name: "CancelTraceCLITests", dependencies: ["canceltrace", "canceltrace-crash-child", "TraceFormat"]),
    ]
)
