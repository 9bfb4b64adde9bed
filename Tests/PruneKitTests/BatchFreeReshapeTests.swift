import Foundation
import Testing
@testable import PruneKit

/// A batch-1 export that flattens with a constant `Reshape` to `[1, 48]` (as torch's dynamo
/// exporter writes it) still runs mini-batches, and is written back with its own target.
@Suite struct BatchFreeReshapeTests {
    static func net() -> Graph {
        let weight = Tensor(shape: [3, 3, 1, 1], floats: [1, 0, 0, 0, 2, 0, 0, 0, -1])
        let fc = Tensor(shape: [2, 48], floats: (0..<96).map { Float($0 % 5) - 2 })
        return Graph(
            name: "flat",
            nodes: [
                Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["c"]),
                // allowzero = 1, as the dynamo exporter writes it: a 0 in the target would be literal.
                Node(name: "flatten", opType: "Reshape", inputs: ["c", "target"], outputs: ["f"], attributes: [Attribute("allowzero", .int(1))]),
                Node(name: "fc", opType: "Gemm", inputs: ["f", "fc.w"], outputs: ["logits"], attributes: [Attribute("transB", .int(1))]),
                // A second reader of the same target whose leading 1 is not a batch: left alone.
                Node(name: "other", opType: "Reshape", inputs: ["fc.w", "target2"], outputs: ["r"]),
            ],
            initializers: [("w", weight), ("target", Tensor(shape: [2], int64s: [1, 48])), ("fc.w", fc),
                           ("target2", Tensor(shape: [2], int64s: [1, 96]))],
            inputs: [ValueInfo(name: "x", shape: [.fixed(1), .fixed(3), .fixed(4), .fixed(4)])],
            outputs: [ValueInfo(name: "logits", shape: [.fixed(1), .fixed(2)])])
    }

    @Test func miniBatchesRunAndEachSampleMatchesItsBatchOneResult() throws {
        let graph = Self.net()
        let model = try ClassifierGraph(graph, sampleShape: [3, 4, 4])
        let batch = try NDArray(shape: [5, 3, 4, 4], storage: (0..<240).map { Float(($0 * 37) % 11) - 5 })
        let logits = try model.logits(batch)
        #expect(logits.shape == [5, 2])
        for n in 0..<5 {
            let one = try NDArray(shape: [1, 3, 4, 4], storage: Array(batch.storage[(n * 48)..<((n + 1) * 48)]))
            let alone = try Interpreter().run(graph, inputs: ["x": Tensor(one)])["logits"]!.floats()
            #expect(Array(logits.storage[(n * 2)..<(n * 2 + 2)]) == alone)
        }
        // Without the rewrite, the same batch fails in the Reshape.
        var fixed = graph
        fixed.inputs[0].shape = [.symbolic("batch"), .fixed(3), .fixed(4), .fixed(4)]
        #expect(throws: ForwardError.self) { try Interpreter().run(fixed, inputs: ["x": Tensor(batch)]) }
    }

    @Test func theWrittenModelKeepsItsOwnTargets() throws {
        let graph = Self.net()
        let model = try ClassifierGraph(graph, sampleShape: [3, 4, 4])
        #expect(model.graph.nodes[1].inputs[1] != "target")
        #expect(model.graph.nodes[3].inputs[1] == "target2")
        let written = model.exportable
        #expect(written.nodes == graph.nodes)
        #expect(Set(written.initializers.keys) == Set(graph.initializers.keys))
    }

    /// `as_strided` (Reshape [-1], Gather of 0..<n in the batch-1 shape) runs as an Identity in
    /// mini-batches, and is written back as it was.
    @Test func asStridedGatherRunsMiniBatches() throws {
        let graph = ChannelsLastTests.pooledNorm(asStrided: true)
        let output = graph.outputs[0].name
        let model = try ClassifierGraph(graph, sampleShape: [3, 6, 6])
        let batch = try NDArray(shape: [3, 3, 6, 6], storage: KernelFixtures.values(324, seed: 4))
        let logits = try model.logits(batch)
        #expect(logits.shape == [3, 3])
        for n in 0..<3 {
            let one = try NDArray(shape: [1, 3, 6, 6], storage: Array(batch.storage[(n * 108)..<((n + 1) * 108)]))
            let alone = try Interpreter().run(graph, inputs: ["input": Tensor(one)])[output]!.floats()
            #expect(KernelFixtures.maxDifference(Array(logits.storage[(n * 3)..<(n * 3 + 3)]), alone) <= 1e-5)
        }
        #expect(model.graph.nodes.contains { $0.name == "gather" && $0.opType == "Identity" })
        #expect(model.exportable.nodes == graph.nodes)
    }
}
