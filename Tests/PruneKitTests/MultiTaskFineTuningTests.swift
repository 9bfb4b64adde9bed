import Foundation
import Testing
@testable import PruneKit

/// Multi-task fine-tuning (ALGORITHM.md §5): shared filters are one parameter of several task
/// networks, trained on the sum of their gradients, and the bundle still rebuilds every task.
@Suite struct MultiTaskFineTuningTests {
    static let samples = 40
    /// One candidate: the search's own pick, which shares filters (with data, the best of
    /// several would take one that shares none on these random labels, and leave nothing tied).
    static let mfis = MFISOptions(target: .rate(0.3), generations: 6, population: 16, candidates: 1)

    static func tasks(_ arch: ExampleArchitecture) -> [Graph] {
        let base = arch.build(seed: 3, inputSize: 12)
        return [base] + (1..<3).map { TaskFixtures.perturbed(base, noise: 0.01, seed: UInt64($0) * 31) }
    }

    static func data(labels: [String: [Int]]) throws -> TrainingData {
        let input = Tensor(shape: [samples, 3, 12, 12], floats: KernelFixtures.values(samples * 432, seed: 8).map { $0 * 2 })
        return try TrainingData(input: input, labels: labels.mapValues { Tensor(shape: [samples], int64s: $0.map(Int64.init)) })
    }

    static func labels(_ seed: Int, classes: Int = 10) -> [Int] { (0..<samples).map { ($0 * 7 + seed) % classes } }

    /// The conv reading the graph input: its columns (the image's channels) are never pruned,
    /// so its rows can be compared across tasks as they are.
    static func firstConvWeight(_ g: Graph) -> String {
        g.nodes.first { $0.opType == "Conv" && $0.inputs[0] == g.inputs[0].name }!.inputs[1]
    }

