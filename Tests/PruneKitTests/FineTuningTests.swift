import Foundation
import Testing
@testable import PruneKit

@Suite struct FineTuningTests {
    /// conv(3×3, bias) → BN → relu → GAP → flatten → linear, declared for batch 1; fc.weight in F16.
    static func tinyNet(classes: Int = 3, seed: UInt64 = 2) -> Graph {
        var b = GraphBuilder(name: "tiny", seed: seed)
        var h = b.input("input", shape: [1, 2, 4, 4])
        h = b.relu(b.batchNorm(b.conv(h, out: 4, kernel: 3, name: "conv"), name: "bn"))
        h = b.linear(b.flatten(b.globalAveragePool(h)), out: classes, name: "fc")
        b.output(h)
        var g = b.graph
        let w = g.initializers["fc.weight"]!
        g.setInitializer("fc.weight", Tensor(shape: w.shape, floats: w.floats(), dtype: .f16))
        return g
    }

    static func data(_ n: Int, labels: [Int], seed: UInt64 = 4) throws -> TrainingData {
        try TrainingData(input: Tensor(shape: [n, 2, 4, 4], floats: KernelFixtures.values(n * 32, seed: seed)),
                         labels: ["label": Tensor(shape: [n], int64s: labels.map(Int64.init))])
    }

    /// One epoch of one batch: the weights must be exactly one SGD step on the gradients the
    /// backward pass gives for that batch, and BN's running averages PyTorch's update.
    @Test func oneBatchIsOneSGDStepOnTheBackwardGradients() throws {
        let graph = Self.tinyNet()
        let labels = [0, 1, 2, 1, 0, 2]
        let data = try Self.data(6, labels: labels)
        var model = try ClassifierGraph(graph, sampleShape: data.sampleShape)
        let options = TrainingOptions(epochs: 1, learningRate: 0.5, batchSize: 6, momentum: 0.9, weightDecay: 0.01)
        let epochs = try FineTuning.train(&model, data: data, indices: Array(0..<6), target: .labels(labels, name: "label"), options: options)
        #expect(epochs.count == 1 && epochs[0].learningRate == 0)

        // Independently: the batch in the order training drew it, its gradients, one step by hand.
        let order = BatchOrder.shuffled(Array(0..<6), size: 6, seed: 0, epoch: 0)[0]
        let trainable = try TrainableGraph(ClassifierGraph(graph, sampleShape: data.sampleShape).graph)
        let state = trainable.initialState()
        let pass = try trainable.forward(inputs: ["input": data.inputs(order)], state: state, mode: .training)
        let logits = graph.outputs[0].name
        let (loss, seed) = try softmaxCrossEntropy(logits: pass.outputs[logits]!, labels: order.map { labels[$0] })
        #expect(abs(Double(loss) - epochs[0].loss) < 1e-5)
        let gradients = try trainable.backward(pass, seeds: [logits: seed])
        #expect(Set(trainable.parameterNames) == ["bn.bias", "bn.weight", "conv.bias", "conv.weight", "fc.bias", "fc.weight"])
        for name in trainable.parameterNames {
            let expected = zip(state[name]!.storage, gradients[name]!.storage).map { p, g in p - 0.5 * (g + 0.01 * p) }
            let got = model.graph.initializers[name]!
            let tolerance: Float = got.dtype == .f16 ? 2e-3 : 1e-5
            #expect(KernelFixtures.maxDifference(got.floats(), expected) < tolerance, "\(name)")
        }
        // Trained weights keep their file dtype.
        #expect(model.graph.initializers["fc.weight"]!.dtype == .f16)
        #expect(model.graph.initializers["conv.weight"]!.dtype == .f32)
        // running ← 0.9·running + 0.1·batch, the variance unbiased over N·H·W = 6·4·4.
        let stats = try #require(pass.batchStatistics.first)
        let n = Float(stats.count)
        let mean = zip(state["bn.running_mean"]!.storage, stats.mean.storage).map { 0.9 * $0 + 0.1 * $1 }
        let variance = zip(state["bn.running_var"]!.storage, stats.variance.storage).map { 0.9 * $0 + 0.1 * $1 * n / (n - 1) }
        #expect(KernelFixtures.maxDifference(model.graph.initializers["bn.running_mean"]!.floats(), mean) < 1e-6)
        #expect(KernelFixtures.maxDifference(model.graph.initializers["bn.running_var"]!.floats(), variance) < 1e-6)
    }

