import Foundation
import Synchronization
import Testing
@testable import PruneKit

/// `pruned prune --data` end to end on an example model and a synthetic data file.
@Suite struct PruningWithDataTests {
    static let samples = 48

    /// Random images labelled with the unpruned model's own predictions: it must score 1.0.
    static func setUp(_ arch: ExampleArchitecture) throws -> (dir: URL, model: URL, data: URL, labels: [Int]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prune-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let graph = arch.build(seed: 3, inputSize: 12)
        let model = dir.appendingPathComponent("\(arch.rawValue).onnx")
        try ModelFile.write(graph, format: .onnx, to: model)
        let input = Tensor(shape: [samples, 3, 12, 12], floats: KernelFixtures.values(samples * 432, seed: 8).map { $0 * 2 })
        let unlabelled = try TrainingData(input: input, labels: [:])
        let logits = try ClassifierGraph(graph, sampleShape: unlabelled.sampleShape).logits(unlabelled.inputs(Array(0..<samples)))
        let labels = ClassifierScore.predictions(logits)
        let data = dir.appendingPathComponent("data.safetensors")
        try SafeTensorsFile(tensors: [.init("input", input), .init("label", Tensor(shape: [samples], int64s: labels.map(Int64.init)))]).write(to: data)
        return (dir, model, data, labels)
    }

    @Test func scoresRecalibratesFineTunesAndWritesTheTrainedWeights() throws {
        let (dir, model, data, labels) = try Self.setUp(.vgg)
        defer { try? FileManager.default.removeItem(at: dir) }
        let options = PruningPipeline.Options(rate: 0.5, data: data, training: TrainingOptions(epochs: 1, learningRate: 0.01, batchSize: 16))
        let stages = StageLog()
        let report = try PruningPipeline(options: options, hooks: .init(progress: { stage, f in stages.add(stage, f) }))
            .run(models: [model], outputDirectory: dir.appendingPathComponent("out"))
        let accuracy = try #require(report.models[0].accuracy)
        #expect(accuracy.heldOutSamples == 5 && accuracy.trainingSamples == 43)  // round(4.8) held out
        #expect(accuracy.scoredOn == AccuracyReport.scoredOnHeldOut)
        #expect(accuracy.labels == "label")
        #expect(accuracy.beforePruning.accuracy == 1)
        #expect(accuracy.recalibratedBatchNorms == ["features.1", "features.5", "features.9"])
        #expect(accuracy.correctedLayers.isEmpty)
        #expect(accuracy.loss == "cross-entropy" && accuracy.epochs.count == 1)
        let tuned = try #require(accuracy.afterFineTuning)
        #expect(report.training?.epochs == 1)
        #expect(["evaluate", "recalibrate", "finetune"].allSatisfy { report.seconds[$0] != nil })
        #expect(stages.names.contains("finetune") && stages.names.contains("recalibrate"))
        #expect(stages.fractions.allSatisfy { (0...1).contains($0) })

        // The file written is the fine-tuned model: it scores on the held-out split what the report says.
        let written = try ModelFile.load(dir.appendingPathComponent("out/vgg.onnx")).graph
        #expect(written.inputs[0].shape == [.fixed(1), .fixed(3), .fixed(12), .fixed(12)])
        let trainingData = try TrainingData.read(contentsOf: data)
        let split = try DataSplit(count: Self.samples, seed: 0)
        let rescored = try ClassifierScore.measure(ClassifierGraph(written, sampleShape: [3, 12, 12]), data: trainingData,
                                                   indices: split.heldOut, labels: labels, labelName: "label", batchSize: 5)
        #expect(rescored.accuracy == tuned.accuracy)
        #expect(abs(rescored.loss - tuned.loss) < 1e-4)
        // Recalibration changed the BN statistics pruning alone leaves as they were.
        let plain = try MagnitudePruner(rate: 0.5).prune(ModelFile.load(model).graph, task: "vgg", source: "vgg.onnx").graph
        #expect(written.initializers["features.1.running_mean"] != plain.initializers["features.1.running_mean"])
        #expect(written.initializers["features.0.weight"]!.shape == plain.initializers["features.0.weight"]!.shape)

        let onDisk = try JSONDecoder().decode(PruneReport.self, from: Data(contentsOf: dir.appendingPathComponent("out/report.json")))
        #expect(onDisk.models[0].accuracy == accuracy)
    }

