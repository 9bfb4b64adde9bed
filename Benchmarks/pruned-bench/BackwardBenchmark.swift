import ArgumentParser
import Dispatch
import Foundation
import PruneKit

/// Convolution forward and backward (input and weight gradients) on the shapes of issue 4,
/// and one training step (forward in training mode, cross-entropy, backward) of an example
/// model; best time of several runs. `Benchmarks/bench_backward.py` runs PyTorch beside it.
struct BackwardBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backward",
        abstract: "Time conv2d forward and backward on issue 4's shapes and one training step; best of --repeats."
    )

    @Option(help: "Batch size.")
    var batch: Int = 64

    @Option(help: "Runs per measurement (the best is reported).")
    var repeats: Int = 3

    @Flag(help: "Print one JSON object instead of text.")
    var json: Bool = false

    /// (name, C, H=W, M, kernel, group, stride)
    static let convs: [(String, Int, Int, Int, Int, Int, Int)] = [
        ("3x3 64->64 @32", 64, 32, 64, 3, 1, 1),
        ("3x3 128->128 @16", 128, 16, 128, 3, 1, 1),
        ("3x3 depthwise 128 @16", 128, 16, 128, 3, 128, 1),
        ("1x1 128->256 @16", 128, 16, 256, 1, 1, 1),
    ]

    func run() throws {
        var results: [[String: Any]] = []
        for (name, c, size, m, k, group, stride) in Self.convs {
            let x = random([batch, c, size, size], seed: 1)
            let w = random([m, c / group, k, k], seed: 2)
            let p = Conv2DParameters(strides: [stride, stride], pads: [k / 2, k / 2, k / 2, k / 2], group: group)
            let y = try conv2d(x, weight: w, bias: nil, p)
            let dy = random(y.shape, seed: 3)
            let forward = try best { _ = try conv2d(x, weight: w, bias: nil, p) }
            let backward = try best { _ = try conv2dBackward(x, weight: w, gradOutput: dy, p) }
            let flops = 2.0 * Double(y.count) * Double(c / group * k * k)
            results.append(["name": name, "forward_ms": forward * 1e3, "backward_ms": backward * 1e3,
                            "forward_gflops": flops / forward / 1e9, "backward_gflops": 2 * flops / backward / 1e9])
        }
        for arch in [ExampleArchitecture.resnet, .vgg] {
            let trainable = try TrainableGraph(arch.build(seed: 1, inputSize: 32))
            let output = trainable.graph.outputs[0].name
            let inputs = ["input": random([batch, 3, 32, 32], seed: 4)]
            let labels = (0..<batch).map { $0 % 10 }
            let state = trainable.initialState()
            var pass = try trainable.forward(inputs: inputs, state: state, mode: .training)
            let forward = try best { pass = try trainable.forward(inputs: inputs, state: state, mode: .training) }
            let seed = try softmaxCrossEntropy(logits: pass.outputs[output]!, labels: labels).gradient
            let backward = try best { _ = try trainable.backward(pass, seeds: [output: seed]) }
            results.append(["name": "train step \(arch.rawValue) 32x32", "forward_ms": forward * 1e3, "backward_ms": backward * 1e3])
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: ["batch": batch, "results": results], options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("batch \(batch), best of \(repeats)")
        for r in results {
            let line = String(format: "%-26@ forward %8.1f ms   backward %8.1f ms", r["name"] as! String,
                              r["forward_ms"] as! Double, r["backward_ms"] as! Double)
            print(line + ((r["forward_gflops"] as? Double).map { String(format: "   (%.1f / %.1f GFLOP/s)", $0, r["backward_gflops"] as! Double) } ?? ""))
        }
    }

    private func best(_ body: () throws -> Void) throws -> Double {
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.min()!
    }

    private func random(_ shape: [Int], seed: UInt64) -> NDArray<Float> {
        var g = Xoshiro256StarStar(seed: seed)
        return try! NDArray(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in Float(2 * g.nextDouble() - 1) })
    }
}
