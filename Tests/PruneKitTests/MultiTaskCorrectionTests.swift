import Testing
@testable import PruneKit

/// The folded-BN correction of several task models with shared filters (ALGORITHM.md §5): a
/// shared filter is one parameter, so it takes one scale in every task; each task's bias (its
/// BN shift) is its own, so every task's channel means come back exactly.
@Suite struct MultiTaskCorrectionTests {
    static let samples = 40
    static let outputs = ["c1", "c2", "c3"]

    struct Setup {
        var result: MultiTaskPruner.Result
        var shared: SharedParameters
        var originals: [Graph]
        var data: TrainingData
    }

    static func setup() throws -> Setup {
        let base = CalibrationTests.foldedNet()
        let graphs = [base] + (1..<3).map { TaskFixtures.perturbed(base, noise: 0.02, seed: UInt64($0) * 17) }
        let options = MFISOptions(target: .rate(0.5), generations: 6, population: 16)
        let result = try MultiTaskPruner(options: options).prune(graphs, tasks: TaskFixtures.names(3))
        let shared = try SharedParameters(bundle: result.bundle, graphs: result.graphs)
        let input = Tensor(shape: [samples, 3, 6, 6], floats: KernelFixtures.values(samples * 108, seed: 9))
        return Setup(result: result, shared: shared, originals: graphs, data: try TrainingData(input: input, labels: [:]))
    }

    /// Per layer of `outputs`, each channel's mean and variance over the data.
    static func stats(_ model: ClassifierGraph, _ graph: Graph, data: TrainingData) throws -> [(mean: [Double], variance: [Double])] {
        let names = outputs.map { name in graph.nodes.first { $0.name == name }!.outputs[0] }
        let values = try model.run(data.inputs(Array(0..<samples)), fetching: names)
        return names.map { let v = values[$0]!; return CalibrationTests.moments(v.storage, n: samples, c: v.shape[1], hw: 36) }
    }

    @Test func biasesStayPerTaskWhileWeightsAreBanked() throws {
        let s = try Self.setup()
        let index = s.result.bundle.index
        #expect(index.tensors["c2.weight"] != nil)
        #expect(index.tensors.keys.allSatisfy { !$0.hasSuffix(".bias") }, "\(index.tensors.keys.sorted())")
        for task in index.tasks { #expect(s.result.bundle.tensors.contains { $0.name == "\(task)/c2.bias" }) }
    }

    @Test func sharedFiltersTakeOneScaleAndEveryTaskItsOwnShift() throws {
        let s = try Self.setup()
        let sharedC2 = s.shared.sharedRows.map { $0["c2.weight"] ?? [:] }
        #expect(sharedC2.contains { !$0.isEmpty }, "nearly equal tasks share filters of c2")
        var models = try s.result.graphs.map { try ClassifierGraph($0, sampleShape: s.data.sampleShape) }
        let references = try s.originals.map { try ClassifierGraph($0, sampleShape: s.data.sampleShape) }
        let subjects = s.originals.indices.map { t in
            FoldedBatchNormCorrection.Subject(reference: references[t], original: s.originals[t], keptRows: s.result.keptRows[t],
                                              sharedRows: s.shared.sharedRows[t])
        }
        let corrected = try FoldedBatchNormCorrection.correct(&models, subjects: subjects, data: s.data, indices: Array(0..<Self.samples),
                                                              batchSize: 16)
        #expect(corrected == Array(repeating: ["c2", "c3"], count: 3))

        // A shared filter is still one filter: the refreshed bundle rebuilds every task exactly.
        let bundle = s.result.bundle.refreshed(with: models.map(\.graph), shared: s.shared)
        for (t, task) in bundle.index.tasks.enumerated() {
            for (name, tensor) in try bundle.rebuild(task: task) { #expect(tensor == models[t].graph.initializers[name], "\(task) \(name)") }
        }

        let goals = try s.originals.indices.map { try Self.stats(references[$0], s.originals[$0], data: s.data) }
        let after = try models.indices.map { try Self.stats(models[$0], models[$0].graph, data: s.data) }
        // Per bank row of c2, the tasks sharing it: sqrt(goal/after) is a_t / ā, whose mean is 1.
        var ratios: [Int: [Double]] = [:]
        for t in models.indices {
            let rows = s.result.keptRows[t]["c2.weight"]!
            for (j, k) in rows.enumerated() {
                #expect(abs(after[t][1].mean[j] - goals[t][1].mean[k]) < 1e-4, "task\(t) row \(j): every mean is restored")
                let ratio = (goals[t][1].variance[k] / after[t][1].variance[j]).squareRoot()
                if let bankRow = sharedC2[t][j] {
                    ratios[bankRow, default: []].append(ratio)
                } else {
                    #expect(abs(ratio - 1) < 1e-4, "task\(t) row \(j): an own row's variance is restored")
                }
            }
        }
        #expect(!ratios.isEmpty)
        for (bankRow, r) in ratios where r.count > 1 {
            #expect(abs(r.reduce(0, +) / Double(r.count) - 1) < 1e-4, "bank row \(bankRow): one scale, the mean of the tasks' own")
        }
    }
}
