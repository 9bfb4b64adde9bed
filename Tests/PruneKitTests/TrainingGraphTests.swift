import Foundation
import Testing
@testable import PruneKit

@Suite struct TrainingGraphTests {
    static let batch = 3
    static let labels = [2, 7, 0]

    static func model(_ arch: ExampleArchitecture) -> Graph { arch.build(seed: 3, inputSize: 8) }
    static func images(_ n: Int = batch, seed: UInt64 = 9) -> [String: NDArray<Float>] {
        ["input": KernelFixtures.random([n, 3, 8, 8], seed: seed)]
    }

    /// Cross-entropy gradients of a sample of every parameter (2 elements each) against finite
    /// differences through the whole network: residual adds, concat branches, depthwise convs,
    /// BN over a batch of 3 (declared batch 1) in both modes.
    ///
    /// With ReLU the network is piecewise linear with thousands of kinks, and a central
    /// difference averages the derivative over every kink within its step: measured, the
    /// difference wanders by several percent for steps from 1e-2 down to where Float noise
    /// takes over. So the check runs with each ReLU replaced by GELU (smooth; ReLU's own rule
    /// is checked op by op).
    @Test(arguments: ExampleArchitecture.allCases, [ForwardMode.training, .inference])
    func parameterGradientsMatchFiniteDifferences(arch: ExampleArchitecture, mode: ForwardMode) throws {
        var graph = Self.model(arch)
        for i in graph.nodes.indices where graph.nodes[i].opType == "Relu" { graph.nodes[i].opType = "Gelu" }
        let trainable = try TrainableGraph(graph)
        let errors = try GraphGradientCheck.errors(trainable, inputs: Self.images(), mode: mode,
                                                   loss: GraphGradientCheck.crossEntropy(labels: Self.labels), samples: 2,
                                                   step: 1e-3, absolute: 5e-4, relative: 1e-2)
        let bad = errors.filter { $0.value > 1 }
        #expect(bad.isEmpty, "\(arch) \(mode): \(bad)")
    }

    /// Weights and biases of every layer and BN's scale and shift, never its running statistics.
    @Test func defaultParametersAreWeightsAndBiases() throws {
        let graph = Self.model(.resnet)
        let trainable = try TrainableGraph(graph)
        let floats = graph.initializers.filter { $0.value.dtype == .f32 }.keys
        let expected = floats.filter { !$0.hasSuffix("running_mean") && !$0.hasSuffix("running_var") }.sorted()
        #expect(trainable.parameterNames == expected)
        #expect(trainable.parameterNames.contains("layer2.0.downsample.1.weight"))
        #expect(Set(trainable.initialState().keys) == Set(floats))
    }

    @Test func inferenceForwardMatchesTheInterpreter() throws {
        let graph = Self.model(.concat).withBatch(1)
        let x = KernelFixtures.random([1, 3, 8, 8], seed: 4)
        let trainable = try TrainableGraph(graph)
        let pass = try trainable.forward(inputs: ["input": x], state: [:], mode: .inference)
        let expected = try Interpreter().run(graph, inputs: ["input": Tensor(x)])
        let name = graph.outputs[0].name
        #expect(pass.outputs[name]!.storage == NDArray<Float>(expected[name]!).storage)
        #expect(pass.batchStatistics.isEmpty)
    }

    /// Each BN reports its batch's per-channel mean and biased variance over N·H·W, which
    /// also normalize its output to mean β and variance γ² (up to epsilon).
    @Test func trainingModeReportsBatchStatistics() throws {
        let graph = Self.model(.vgg)
        let trainable = try TrainableGraph(graph)
        let bnInput = graph.nodes.first { $0.opType == "BatchNormalization" }!.inputs[0]
        let bnOutput = graph.nodes.first { $0.opType == "BatchNormalization" }!.outputs[0]
        let pass = try trainable.forward(inputs: Self.images(), state: [:], mode: .training,
                                         fetching: [bnInput, bnOutput, graph.outputs[0].name])
        #expect(pass.batchStatistics.map(\.node) == ["features.1", "features.5", "features.9"])
        let first = pass.batchStatistics[0]
        #expect(first.meanName == "features.1.running_mean" && first.varianceName == "features.1.running_var")
        #expect(first.count == Self.batch * 8 * 8)
        let x = pass.outputs[bnInput]!
        let y = pass.outputs[bnOutput]!
        for (array, c) in [(x, 0), (x, 5), (y, 3)] {
            let values = (0..<Self.batch).flatMap { n in (0..<64).map { Double(array.storage[(n * 16 + c) * 64 + $0]) } }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
            if array.storage == x.storage {
                #expect(abs(Double(first.mean.storage[c]) - mean) < 1e-5)
                #expect(abs(Double(first.variance.storage[c]) - variance) < 1e-5 * max(1, variance))
            } else {
                let gamma = Double(NDArray<Float>(graph.initializers["features.1.weight"]!).storage[c])
                let beta = Double(NDArray<Float>(graph.initializers["features.1.bias"]!).storage[c])
                #expect(abs(mean - beta) < 1e-4)
                #expect(abs(variance - gamma * gamma) < 1e-2 * gamma * gamma)
            }
        }
    }