    @Test func aSharedFilterGetsTheSumOfTheTasksGradients() throws {
        let graphs = Self.tasks(.vgg)
        let names = TaskFixtures.names(3)
        let result = try MultiTaskPruner(options: Self.mfis).prune(graphs, tasks: names)
        let shared = try SharedParameters(bundle: result.bundle, graphs: result.graphs)
        let data = try Self.data(labels: [:])
        let batch = Array(0..<8)
        // Each task's gradient on its own, straight from TrainableGraph.
        var separate: [[String: NDArray<Float>]] = []
        for (t, graph) in result.graphs.enumerated() {
            let model = try ClassifierGraph(graph, sampleShape: data.sampleShape)
            let trainable = try TrainableGraph(model.graph)
            let pass = try trainable.forward(inputs: [model.inputName: data.inputs(batch)], state: trainable.initialState(), mode: .training,
                                             fetching: [model.logitsName])
            let (_, seed) = try softmaxCrossEntropy(logits: pass.outputs[model.logitsName]!, labels: batch.map { Self.labels(t)[$0] })
            separate.append(try trainable.backward(pass, seeds: [model.logitsName: seed]))
        }
        var tied = separate
        shared.sumGradients(&tied)

        let weight = Self.firstConvWeight(result.graphs[0])
        let entry = try #require(result.bundle.index.tensors[weight])
        let index = try #require(result.bundle.index.groups.first { $0.name == entry.group })
        #expect(!index.shared.isEmpty, "nearly equal tasks share filters of the first conv")
        let perRow = separate[0][weight]!.count / separate[0][weight]!.shape[0]
        func row(_ g: [[String: NDArray<Float>]], _ t: Int, _ channel: Int) -> ArraySlice<Float> {
            let j = index.keep[t].firstIndex(of: channel)!
            return g[t][weight]!.storage[(j * perRow)..<((j + 1) * perRow)]
        }
        for t in 0..<3 {
            for channel in index.keep[t] {
                if let f = index.sharedFilter(channel: channel, task: t) {
                    let sum = (0..<perRow).map { k in f.tasks.reduce(Float(0)) { $0 + row(separate, $1, channel)[row(separate, $1, channel).startIndex + k] } }
                    let got = Array(row(tied, t, channel))
                    #expect(zip(got, sum).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) }, "task\(t) channel \(channel)")
                } else {
                    #expect(row(tied, t, channel) == row(separate, t, channel), "a task's own filter learns from its own loss only")
                }
            }
        }
        // BN and the head stay per task.
        for t in 0..<3 {
            for (name, g) in separate[t] where result.bundle.index.tensors[name] == nil { #expect(tied[t][name] == g, "\(name)") }
        }
    }

    /// Untied, training tasks together is training each alone: T = 1 is the same loop, and a
    /// task's parameters see only its own loss.
    @Test func untiedTasksTrainExactlyAsEachAlone() throws {
        let graphs = Array(Self.tasks(.vgg).prefix(2))
        let data = try Self.data(labels: ["label": Self.labels(1)])
        let options = TrainingOptions(epochs: 2, learningRate: 0.05, batchSize: 16)
        let indices = Array(0..<Self.samples)
        let targets: [FineTuning.Target] = [.labels(Self.labels(1), name: "label"),
                                            .teacher(try ClassifierGraph(graphs[0], sampleShape: data.sampleShape))]
        var together = try graphs.map { try ClassifierGraph($0, sampleShape: data.sampleShape) }
        let jointEpochs = try FineTuning.train(&together, targets: targets, data: data, indices: indices, options: options)
        for t in 0..<2 {
            var alone = try ClassifierGraph(graphs[t], sampleShape: data.sampleShape)
            let epochs = try FineTuning.train(&alone, data: data, indices: indices, target: targets[t], options: options)
            #expect(epochs.map(\.loss) == jointEpochs[t].map(\.loss))
            #expect(alone.graph.initializers == together[t].graph.initializers)
        }
    }

    static func writeTasks(_ arch: ExampleArchitecture, in dir: URL) throws -> [URL] {
        try Self.tasks(arch).enumerated().map { t, g in
            let url = dir.appendingPathComponent("task\(t).onnx")
            try ModelFile.write(g, format: .onnx, to: url)
            return url
        }
    }

    /// With data the bundle is written from the fine-tuned weights: it rebuilds every written
    /// model exactly, so shared rows are identical across tasks; and training moved them.
    @Test(arguments: [ExampleArchitecture.vgg, .concat])
    func theBundleRebuildsEveryFineTunedTask(arch: ExampleArchitecture) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mt-finetune-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let models = try Self.writeTasks(arch, in: dir)
        let dataURL = dir.appendingPathComponent("data.safetensors")
        // VGG: a label per task (cross-entropy); concat: none, every task distils from its unpruned model.
        let labelled = arch == .vgg
        let labels: [SafeTensorsFile.Entry] = labelled
            ? (0..<3).map { .init("label.task\($0)", Tensor(shape: [Self.samples], int64s: Self.labels($0).map(Int64.init))) } : []
        try SafeTensorsFile(tensors: [.init("input", try Self.data(labels: [:]).input)] + labels).write(to: dataURL)
        let out = dir.appendingPathComponent("out")
        let options = PruningPipeline.Options(mfis: Self.mfis, data: dataURL, training: TrainingOptions(epochs: 1, learningRate: 0.05, batchSize: 16))
        let report = try PruningPipeline(options: options).run(models: models, outputDirectory: out)
        #expect(report.mfis.bundleOmitted == nil)
        #expect(report.models.map { $0.accuracy?.loss } == Array(repeating: labelled ? "cross-entropy" : "distillation", count: 3))
        #expect(report.models.allSatisfy { $0.accuracy?.epochs.count == 1 })

        let stored = try SafeTensorsFile.read(contentsOf: out.appendingPathComponent(MultiTaskBundle.tensorsFileName))
        let index = try JSONDecoder().decode(BundleIndex.self, from: Data(contentsOf: out.appendingPathComponent(MultiTaskBundle.indexFileName)))
        let bundle = MultiTaskBundle(tensors: stored.tensors, index: index)
        #expect(report.mfis.storage.afterSharing == bundle.storedParams)
        var written: [Graph] = []
        for t in 0..<3 {
            let graph = try ModelFile.load(out.appendingPathComponent("task\(t).onnx")).graph
            written.append(graph)
            let rebuilt = try bundle.rebuild(task: "task\(t)")
            #expect(rebuilt.map(\.name) == graph.initializerOrder)
            for (name, tensor) in rebuilt { #expect(tensor == graph.initializers[name], "\(arch) task\(t) \(name)") }
        }

        // The first conv's shared rows, compared directly: one bank row across tasks (after
        // each task's gain: its BN, where the export had folded one in), and not the merged
        // values any more (fine-tuning moved them, tied).
        let untrained = try MultiTaskPruner(options: Self.mfis).prune(Self.tasks(arch), tasks: TaskFixtures.names(3))
        let weight = Self.firstConvWeight(written[0])
        let group = try #require(index.groups.first { $0.name == index.tensors[weight]?.group })
        #expect(!group.shared.isEmpty)
        let perRow = written[0].initializers[weight]!.count / written[0].initializers[weight]!.shape[0]
        let gains = index.tensors[weight]?.gains
        func row(_ g: Graph, _ t: Int, _ channel: Int, unscaled: Bool = true) -> [Float] {
            let j = group.keep[t].firstIndex(of: channel)!
            let gain = unscaled ? gains.flatMap { name in stored.tensors.first { $0.name == name["task\(t)"] } }?.tensor.floats()[j] ?? 1 : 1
            return g.initializers[weight]!.floats()[(j * perRow)..<((j + 1) * perRow)].map { $0 / gain }
        }
        for f in group.shared {
            for t in f.tasks.dropFirst() {
                // Dividing the gain out again is not exact in Float: equal to a few ulps.
                #expect(zip(row(written[t], t, f.channel), row(written[f.tasks[0]], f.tasks[0], f.channel)).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) })
            }
            #expect(row(written[f.tasks[0]], f.tasks[0], f.channel) != row(untrained.graphs[f.tasks[0]], f.tasks[0], f.channel, unscaled: false))
        }
    }

    /// ALGORITHM.md §5: a task with no labels in the data distils from its unpruned model while
    /// the others train on their labels, in the same job; each is scored against what it trains on.
    @Test func aTaskWithoutLabelsDistilsBesideALabelledOne() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mt-partial-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let models = try Self.writeTasks(.vgg, in: dir).prefix(2)
        let dataURL = dir.appendingPathComponent("data.safetensors")
        try SafeTensorsFile(tensors: [.init("input", try Self.data(labels: [:]).input),
                                      .init("label.task0", Tensor(shape: [Self.samples], int64s: Self.labels(0).map(Int64.init)))]).write(to: dataURL)
        let out = dir.appendingPathComponent("out")
        let options = PruningPipeline.Options(mfis: Self.mfis, data: dataURL, training: TrainingOptions(epochs: 1, learningRate: 0.05, batchSize: 16))
        let report = try PruningPipeline(options: options).run(models: Array(models), outputDirectory: out)
        let labelled = try #require(report.models[0].accuracy)
        let unlabelled = try #require(report.models[1].accuracy)
        #expect(labelled.loss == "cross-entropy" && labelled.labels == "label.task0")
        #expect(unlabelled.loss == "distillation" && unlabelled.labels == AccuracyReport.teacherLabels)
        // Scored against its own unpruned model's predictions, the unpruned model is always right.
        #expect(unlabelled.beforePruning.accuracy == 1)
        // The labels are (7i mod 10), which the random net does not predict.
        #expect(labelled.beforePruning.accuracy < 1)
        for accuracy in [labelled, unlabelled] {
            #expect(accuracy.epochs.count == 1 && accuracy.epochs.allSatisfy { $0.loss.isFinite && $0.loss > 0 })
            #expect(accuracy.afterFineTuning != nil)
        }
        // Both trained: the written weights are not the recalibrated, untrained ones.
        let untrained = try MultiTaskPruner(options: Self.mfis).prune(Array(Self.tasks(.vgg).prefix(2)), tasks: TaskFixtures.names(2))
        for t in 0..<2 {
            let written = try ModelFile.load(out.appendingPathComponent("task\(t).onnx")).graph
            let weight = Self.firstConvWeight(written)
            #expect(written.initializers[weight] != untrained.graphs[t].initializers[weight], "task\(t) trained")
        }
    }
}
