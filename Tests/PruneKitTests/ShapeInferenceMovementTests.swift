import Testing
@testable import PruneKit

/// Transpose, Split and Slice of activations: shapes worked out by hand from the ONNX spec,
/// then checked against what the forward pass produces.
@Suite struct ShapeInferenceMovementTests {
    static func ints(_ v: [Int64]) -> Tensor { Tensor(shape: [v.count], int64s: v) }

    /// x [2, 6, 5, 4] → the op → its outputs, at `opset`.
    func shapes(_ op: String, opset: Int, inputs extra: [(String, Tensor)] = [], outputs: Int = 1,
                attributes: [Attribute] = []) -> [[Int]?] {
        var g = Graph(name: op)
        g.model.opsets = [Opset(domain: "", version: opset)]
        g.inputs = [ValueInfo(name: "x", elementType: .f32, shape: [2, 6, 5, 4].map { .fixed($0) })]
        for (name, t) in extra where !name.isEmpty { g.setInitializer(name, t) }
        let outs = (0..<outputs).map { "y\($0)" }
        g.nodes = [Node(name: "n", opType: op, inputs: ["x"] + extra.map(\.0), outputs: outs, attributes: attributes)]
        g.outputs = outs.map { ValueInfo(name: $0, shape: nil) }
        let inferred = ShapeInference(graph: g)
        return outs.map { inferred.shape($0) }
    }

    @Test func transposeByPermOrReversed() {
        #expect(shapes("Transpose", opset: 13, attributes: [Attribute("perm", .ints([0, 2, 3, 1]))]) == [[2, 5, 4, 6]])
        #expect(shapes("Transpose", opset: 13) == [[4, 5, 6, 2]])
        // Not a permutation: unknown rather than wrong.
        #expect(shapes("Transpose", opset: 13, attributes: [Attribute("perm", .ints([0, 1, 1, 2]))]) == [nil])
    }

    @Test func splitSizesInEveryOpsetsSpelling() {
        // Opset 11: the `split` attribute.
        #expect(shapes("Split", opset: 11, outputs: 2, attributes: [Attribute("axis", .int(1)), Attribute("split", .ints([2, 4]))])
                == [[2, 2, 5, 4], [2, 4, 5, 4]])
        // Opset 13: the `split` input; a negative axis counts from the end.
        #expect(shapes("Split", opset: 13, inputs: [("sizes", Self.ints([1, 3, 1]))], outputs: 3, attributes: [Attribute("axis", .int(-2))])
                == [[2, 6, 1, 4], [2, 6, 3, 4], [2, 6, 1, 4]])
        // No sizes: equal parts by output count (axis 0 by default).
        #expect(shapes("Split", opset: 13, outputs: 2) == [[1, 6, 5, 4], [1, 6, 5, 4]])
        #expect(shapes("Split", opset: 13, outputs: 3, attributes: [Attribute("axis", .int(1))]) == [[2, 2, 5, 4], [2, 2, 5, 4], [2, 2, 5, 4]])
        // Opset 18 num_outputs: parts of ⌈5 / 3⌉ = 2, the last one 5 − 4 = 1.
        #expect(shapes("Split", opset: 18, outputs: 3, attributes: [Attribute("axis", .int(2)), Attribute("num_outputs", .int(3))])
                == [[2, 6, 2, 4], [2, 6, 2, 4], [2, 6, 1, 4]])
        // Sizes that do not add up to the axis, or 6 channels in 4 equal parts: unknown.
        #expect(shapes("Split", opset: 13, inputs: [("sizes", Self.ints([2, 2]))], outputs: 2, attributes: [Attribute("axis", .int(1))]) == [nil, nil])
        #expect(shapes("Split", opset: 13, outputs: 4, attributes: [Attribute("axis", .int(1))]) == [nil, nil, nil, nil])
    }

    @Test func sliceOfAnActivation() {
        // Channels 1, 3 (step 2 from 1 up to 5); the last axis from −3 to the end: 3 of 4.
        #expect(shapes("Slice", opset: 13, inputs: [("s", Self.ints([1, -3])), ("e", Self.ints([5, Int64.max])),
                                                   ("a", Self.ints([1, 3])), ("t", Self.ints([2, 1]))]) == [[2, 2, 5, 3]])
        // Backwards over axis 2 from 4 down to (not including) 0: 4 elements.
        #expect(shapes("Slice", opset: 13, inputs: [("s", Self.ints([-1])), ("e", Self.ints([0])), ("a", Self.ints([2])),
                                                   ("t", Self.ints([-1]))]) == [[2, 6, 4, 4]])
        // Opset 9: attributes, axes omitted means 0, 1, ...
        #expect(shapes("Slice", opset: 9, attributes: [Attribute("starts", .ints([0, 2])), Attribute("ends", .ints([1, 100]))]) == [[1, 4, 5, 4]])
    }

    /// The same ops in one graph, against the interpreter's own output shapes; and the FLOPs
    /// of a conv behind them are known.
    @Test func agreesWithTheForwardPassAndCountsFLOPsThrough() throws {
        var b = GraphBuilder(name: "moves", seed: 3)
        let x = b.conv(b.input("input", shape: [2, 3, 6, 6]), out: 8, kernel: 3, name: "c1")
        let t = b.node("Transpose", [x], outputShape: [2, 6, 6, 8], attributes: [Attribute("perm", .ints([0, 2, 3, 1]))])
        let back = b.node("Transpose", [t], outputShape: [2, 8, 6, 6], attributes: [Attribute("perm", .ints([0, 3, 1, 2]))])
        var g = b.graph
        g.nodes.append(Node(name: "split", opType: "Split", inputs: [back, "sizes"], outputs: ["a", "b"], attributes: [Attribute("axis", .int(1))]))
        g.setInitializer("sizes", Self.ints([3, 5]))
        g.nodes.append(Node(name: "slice", opType: "Slice", inputs: ["b", "s", "e", "ax"], outputs: ["bs"]))
        g.setInitializer("s", Self.ints([1])); g.setInitializer("e", Self.ints([-1])); g.setInitializer("ax", Self.ints([-1]))
        g.setInitializer("w2", Tensor(shape: [4, 5, 1, 1], floats: Array(repeating: 0.5, count: 20)))
        g.nodes.append(Node(name: "c2", opType: "Conv", inputs: ["bs", "w2"], outputs: ["y"]))
        g.outputs = [ValueInfo(name: "a", shape: nil), ValueInfo(name: "y", shape: nil)]
        let inferred = ShapeInference(graph: g)
        #expect(inferred.shape("a") == [2, 3, 6, 6] && inferred.shape("b") == [2, 5, 6, 6])
        #expect(inferred.shape("y") == [2, 4, 6, 4])
        // c1: 8·6·6 outputs × 3·3·3 reads; c2: 4·6·4 outputs × 5 reads (per sample).
        #expect(ModelStats(graph: g, shapes: inferred).macs == 8 * 36 * 27 + 4 * 24 * 5)
        try ShapeInferenceTests().assertMatchesForward(g, input: [2, 3, 6, 6])
    }
}