    /// A behaviour check of the whole loop: plain SGD on gradients from the tape lowers the
    /// loss of a tiny fixed batch within a few steps.
    @Test(arguments: [ExampleArchitecture.resnet, .depthwise])
    func sgdStepsReduceTheLoss(arch: ExampleArchitecture) throws {
        let trainable = try TrainableGraph(Self.model(arch))
        let output = trainable.graph.outputs[0].name
        let inputs = Self.images(8, seed: 21)
        let labels = [0, 1, 2, 3, 4, 5, 6, 7]
        var state = trainable.initialState()
        var losses: [Float] = []
        for _ in 0..<6 {
            let pass = try trainable.forward(inputs: inputs, state: state, mode: .training)
            let (loss, gradient) = try softmaxCrossEntropy(logits: pass.outputs[output]!, labels: labels)
            losses.append(loss)
            let gradients = try trainable.backward(pass, seeds: [output: gradient])
            for name in trainable.parameterNames {
                state[name] = try NDArray(shape: state[name]!.shape,
                                          storage: zip(state[name]!.storage, gradients[name]!.storage).map { $0 - 0.2 * $1 })
            }
        }
        #expect(zip(losses, losses.dropFirst()).allSatisfy { $0 > $1 }, "\(losses)")
        #expect(losses.last! < 0.7 * losses.first!, "\(losses)")
    }

    /// `x.view(x.size(0), -1)` as PyTorch exports it between a conv and a linear layer: the
    /// shape subgraph runs on integers and stays off the tape; the gradient flows through the Reshape.
    @Test func shapeSubgraphIsEvaluatedNotDifferentiated() throws {
        var b = GraphBuilder(name: "view", seed: 5)
        let x = b.input("x", shape: [1, 2, 4, 4])
        let h = b.node("Tanh", [b.conv(x, out: 3, kernel: 3, stride: 2, name: "conv")], outputShape: [1, 3, 2, 2])
        let shape = b.node("Shape", [h], outputShape: [4])
        let batch = b.node("Gather", [shape, b.constant("zero", Tensor(shape: [], int64s: [0]))], outputShape: [],
                           attributes: [Attribute("axis", .int(0))])
        let batch1 = b.node("Unsqueeze", [batch, b.constant("axes", Tensor(shape: [1], int64s: [0]))], outputShape: [1])
        let target = b.node("Concat", [batch1, b.constant("minus1", Tensor(shape: [1], int64s: [-1]))], outputShape: [2],
                            attributes: [Attribute("axis", .int(0))])
        let flat = b.node("Reshape", [h, target], outputShape: [1, 12])
        b.output(b.linear(flat, out: 4, name: "fc"))
        let trainable = try TrainableGraph(b.graph)
        #expect(trainable.parameterNames == ["conv.bias", "conv.weight", "fc.bias", "fc.weight"])
        let inputs = ["x": KernelFixtures.random([3, 2, 4, 4], seed: 6)]
        let pass = try trainable.forward(inputs: inputs, state: [:], mode: .training)
        #expect(pass.tape.map { trainable.graph.nodes[$0.node].opType } == ["Conv", "Tanh", "Reshape", "Gemm"])
        let errors = try GraphGradientCheck.errors(trainable, inputs: inputs, mode: .training,
                                                   loss: GraphGradientCheck.crossEntropy(labels: [0, 3, 1]))
        #expect(errors.values.allSatisfy { $0 <= 1 }, "\(errors)")
    }

    @Test func residualGradientSumsBothPaths() throws {
        // y = relu-free x·w + x·w through two readers of the same value: dL/dw = 2·Σ r·x.
        var b = GraphBuilder(name: "twice", seed: 1)
        let x = b.input("x", shape: [2, 3])
        let w = b.constant("w", Tensor(shape: [3, 3], floats: [Float](repeating: 0.5, count: 9)))
        let h = b.node("MatMul", [x, w], outputShape: [2, 3])
        b.output(b.add(h, h))
        let trainable = try TrainableGraph(b.graph)
        let input = KernelFixtures.random([2, 3], seed: 2)
        let pass = try trainable.forward(inputs: ["x": input], state: [:], mode: .training)
        let r = KernelFixtures.random([2, 3], seed: 3)
        let dw = try trainable.backward(pass, seeds: [b.graph.outputs[0].name: r])["w"]!
        for i in 0..<3 {
            for j in 0..<3 {
                let expected = 2 * (0..<2).map { input.storage[$0 * 3 + i] * r.storage[$0 * 3 + j] }.reduce(0, +)
                #expect(abs(dw.storage[i * 3 + j] - expected) < 1e-5)
            }
        }
    }
}

extension Graph {
    /// The same graph with input 0 declared at batch size `n`.
    func withBatch(_ n: Int) -> Graph {
        var g = self
        if var shape = g.inputs[0].shape { shape[0] = .fixed(n); g.inputs[0].shape = shape }
        return g
    }
}