    /// Noise with a class signal: class 0 brightens channel 0, class 1 channel 1, class 2 darkens both.
    @Test func trainingFromScratchLearnsALearnableTask() throws {
        let n = 160
        var values = KernelFixtures.values(n * 32, seed: 21)
        let labels = (0..<n).map { $0 % 3 }
        for (s, label) in labels.enumerated() {
            for c in 0..<2 where label == 2 || label == c {
                for i in 0..<16 { values[s * 32 + c * 16 + i] += label == 2 ? -1 : 1 }
            }
        }
        let data = try TrainingData(input: Tensor(shape: [n, 2, 4, 4], floats: values), labels: ["label": Tensor(shape: [n], int64s: labels.map(Int64.init))])
        let loaded = LoadedModel(task: "tiny", format: .onnx, graph: Self.tinyNet(), metadata: [:])
        let options = TrainingOptions(epochs: 15, learningRate: 0.1, batchSize: 16, heldOutFraction: 0.2, seed: 5)
        let (graph, report) = try TrainingRun.run(loaded, data: data, options: options)
        #expect(report.heldOutSamples == 32 && report.trainingSamples == 128)
        #expect(report.epochs.count == 15)
        #expect(report.epochs.last!.loss < report.epochs.first!.loss * 0.7)
        #expect(report.after!.accuracy > 0.85, "\(report)")
        #expect(report.after!.accuracy > report.before!.accuracy + 0.3)
        // What was written scores what the report says (same split, same labels).
        let split = try DataSplit(count: n, heldOutFraction: 0.2, seed: 5)
        let written = try ClassifierGraph(graph, sampleShape: data.sampleShape)
        let rescored = try ClassifierScore.measure(written, data: data, indices: split.heldOut, labels: labels, labelName: "label", batchSize: 7)
        #expect(rescored.accuracy == report.after!.accuracy)
        #expect(abs(rescored.loss - report.after!.loss) < 1e-4)
        #expect(graph.inputs[0].shape == [.fixed(1), .fixed(2), .fixed(4), .fixed(4)])
    }

    /// Exports that end in a Softmax are scored and trained on the logits it normalizes.
    @Test func aFinalSoftmaxIsLookedThrough() throws {
        var graph = Self.tinyNet()
        let logits = graph.outputs[0].name
        graph.nodes.append(Node(name: "softmax", opType: "Softmax", inputs: [logits], outputs: ["probabilities"], attributes: [Attribute("axis", .int(1))]))
        graph.outputs = [ValueInfo(name: "probabilities", shape: nil)]
        let data = try Self.data(6, labels: [0, 1, 2, 1, 0, 2])
        let withSoftmax = try ClassifierGraph(graph, sampleShape: data.sampleShape)
        #expect(withSoftmax.logitsName == logits)
        let plain = try ClassifierGraph(Self.tinyNet(), sampleShape: data.sampleShape)
        let score = { (m: ClassifierGraph) in
            try ClassifierScore.measure(m, data: data, indices: Array(0..<6), labels: data.labels["label"]!, labelName: "label", batchSize: 4)
        }
        #expect(try score(withSoftmax) == score(plain))
        #expect(withSoftmax.exportable.outputs.map(\.name) == ["probabilities"])
    }

    @Test func trainingNeedsLabelsAndFitsLabelsToTheLogits() throws {
        let unlabelled = try TrainingData(input: Tensor(shape: [4, 2, 4, 4], floats: KernelFixtures.values(128, seed: 1)), labels: [:])
        let loaded = LoadedModel(task: "tiny", format: .onnx, graph: Self.tinyNet(), metadata: [:])
        #expect(throws: TrainingDataError.missingLabels(task: "tiny")) {
            try TrainingRun.run(loaded, data: unlabelled, options: TrainingOptions(epochs: 1))
        }
        let wide = try Self.data(4, labels: [0, 1, 7, 2])
        #expect(throws: TrainingDataError.labelOutOfRange(tensor: "label", sample: 2, value: 7, classes: 3)) {
            try TrainingRun.run(loaded, data: wide, options: TrainingOptions(epochs: 1, batchSize: 4, heldOutFraction: 0))
        }
        let wrongSize = try TrainingData(input: Tensor(shape: [4, 2, 5, 5], floats: KernelFixtures.values(200, seed: 1)), labels: [:])
        #expect(throws: TrainingDataError.inputMismatch(graphInput: "input", declared: [.fixed(1), .fixed(2), .fixed(4), .fixed(4)], sample: [2, 5, 5])) {
            try ClassifierGraph(Self.tinyNet(), sampleShape: wrongSize.sampleShape)
        }
    }
}
