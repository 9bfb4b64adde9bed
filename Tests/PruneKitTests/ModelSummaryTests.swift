import Testing
@testable import PruneKit

/// `pruned inspect`'s text: when FLOPs cannot be counted it says why, not always "no input shape".
@Suite struct ModelSummaryTests {
    static func summary(_ graph: Graph) -> ModelSummary {
        ModelSummary(LoadedModel(task: "net", format: .onnx, graph: graph, metadata: [:]))
    }

    @Test func flopsOfAFixedInputShapeAreCounted() {
        let text = Self.summary(ExampleArchitecture.vgg.build(seed: 1, inputSize: 12)).text
        #expect(text.hasPrefix("net (onnx): ") && text.contains(" FLOPs per sample\n"))
    }

    @Test func anUnknownOpIsNamedAsWhereShapesStop() throws {
        var graph = ExampleArchitecture.vgg.build(seed: 1, inputSize: 12)
        let relu = try #require(graph.nodes.firstIndex { $0.opType == "Relu" })
        graph.nodes[relu].opType = "Mish"
        let firstLine = Self.summary(graph).text.split(separator: "\n").first.map(String.init)
        #expect(firstLine?.hasSuffix("FLOPs unknown (no output shape from layer '\(graph.nodes[relu].label)' (Mish) on)") == true, "\(firstLine ?? "")")
    }

    @Test func aSymbolicInputShapeIsNamedAsTheReason() {
        var graph = ExampleArchitecture.vgg.build(seed: 1, inputSize: 12)
        graph.inputs[0].shape = [.fixed(1), .fixed(3), .symbolic("h"), .symbolic("w")]
        let firstLine = Self.summary(graph).text.split(separator: "\n").first.map(String.init)
        #expect(firstLine?.hasSuffix("FLOPs unknown (input 'input' has no fixed shape: [1, 3, h, w])") == true, "\(firstLine ?? "")")
    }

    /// `inspect --input-shape`: given the shape, the symbolic model's FLOPs are the fixed one's.
    @Test func aGivenInputShapeCountsTheFlops() throws {
        let fixed = ExampleArchitecture.vgg.build(seed: 1, inputSize: 12)
        var graph = fixed
        graph.inputs[0].shape = [.fixed(1), .fixed(3), .symbolic("h"), .symbolic("w")]
        let given = ModelSummary(LoadedModel(task: "net", format: .onnx, graph: graph, metadata: [:]), inputShapes: ["input": [1, 3, 12, 12]])
        let flops = try #require(given.stats.flops)
        #expect(flops == Self.summary(fixed).stats.flops && given.flopsUnknown == nil)
    }
}
