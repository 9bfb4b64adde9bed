import Testing
@testable import PruneKit

@Suite struct TrainingErrorTests {
    /// conv → custom op → output: the custom op sits between a parameter and the output.
    static func graphWithCustomOp(onPath: Bool) -> Graph {
        var b = GraphBuilder(name: "custom", seed: 1)
        let x = b.input("x", shape: [1, 2, 4, 4])
        let h = b.conv(x, out: 2, kernel: 3, name: "conv")
        let custom = b.node("FancyNorm", [onPath ? h : x], outputShape: [1, 2, 4, 4], domain: "com.example", name: "fancy")
        b.output(onPath ? custom : b.add(h, custom))
        return b.graph
    }

    @Test func unsupportedOpOnThePathIsNamed() {
        #expect(throws: TrainingError.unsupportedOp(node: "fancy", opType: "FancyNorm")) {
            try TrainableGraph(Self.graphWithCustomOp(onPath: true))
        }
        let message = TrainingError.unsupportedOp(node: "fancy", opType: "FancyNorm").description
        #expect(message.contains("fancy") && message.contains("FancyNorm"))
    }

    /// Reading only the input, the op carries no parameter's gradient: the graph is accepted
    /// (the forward then fails on it, naming it, because the interpreter cannot run it).
    @Test func unsupportedOpOffThePathIsAccepted() throws {
        let trainable = try TrainableGraph(Self.graphWithCustomOp(onPath: false))
        #expect(trainable.parameterNames == ["conv.bias", "conv.weight"])
        #expect(throws: ForwardError.unsupportedOp(node: "fancy", opType: "FancyNorm", domain: "com.example")) {
            try trainable.forward(inputs: ["x": KernelFixtures.random([1, 2, 4, 4], seed: 1)], state: [:], mode: .training)
        }
    }

    @Test func refusedParametersStateAndSeeds() throws {
        let graph = ExampleArchitecture.vgg.build(seed: 1, inputSize: 8)
        #expect(throws: TrainingError.notAParameter("nope")) { try TrainableGraph(graph, parameters: ["nope"]) }
        let trainable = try TrainableGraph(graph, parameters: ["classifier.2.bias"])
        #expect(trainable.parameterNames == ["classifier.2.bias"])
        let input = ["input": KernelFixtures.random([2, 3, 8, 8], seed: 2)]
        #expect(throws: TrainingError.unknownStateEntry("nope")) {
            try trainable.forward(inputs: input, state: ["nope": KernelFixtures.random([1], seed: 3)], mode: .training)
        }
        #expect(throws: TrainingError.stateShape(name: "classifier.2.bias", expected: [10], actual: [9])) {
            try trainable.forward(inputs: input, state: ["classifier.2.bias": KernelFixtures.random([9], seed: 3)], mode: .training)
        }
        #expect(throws: ForwardError.self) {
            try trainable.forward(inputs: ["input": KernelFixtures.random([2, 3, 9, 8], seed: 2)], state: [:], mode: .training)
        }
        let pass = try trainable.forward(inputs: input, state: [:], mode: .training)
        let output = graph.outputs[0].name
        #expect(throws: TrainingError.unknownSeed("nope")) { try trainable.backward(pass, seeds: ["nope": KernelFixtures.random([2, 10], seed: 4)]) }
        #expect(throws: TrainingError.seedShape(name: output, expected: [2, 10], actual: [1, 10])) {
            try trainable.backward(pass, seeds: [output: KernelFixtures.random([1, 10], seed: 4)])
        }
        // Only the named parameter is differentiated; the bias gradient of a linear layer is Σ over the batch of the seed.
        let seed = KernelFixtures.random([2, 10], seed: 5)
        let gradients = try trainable.backward(pass, seeds: [output: seed])
        #expect(Array(gradients.keys) == ["classifier.2.bias"])
        #expect(KernelFixtures.maxDifference(gradients["classifier.2.bias"]!.storage, (0..<10).map { seed.storage[$0] + seed.storage[10 + $0] }) < 1e-6)
    }

    @Test func unreachedParametersGetZeros() throws {
        let graph = ExampleArchitecture.resnet.build(seed: 1, inputSize: 8)
        let trainable = try TrainableGraph(graph)
        let stem = graph.nodes.first { $0.name == "bn1" }!.outputs[0]
        let pass = try trainable.forward(inputs: ["input": KernelFixtures.random([2, 3, 8, 8], seed: 2)], state: [:],
                                         mode: .training, fetching: [stem])
        let gradients = try trainable.backward(pass, seeds: [stem: KernelFixtures.random([2, 16, 8, 8], seed: 3)])
        #expect(gradients.count == trainable.parameterNames.count)
        #expect(gradients["fc.weight"]!.shape == [10, 32] && gradients["fc.weight"]!.storage.allSatisfy { $0 == 0 })
        #expect(gradients["conv1.weight"]!.storage.contains { $0 != 0 })
    }
}
