import ArgumentParser
import Foundation
import PruneKit

/// conv2d throughput on the layer shapes of issue 4 (batch 64): the figures to set beside
/// PyTorch's (Benchmarks/bench_kernels.py runs both).
struct ConvBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "Time conv2d forward (float32, NCHW) on typical layer shapes; print GFLOP/s.",
        discussion: """
            FLOPs are 2 × N × M × (C/group) × kH × kW × oH × oW, the multiply-adds of the \
            definition (the same count for PyTorch), whatever the algorithm.
            """
    )

    /// What is timed. Only the forward pass exists so far; conv backward (branch `backprop`)
    /// adds a `.forwardBackward` case timing forward + input and weight gradients here.
    enum Pass: String, ExpressibleByArgument, CaseIterable {
        case forward
    }

    @Option(help: "Pass to time: \(Pass.allCases.map(\.rawValue).joined(separator: ", ")).")
    var pass: Pass = .forward

    @Option(help: "Images per batch.")
    var batch: Int = 64

    @Option(help: "Only the cases whose name contains this text.")
    var only: String?

    @Option(help: "Seconds to time each case for (after one warm-up run).")
    var seconds: Double = 1

    @Flag(help: "Print one JSON array instead of text.")
    var json = false

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
    }

    func run() throws {
        var results: [KernelMeasurement] = []
        for layer in ConvLayer.cases where only.map({ layer.name.contains($0) }) ?? true {
            let x = try NDArray(shape: [batch, layer.channels, layer.size, layer.size],
                                storage: benchmarkValues(batch * layer.channels * layer.size * layer.size, seed: 1))
            let w = try NDArray(shape: [layer.filters, layer.channels / layer.group, layer.kernel, layer.kernel],
                                storage: benchmarkValues(layer.filters * layer.channels / layer.group * layer.kernel * layer.kernel, seed: 2))
            let b = try NDArray(shape: [layer.filters], storage: benchmarkValues(layer.filters, seed: 3))
            let pad = layer.kernel / 2
            let p = Conv2DParameters(strides: [layer.stride, layer.stride], pads: [pad, pad, pad, pad], group: layer.group)
            var failure: (any Error)?
            let times: [Double]
            switch pass {
            case .forward:
                times = timeRuns(minimumSeconds: seconds) {
                    do { _ = try conv2d(x, weight: w, bias: b, p) } catch { failure = error }
                }
            }
            if let failure { throw failure }
            let out = (layer.size + 2 * pad - layer.kernel) / layer.stride + 1
            let flops = 2.0 * Double(batch * layer.filters * layer.channels / layer.group * layer.kernel * layer.kernel * out * out)
            let shape = [batch, layer.channels, layer.size, layer.size, layer.filters, layer.kernel, layer.stride, layer.group]
            results.append(KernelMeasurement(name: layer.name, shape: shape, flops: flops, times: times))
        }
        try printMeasurements(results, json: json)
    }
}

/// One conv layer: square input and kernel, pad = kernel / 2 (shape-preserving at stride 1).
struct ConvLayer {
    var name: String
    var channels: Int, filters: Int, size: Int, kernel: Int
    var stride = 1
    var group = 1

    static let cases = [
        ConvLayer(name: "3x3 64-64 @32", channels: 64, filters: 64, size: 32, kernel: 3),
        ConvLayer(name: "3x3 128-128 @16", channels: 128, filters: 128, size: 16, kernel: 3),
        ConvLayer(name: "depthwise 3x3 128 @16", channels: 128, filters: 128, size: 16, kernel: 3, group: 128),
        ConvLayer(name: "1x1 128-256 @16", channels: 128, filters: 256, size: 16, kernel: 1),
    ]
}
