// swift-tools-version:6.0
import PackageDescription

// Dependencies flow one way: pruned -> PruneService -> {HTTPServer, PruneKit}.
// HTTPServer and PruneKit never import each other (see ../shared/DESIGN.md).
// The kernels' SIMD16<Float> code needs AVX-512 to compile to 512-bit FMAs: at the baseline
// x86-64 target it becomes calls to fmaf, element by element. PruneKit (and the benchmark that
// times it) are built for `kernelCPU`; `pruned` itself stays at the baseline and refuses to
// start on a CPU without that level's features (Sources/pruned/CPUCheck.swift) instead of
// dying of SIGILL. "x86-64-v3" (AVX2 + FMA) builds for older CPUs, at about half the speed.
// See README, "CPU requirements".
let kernelCPU = "x86-64-v4"
#if arch(x86_64)
let kernelSettings: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=\(kernelCPU)"])]
let cpuCheckSettings: [SwiftSetting] = [.define(kernelCPU == "x86-64-v4" ? "KERNELS_X86_64_V4" : kernelCPU == "x86-64-v3" ? "KERNELS_X86_64_V3" : "KERNELS_BASELINE")]
#else
let kernelSettings: [SwiftSetting] = []
let cpuCheckSettings: [SwiftSetting] = []
#endif

let package = Package(
    name: "pruned",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pruned", targets: ["pruned"]),
        .library(name: "PruneKit", targets: ["PruneKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.28.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
    ],
    targets: [
        .target(
            name: "PruneKit",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Formats/ONNX/onnx.proto"],
            swiftSettings: kernelSettings
        ),
        // Jobs: store, queue, workers, routes; the one module that knows both the engine and HTTP.
        .target(
            name: "PruneService",
            dependencies: ["PruneKit", "HTTPServer", .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "pruned",
            dependencies: [
                "PruneKit",
                "PruneService",
                "HTTPServer",
                "CCPUFeatures",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: cpuCheckSettings
        ),
        .executableTarget(
            name: "pruned-bench",
            dependencies: [
                "PruneKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/pruned-bench",
            swiftSettings: kernelSettings
        ),
        .testTarget(name: "PruneKitTests", dependencies: ["PruneKit"]),
        // System libraries: zlib (gzip responses) and OpenSSL's libcrypto (SHA-256 ETags).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // epoll(7) from libc: a header, nothing to link.
        .systemLibrary(name: "CEpoll"),
        // CPUID and XGETBV: a header, for the start-up check of the CPU's features.
        .systemLibrary(name: "CCPUFeatures"),
        // Minimal HTTP/1.1 server on POSIX sockets and Dispatch; never imports PruneKit.
        .target(
            name: "HTTPServer",
            dependencies: [
                "CEpoll",
                "CZlib",
                "COpenSSL",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "PruneServiceTests", dependencies: ["PruneService", "PruneKit", "HTTPServer", "CZlib", .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "HTTPServerTests",
            dependencies: ["HTTPServer", "CZlib", .product(name: "Logging", package: "swift-log")]
        ),
    ]
)
