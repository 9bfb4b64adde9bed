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
        graph.nodes[relu].opType = "ThresholdedRelu"
        let firstLine = Self.summary(graph).text.split(separator: "\n").first.map(String.init)
        #expect(firstLine?.hasSuffix("FLOPs unknown (from layer '\(graph.nodes[relu].label)' (ThresholdedRelu) on, no output shapes)") == true, "\(firstLine ?? "")")
    }

    @Test func aSymbolicInputShapeIsNamedAsTheReason() {
        var graph = ExampleArchitecture.vgg.build(seed: 1, inputSize: 12)
        graph.inputs[0].shape = [.fixed(1), .fixed(3), .symbolic("h"), .symbolic("w")]
        let firstLine = Self.summary(graph).text.split(separator: "\n").first.map(String.init)
        #expect(firstLine?.hasSuffix("FLOPs unknown (input 'input' has no fixed shape: [1, 3, h, w])") == true, "\(firstLine ?? "")")
    }

    /// A shape whose element count passes Int (or the inference bound) is refused where it is
    /// given, and left unknown where it comes from a file: counted, it would crash the process.
    @Test func anEnormousShapeIsRefusedOrUnknownNeverACrash() {
        var graph = ExampleArchitecture.vgg.build(seed: 1, inputSize: 12)
        guard case let .failure(problem) = InputShapeSpec.parse(["input=1x1x3037000499x3037000499"]) else {
            Issue.record("an overflowing shape parsed"); return
        }
        #expect(problem.message.contains("has more than"))
        let given = ModelSummary(LoadedModel(task: "net", format: .onnx, graph: graph, metadata: [:]), inputShapes: ["input": [1, 3, 3037000499, 3037000499]])
        #expect(given.stats.flops == nil)
        graph.inputs[0].shape = [.fixed(1), .fixed(3), .fixed(1 << 40), .fixed(1 << 40)]
        #expect(Self.summary(graph).stats.flops == nil)
    }

    /// A given shape must name a data input and agree with what the export fixed (past the batch).
    @Test func aGivenShapeIsCheckedAgainstTheDeclaredOne() {
        var graph = ExampleArchitecture.vgg.build(seed: 1, inputSize: 12)
        graph.inputs[0].shape = [.symbolic("n"), .fixed(3), .symbolic("h"), .symbolic("w")]
        #expect(InputShapeSpec.problem(["input": [4, 3, 12, 12]], for: graph, model: "net") == nil)
        #expect(InputShapeSpec.problem(["input": [1, 5, 12, 12]], for: graph, model: "net")?.message
            == "input shape 1x5x12x12 for 'input' of 'net' contradicts its declared shape [n, 3, h, w]")
        #expect(InputShapeSpec.problem(["input": [1, 3, 12]], for: graph, model: "net") != nil)
        #expect(InputShapeSpec.problem(["x": [1, 3, 12, 12]], for: graph, model: "net")?.message
            == "input shape given for 'x', which is not a graph input of 'net' (its inputs: input)")
        guard case let .failure(twice) = InputShapeSpec.parse(["input=1x3x8x8", " input = 1x3x4x4"]) else {
            Issue.record("a name given twice parsed"); return
        }
        #expect(twice.message == "'input' is given more than once")
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
