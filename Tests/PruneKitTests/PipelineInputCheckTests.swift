import Foundation
import Testing
@testable import PruneKit

/// What the pipeline checks of its inputs before any work, each error saying what to change.
@Suite struct PipelineInputCheckTests {
    static func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("input-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// `--input-shape NAME=...` for a name that is no graph input (a typo) is an error naming
    /// the model's inputs, not a shape silently left unused.
    @Test func anInputShapeForNoGraphInputIsAnError() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("net.onnx")
        let graph = ExampleArchitecture.vgg.build(seed: 1, inputSize: 12)
        try ModelFile.write(graph, format: .onnx, to: model)
        let input = try #require(graph.dataInputs.first?.name)
        let typo = PruningPipeline.Options(rate: 0.5, inputShapes: ["\(input)s": [1, 3, 12, 12]])
        let error = #expect(throws: PruningPipeline.Failure.self) {
            try PruningPipeline(options: typo).run(models: [model], outputDirectory: dir.appendingPathComponent("typo"))
        }
        #expect(error?.message == "input shape given for '\(input)s', which is not a graph input of 'net' (its inputs: \(input))")
        let right = PruningPipeline.Options(rate: 0.5, inputShapes: [input: [1, 3, 12, 12]])
        #expect(throws: Never.self) { try PruningPipeline(options: right).run(models: [model], outputDirectory: dir.appendingPathComponent("ok")) }
    }

    /// An ONNX model and a state_dict never line up node for node (the state_dict's layer chain
    /// is not the exported graph), even of one backbone: the error says to send one format.
    @Test func taskModelsInBothFormatsAreRefused() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let graph = ExampleArchitecture.vgg.build(seed: 1, inputSize: 12)
        let onnx = dir.appendingPathComponent("a.onnx"), state = dir.appendingPathComponent("b.safetensors")
        try ModelFile.write(graph, format: .onnx, to: onnx)
        try ModelFile.write(graph, format: .safetensors, to: state)
        let error = #expect(throws: PruningPipeline.Failure.self) {
            try PruningPipeline(options: .init(rate: 0.5)).run(models: [onnx, state], outputDirectory: dir.appendingPathComponent("out"))
        }
        #expect(error?.message == "models 'a' (onnx) and 'b' (safetensors) are in different formats, whose graphs never line up: "
            + "send every task model as ONNX (or every one as safetensors)")
    }

    /// A FLOPs budget on a model whose input height and width are symbolic: the message says
    /// what to do both on the CLI (`--input-shape`) and in the service (`inputShape`).
    @Test func aFLOPsBudgetWithoutInputShapeSaysHowToGiveOne() throws {
        var graph = ExampleArchitecture.vgg.build(seed: 1, inputSize: 12)
        graph.inputs[0].shape = [.fixed(1), .fixed(3), .symbolic("h"), .symbolic("w")]
        let options = MFISOptions(target: .budget(.flops, 0.5), generations: 2, population: 8)
        let error = #expect(throws: MFISSearch.Unreachable.self) { try MultiTaskPruner(options: options).prune([graph], tasks: ["net"]) }
        #expect(error?.description == "a FLOPs budget needs every conv's output shape, and the model's input shape is not fixed: "
            + "export it with a fixed input shape, or give one (pruned prune --input-shape NAME=1x3x224x224; the service's inputShape)")
    }
}
