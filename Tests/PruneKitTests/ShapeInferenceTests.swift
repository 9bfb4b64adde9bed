import Testing
@testable import PruneKit

/// Static shapes checked against the shapes the forward pass really produces.
@Suite struct ShapeInferenceTests {
    func assertMatchesForward(_ g: Graph, input: [Int]) throws {
        let inferred = ShapeInference(graph: g)
        let values = g.nodes.flatMap(\.outputs).filter { !$0.isEmpty }
        var rng = Xoshiro256StarStar(seed: 1)
        let x = Tensor(shape: input, floats: (0..<input.reduce(1, *)).map { _ in Float(rng.nextDouble()) })
        let actual = try Interpreter().run(g, inputs: [g.dataInputs[0].name: x], fetching: values)
        for v in values {
            #expect(inferred.shape(v) == actual[v]?.shape, "\(v)")
        }
    }

    @Test(arguments: ExampleArchitecture.allCases)
    func exampleModels(arch: ExampleArchitecture) throws {
        try assertMatchesForward(arch.build(inputSize: 24), input: [1, 3, 24, 24])
    }

    @Test func autoPadCeilModeMatMulSoftmaxAndATorchStyleReshape() throws {
        var b = GraphBuilder(name: "mixed", seed: 2)
        let h = b.conv(b.input("x", shape: [2, 3, 11, 11]), out: 4, kernel: 3, stride: 2, name: "c")
        var g = b.graph
        g.nodes[g.nodes.count - 1][attribute: "pads"] = nil
        g.nodes[g.nodes.count - 1][attribute: "auto_pad"] = .string("SAME_UPPER")
        // MaxPool with ceil_mode, then x.view(x.size(0), -1) as PyTorch exports it.
        let pool = Node(name: "pool", opType: "MaxPool", inputs: [h], outputs: ["pooled"], attributes: [
            Attribute("kernel_shape", .ints([2, 2])), Attribute("strides", .ints([2, 2])), Attribute("ceil_mode", .int(1))])
        let shape = Node(name: "shape", opType: "Shape", inputs: ["pooled"], outputs: ["s"])
        let gather = Node(name: "gather", opType: "Gather", inputs: ["s", "zero"], outputs: ["n"], attributes: [Attribute("axis", .int(0))])
        let unsq = Node(name: "unsq", opType: "Unsqueeze", inputs: ["n", "axes0"], outputs: ["n1"])
        let cat = Node(name: "cat", opType: "Concat", inputs: ["n1", "minus1"], outputs: ["target"], attributes: [Attribute("axis", .int(0))])
        let reshape = Node(name: "reshape", opType: "Reshape", inputs: ["pooled", "target"], outputs: ["flat"])
        let matmul = Node(name: "mm", opType: "MatMul", inputs: ["flat", "w"], outputs: ["logits"])
        let softmax = Node(name: "sm", opType: "Softmax", inputs: ["logits"], outputs: ["p"], attributes: [Attribute("axis", .int(-1))])
        g.nodes += [pool, shape, gather, unsq, cat, reshape, matmul, softmax]
        g.setInitializer("zero", Tensor(shape: [], int64s: [0]))
        g.setInitializer("axes0", Tensor(shape: [1], int64s: [0]))
        g.setInitializer("minus1", Tensor(shape: [1], int64s: [-1]))
        g.setInitializer("w", Tensor(shape: [36, 5], floats: Array(repeating: 0.1, count: 180)))
        g.outputs = [ValueInfo(name: "p", shape: nil)]
        let inferred = ShapeInference(graph: g)
        // SAME_UPPER stride 2 on 11 → 6; ceil-mode pool 6 → 3; 4·3·3 = 36 features.
        #expect(inferred.shape("pooled") == [2, 4, 3, 3])
        #expect(inferred.constants["target"] == [2, -1])
        #expect(inferred.shape("p") == [2, 5])
        try assertMatchesForward(g, input: [2, 3, 11, 11])
    }
}
