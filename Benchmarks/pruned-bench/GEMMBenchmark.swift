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
            M = output channels, K = input channels × kernel area, N = output pixels. \
            weightgrad: the weight-gradient products of conv backward, one image each, \
            dW (M×N) = dY (M×K) · colᵀ: M = filters, N = input channels × kernel area, \
            K = output pixels; run them with --trans-b, as conv backward does. \
            --versus-plain times every shape a second time with neither operand \
            transposed and prints transposed ÷ plain: what the transposes cost.
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

    @Flag(help: "Also time each shape untransposed; print both and the ratio.")
    var versusPlain = false

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
        var ratios: [String] = []
        for shape in try cases() {
            let measured = measure(shape, transA: transA, transB: transB)
            results.append(measured)
            if versusPlain {
                var plain = measure(shape, transA: false, transB: false)
                plain.name += " (plain)"
                results.append(plain)
                ratios.append("\(shape.name.padding(toLength: 34, withPad: " ", startingAt: 0)) \(String(format: "%6.2f", measured.gflopsMedian / plain.gflopsMedian)) × plain (medians)")
            }
        }
        try printMeasurements(results, json: json)
        if !json, !ratios.isEmpty {
            print("\(transA ? "Aᵀ" : "A")·\(transB ? "Bᵀ" : "B") ÷ A·B:")
            for line in ratios { print(line) }
        }
    }

    private func measure(_ shape: GEMMShape, transA: Bool, transB: Bool) -> KernelMeasurement {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        let a = benchmarkValues(m * k, seed: 1)
        let b = benchmarkValues(k * n, seed: 2)
        var c = [Float](repeating: 0, count: m * n)
        let times = timeRuns(minimumSeconds: seconds) {
            gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, b: b, c: &c)
        }
        return KernelMeasurement(name: shape.name, shape: [m, n, k], flops: 2 * Double(m) * Double(n) * Double(k), times: times)
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
        // `pruned-bench backward`'s convs, and the digits ResNet of scripts/mfis_quality
        // (8×8 images; its first stage pruned at 0.3 keeps 11 of 16 filters).
        "weightgrad": [
            GEMMShape(name: "dW 3x3 64-64 @32", m: 64, n: 576, k: 1024),
            GEMMShape(name: "dW 3x3 128-128 @16", m: 128, n: 1152, k: 256),
            GEMMShape(name: "dW 1x1 128-256 @16", m: 256, n: 128, k: 256),
            GEMMShape(name: "dW 3x3 16-16 @8", m: 16, n: 144, k: 64),
            GEMMShape(name: "dW 3x3 11-11 @8", m: 11, n: 99, k: 64),
            GEMMShape(name: "dW 3x3 32-32 @4", m: 32, n: 288, k: 16),
            GEMMShape(name: "dW 3x3 64-64 @2", m: 64, n: 576, k: 4),
        ],
    ]
}