    /// Without labels the unpruned model is the teacher; every BN-free conv gets its BN back for
    /// recalibration and fine-tuning, and the model written has it folded in again.
    @Test func distillsWithoutLabelsAndCorrectsFoldedConvs() throws {
        let (dir, model, labelled, _) = try Self.setUp(.concat)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = try TrainingData.read(contentsOf: labelled).input
        let data = dir.appendingPathComponent("unlabelled.safetensors")
        try SafeTensorsFile(tensors: [.init("input", input)]).write(to: data)
        let options = PruningPipeline.Options(rate: 0.5, data: data, training: TrainingOptions(epochs: 1, batchSize: 16))
        let report = try PruningPipeline(options: options).run(models: [model], outputDirectory: dir.appendingPathComponent("out"))
        let accuracy = try #require(report.models[0].accuracy)
        #expect(accuracy.labels == AccuracyReport.teacherLabels)
        #expect(accuracy.beforePruning.accuracy == 1)
        #expect(accuracy.correctedLayers == ["stem", "branch1", "branch2", "mix"])
        let written = try ModelFile.load(dir.appendingPathComponent("out").appendingPathComponent(model.lastPathComponent)).graph
        #expect(written.nodes.map(\.opType) == (try ModelFile.load(model).graph.nodes.map(\.opType)))
        #expect(accuracy.loss == "distillation")
        #expect(accuracy.afterFineTuning != nil)
    }

    /// `--holdout 0`: every sample trains, and the scores are taken on the training samples.
    @Test func withNothingHeldOutEverySampleTrainsAndIsScored() throws {
        let (dir, model, data, labels) = try Self.setUp(.vgg)
        defer { try? FileManager.default.removeItem(at: dir) }
        let options = PruningPipeline.Options(rate: 0.5, data: data, training: TrainingOptions(epochs: 1, batchSize: 16, heldOutFraction: 0))
        let report = try PruningPipeline(options: options).run(models: [model], outputDirectory: dir.appendingPathComponent("out"))
        let accuracy = try #require(report.models[0].accuracy)
        #expect(accuracy.heldOutSamples == 0 && accuracy.trainingSamples == Self.samples)
        #expect(accuracy.scoredOn == AccuracyReport.scoredOnTraining)
        #expect(accuracy.beforePruning.samples == Self.samples && accuracy.beforePruning.accuracy == 1)
        let written = try ModelFile.load(dir.appendingPathComponent("out/vgg.onnx")).graph
        let rescored = try ClassifierScore.measure(ClassifierGraph(written, sampleShape: [3, 12, 12]), data: TrainingData.read(contentsOf: data),
                                                   indices: Array(0..<Self.samples), labels: labels, labelName: "label", batchSize: 7)
        #expect(rescored.accuracy == accuracy.afterFineTuning?.accuracy)
    }

    @Test func cancellationStopsBetweenBatches() throws {
        let (dir, model, data, _) = try Self.setUp(.vgg)
        defer { try? FileManager.default.removeItem(at: dir) }
        let stages = StageLog()
        let options = PruningPipeline.Options(rate: 0.5, data: data, training: TrainingOptions(epochs: 50, batchSize: 8))
        let hooks = PruningPipeline.Hooks(progress: { stage, f in stages.add(stage, f) },
                                          isCancelled: { stages.names.filter { $0 == "finetune" }.count >= 3 })
        #expect(throws: CancellationError.self) {
            try PruningPipeline(options: options, hooks: hooks).run(models: [model], outputDirectory: dir.appendingPathComponent("out"))
        }
        // Stopped after the third batch, not after 50 epochs.
        #expect(stages.names.filter { $0 == "finetune" }.count == 3)
    }

    @Test func badDataFailsTheRunNamingTheTensor() throws {
        let (dir, model, _, _) = try Self.setUp(.vgg)
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("bad.safetensors")
        try SafeTensorsFile(tensors: [.init("input", Tensor(shape: [4, 3, 12, 12], floats: .init(repeating: 0, count: 1728))),
                                      .init("label", Tensor(shape: [3], int64s: [0, 1, 2]))]).write(to: data)
        #expect(throws: TrainingDataError.countMismatch(tensor: "label", count: 3, inputs: 4)) {
            try PruningPipeline(options: .init(rate: 0.5, data: data)).run(models: [model], outputDirectory: dir.appendingPathComponent("out"))
        }
    }
}

/// Progress calls, recorded from the pipeline's hooks.
final class StageLog: Sendable {
    private let entries = Mutex<[(stage: String, fraction: Double)]>([])
    func add(_ stage: String, _ fraction: Double) { entries.withLock { $0.append((stage, fraction)) } }
    var names: [String] { entries.withLock { $0.map(\.stage) } }
    var fractions: [Double] { entries.withLock { $0.map(\.fraction) } }
}
