import ArgumentParser
import Foundation
import PruneKit

/// SGEMM throughput of PruneKit's `gemm` on square matrices and on the products ResNet-18's
/// convolutions reduce to.
struct GEMMBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Time C = A·B (float32) on squares and ResNet-18 conv shapes; print GFLOP/s.",
        discussion: """
            resnet18: the im2col products of ResNet-18's convolutions at batch 1, 224×224: \
            M = output channels, K = input channels × kernel area, N = output pixels.
            """
    )

    @Option(help: "Shape sets: squares, resnet18, or both (comma-separated).")
    var shapes: String = "squares,resnet18"

    @Option(name: .customLong("shape"), help: "Extra shape MxNxK (repeatable).")
    var extra: [String] = []

    @Flag(help: "A is given transposed (stored K×M).")
    var transA = false

    @Flag(help: "B is given transposed (stored N×K).")
    var transB = false

    @Option(help: "Seconds to time each shape for (after one warm-up run).")
    var seconds: Double = 0.5

    @Flag(help: "Print one JSON array instead of text.")
    var json = false

    func validate() throws {
        _ = try cases()
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
    }

    func cases() throws -> [GEMMShape] {
        var list: [GEMMShape] = []
        for set in shapes.split(separator: ",") {
            guard let shapes = GEMMShape.sets[String(set)] else {
                throw ValidationError("unknown shape set '\(set)'; expected \(GEMMShape.sets.keys.sorted().joined(separator: ", "))")
            }
            list += shapes
        }
        for text in extra {
            let parts = text.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 3, parts.allSatisfy({ $0 > 0 }) else { throw ValidationError("bad --shape '\(text)': expected MxNxK") }
            list.append(GEMMShape(name: "\(parts[0])x\(parts[1])x\(parts[2])", m: parts[0], n: parts[1], k: parts[2]))
        }
        return list
    }

    func run() throws {
        var results: [KernelMeasurement] = []
        for shape in try cases() {
            let (m, n, k) = (shape.m, shape.n, shape.k)
            let a = benchmarkValues(m * k, seed: 1)
            let b = benchmarkValues(k * n, seed: 2)
            var c = [Float](repeating: 0, count: m * n)
            let times = timeRuns(minimumSeconds: seconds) {
                gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, b: b, c: &c)
            }
            results.append(KernelMeasurement(name: shape.name, shape: [m, n, k], flops: 2 * Double(m) * Double(n) * Double(k), times: times))
        }
        try printMeasurements(results, json: json)
    }
}

/// C (M×N) = A (M×K) · B (K×N).
struct GEMMShape {
    var name: String
    var m: Int, n: Int, k: Int

    static let sets: [String: [GEMMShape]] = [
        "squares": [512, 1024, 2048].map { GEMMShape(name: "square \($0)", m: $0, n: $0, k: $0) },
        "resnet18": [
            GEMMShape(name: "conv1 7x7/2 3-64 @112", m: 64, n: 12544, k: 147),
            GEMMShape(name: "layer1 3x3 64-64 @56", m: 64, n: 3136, k: 576),
            GEMMShape(name: "layer2.0 3x3/2 64-128 @28", m: 128, n: 784, k: 576),
            GEMMShape(name: "layer2 3x3 128-128 @28", m: 128, n: 784, k: 1152),
            GEMMShape(name: "layer2 down 1x1/2 64-128", m: 128, n: 784, k: 64),
            GEMMShape(name: "layer3.0 3x3/2 128-256 @14", m: 256, n: 196, k: 1152),
            GEMMShape(name: "layer3 3x3 256-256 @14", m: 256, n: 196, k: 2304),
            GEMMShape(name: "layer3 down 1x1/2 128-256", m: 256, n: 196, k: 128),
            GEMMShape(name: "layer4.0 3x3/2 256-512 @7", m: 512, n: 49, k: 2304),
            GEMMShape(name: "layer4 3x3 512-512 @7", m: 512, n: 49, k: 4608),
            GEMMShape(name: "layer4 down 1x1/2 256-512", m: 512, n: 49, k: 256),
        ],
    ]
}
