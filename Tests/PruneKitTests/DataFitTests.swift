import Foundation
import Testing
@testable import PruneKit

/// Data that cannot go with a model fails the run before the search, naming the model: a
/// state_dict (no forward pass to score or train), labels past a model's classes.
@Suite struct DataFitTests {
    static let samples = 24

    static func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("data-fit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func writeData(_ labels: [String: [Int]], in dir: URL) throws -> URL {
        let input = Tensor(shape: [samples, 3, 12, 12], floats: KernelFixtures.values(samples * 432, seed: 5))
        let url = dir.appendingPathComponent("data.safetensors")
        let entries = labels.sorted { $0.key < $1.key }.map { SafeTensorsFile.Entry($0.key, Tensor(shape: [samples], int64s: $0.value.map(Int64.init))) }
        try SafeTensorsFile(tensors: [.init("input", input)] + entries).write(to: url)
        return url
    }

    /// The layer chain read from a state_dict has no padding, activations or pooling: running it
    /// would score and train another network (here its shapes do not even chain up).
    @Test func aStateDictWithDataIsRefusedAskingForTheONNXExport() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("net.safetensors")
        try ModelFile.write(ExampleArchitecture.vgg.build(seed: 2, inputSize: 12), format: .safetensors, to: model)
        let data = try Self.writeData(["label": (0..<Self.samples).map { $0 % 10 }], in: dir)
        let options = PruningPipeline.Options(rate: 0.5, data: data)
        let error = #expect(throws: ModelFile.Failure.self) {
            try PruningPipeline(options: options).run(models: [model], outputDirectory: dir.appendingPathComponent("out"))
        }
        #expect(error?.message.contains("net.safetensors") == true)
        #expect(error?.message.contains("export the model to ONNX") == true)
        // Without data the same file prunes.
        #expect(throws: Never.self) {
            try PruningPipeline(options: .init(rate: 0.5)).run(models: [model], outputDirectory: dir.appendingPathComponent("plain"))
        }
        // `pruned train` likewise.
        let loaded = try ModelFile.load(model)
        #expect(throws: ModelFile.Failure.self) {
            try TrainingRun.run(loaded, data: TrainingData.read(contentsOf: data), options: TrainingOptions(epochs: 1))
        }
    }

    /// One plain `label` for tasks of 10 and 3 classes: the error says which model it does not fit.
    @Test func aLabelPastAModelsClassesNamesTheModel() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = ExampleArchitecture.vgg.build(seed: 2, inputSize: 12)
        let head = base.nodes.last { $0.opType == "Gemm" }!.label
        var models: [URL] = []
        for (name, graph) in [("digits", base), ("mod3", TaskFixtures.withHead(base, name: head, classes: 3))] {
            let url = dir.appendingPathComponent("\(name).onnx")
            try ModelFile.write(graph, format: .onnx, to: url)
            models.append(url)
        }
        // Every label below 10; the first one of 3 or more is at sample 3.
        let data = try Self.writeData(["label": (0..<Self.samples).map { $0 % 10 }], in: dir)
        let stages = StageLog()
        let options = PruningPipeline.Options(mfis: MFISOptions(target: .rate(0.5), generations: 4, population: 8), data: data)
        let error = #expect(throws: TrainingDataError.self) {
            try PruningPipeline(options: options, hooks: .init(progress: { stage, f in stages.add(stage, f) }))
                .run(models: models, outputDirectory: dir.appendingPathComponent("out"))
        }
        #expect(error.map(String.init(describing:)) == "data tensor 'label' has label 3 at sample 3, but model 'mod3' has 3 classes")
        #expect(!stages.names.contains("optimize"), "the data is checked before the search")
    }
}
