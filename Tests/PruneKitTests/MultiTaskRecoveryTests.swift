import Testing
@testable import PruneKit

/// The data stages of several task models with shared filters, on BN-folded exports
/// (ALGORITHM.md §5): each conv gets its BN back per task, so recalibration restores every
/// task's channel moments exactly while a shared filter stays one filter; what differs per
/// task is the BN, folded back as a per-row gain and a bias, and the bundle rebuilds every
/// written task to the bit.
@Suite struct MultiTaskRecoveryTests {
    static let samples = 40

    struct Run {
        var result: MultiTaskPruner.Result
        var originals: [Graph]
        var data: TrainingData
        var recovery: AccuracyRecovery
        var recovered: [AccuracyRecovery.Recovered]
        var bundle: MultiTaskBundle
    }

    static func run(epochs: Int) throws -> Run {
        let base = CalibrationTests.foldedNet()
        let originals = [base] + (1..<3).map { TaskFixtures.perturbed(base, noise: 0.02, seed: UInt64($0) * 17) }
        let options = MFISOptions(target: .rate(0.5), generations: 6, population: 16)
        let result = try MultiTaskPruner(options: options).prune(originals, tasks: TaskFixtures.names(3))
        let shared = try SharedParameters(bundle: result.bundle, graphs: result.graphs)
        let input = Tensor(shape: [samples, 3, 6, 6], floats: KernelFixtures.values(samples * 108, seed: 9))
        let data = try TrainingData(input: input, labels: [:])
        let recovery = try AccuracyRecovery(data: data, options: TrainingOptions(epochs: epochs, learningRate: 0.05, batchSize: 64))
        let tasks = originals.indices.map {
            AccuracyRecovery.Task(name: "task\($0)", original: originals[$0], pruned: result.graphs[$0], keptRows: result.keptRows[$0])
        }
        let recovered = try recovery.run(tasks, shared: shared).tasks
        let bundle = result.bundle.refreshed(with: recovered.map(\.unscaled), gains: recovered.map(\.gains), shared: shared)
        return Run(result: result, originals: originals, data: data, recovery: recovery, recovered: recovered, bundle: bundle)
    }

    /// Per conv of the folded net, each channel's mean and variance over `indices`.
    static func stats(_ graph: Graph, data: TrainingData, indices: [Int]) throws -> [(mean: [Double], variance: [Double])] {
        let model = try ClassifierGraph(graph, sampleShape: data.sampleShape)
        let names = ["c1", "c2", "c3"].map { name in graph.nodes.first { $0.name == name }!.outputs[0] }
        let values = try model.run(data.inputs(indices), fetching: names)
        return names.map { let v = values[$0]!; return CalibrationTests.moments(v.storage, n: indices.count, c: v.shape[1], hw: 36) }
    }

    @Test func recalibrationRestoresEveryTasksMomentsUnderSharedFilters() throws {
        let r = try Self.run(epochs: 0)
        let entry = try #require(r.bundle.index.tensors["c2.weight"])
        let index = try #require(r.bundle.index.groups.first { $0.name == entry.group })
        #expect(!index.shared.isEmpty, "nearly equal tasks share filters of c2")
        let calibration = r.recovery.split.training
        for t in r.originals.indices {
            let goal = try Self.stats(r.originals[t], data: r.data, indices: calibration)
            let after = try Self.stats(r.recovered[t].graph, data: r.data, indices: calibration)
            for (l, weight) in ["c1.weight", "c2.weight", "c3.weight"].enumerated() {
                for (j, k) in r.result.keptRows[t][weight]!.enumerated() {
                    // To BN's own precision (unbiased variance, ε), as `CalibrationTests` shows for one model.
                    #expect(abs(after[l].mean[j] - goal[l].mean[k]) < 1e-3, "task\(t) \(weight) row \(j) mean")
                    #expect(abs(after[l].variance[j] / goal[l].variance[k] - 1) < 5e-3, "task\(t) \(weight) row \(j) variance")
                }
            }
        }
        // The banks are what merging made them; the tasks differ in their gains.
        for e in r.result.bundle.tensors where e.name.hasPrefix("shared/") {
            #expect(r.bundle.tensors.first { $0.name == e.name }?.tensor == e.tensor, "\(e.name)")
        }
        let gains = try r.bundle.index.tasks.map { task in
            try #require(r.bundle.tensors.first { $0.name == entry.gains?[task] }).tensor.floats()
        }
        #expect(gains[0] != gains[1] && gains[1] != gains[2])
    }

    @Test(arguments: [0, 1])
    func theBundleRebuildsEveryWrittenTask(epochs: Int) throws {
        let r = try Self.run(epochs: epochs)
        #expect(r.bundle.index.format == "pruned-multitask/2")
        for (t, task) in r.bundle.index.tasks.enumerated() {
            let rebuilt = try r.bundle.rebuild(task: task)
            #expect(rebuilt.map(\.name) == r.recovered[t].graph.initializerOrder)
            for (name, tensor) in rebuilt { #expect(tensor == r.recovered[t].graph.initializers[name], "\(task) \(name)") }
        }
        // Fine-tuning moved the shared filters (one parameter each), recalibration alone did not.
        let bank = { (b: MultiTaskBundle) in b.tensors.first { $0.name == "shared/c2.weight" }!.tensor }
        #expect((bank(r.bundle) == bank(r.result.bundle)) == (epochs == 0))
    }
}
