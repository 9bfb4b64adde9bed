import Foundation
import Testing
@testable import PruneKit

/// The data-driven criterion against values worked out by hand, and its wiring.
@Suite struct ActivationCriterionTests {
    /// Two samples of 2×4×4: sample 0 is (1, 0) in every pixel, sample 1 is (0, 1).
    static func twoSamples(channels: Int = 2) throws -> TrainingData {
        var v = [Float]()
        for s in 0..<2 { for c in 0..<channels { v += [Float](repeating: c == s ? 1 : 0, count: 16) } }
        return try TrainingData(input: Tensor(shape: [2, channels, 4, 4], floats: v), labels: [:])
    }

    /// The standard deviations and the scores (× the readers' L1) of group `name`'s channels.
    static func scores(_ g: Graph, data: TrainingData, group name: String) throws -> (spread: [Double], score: [Double]) {
        let groups = ChannelGroups.analyze(g)
        let id = try #require(groups.groups.first { $0.name == name }).id
        let model = try ClassifierGraph(g, sampleShape: data.sampleShape)
        let calibration = ActivationCriterion.Calibration(data: data, indices: [0, 1], batchSize: 1)
        let spread = try ActivationCriterion.standardDeviations(ofGroups: [id], groups: groups, lookup: ChannelGroupLookup(groups), graph: g,
                                                                shapes: ShapeInference(graph: g), model: model, calibration: calibration)
        let score = try ActivationCriterion.scores(ofGroups: [id], groups: groups, lookup: ChannelGroupLookup(groups), graph: g,
                                                   shapes: ShapeInference(graph: g), model: model, calibration: calibration)
        return (try #require(spread[id]), try #require(score[id]))
    }

    func close(_ a: [Double], _ b: [Double]) -> Bool { a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-4 } }

    /// x → conv c (filters (1, −2), (3, 0), (0.5, 0.5), no bias) → [BN] → relu → conv d, whose
    /// weights for c's channels have L1 norms 2, 3, 2.
    func tinyNet(batchNorm: Bool) -> Graph {
        var b = GraphBuilder(name: "tiny", seed: 1)
        let x = b.input("x", shape: [1, 2, 4, 4])
        var h = b.conv(x, out: 3, kernel: 1, pad: 0, bias: false, name: "c")
        if batchNorm { h = b.batchNorm(h, name: "bn") }
        b.output(b.conv(b.relu(h), out: 2, kernel: 1, pad: 0, bias: false, name: "d"))
        var g = b.graph
        g.initializers["c.weight"] = Tensor(shape: [3, 2, 1, 1], floats: [1, -2, 3, 0, 0.5, 0.5])
        g.initializers["d.weight"] = Tensor(shape: [2, 3, 1, 1], floats: [1, -2, 0.5, 1, 1, 1.5])
        if batchNorm {
            g.initializers["bn.weight"] = Tensor(shape: [3], floats: [2, -0.5, 0])
            g.initializers["bn.bias"] = Tensor(shape: [3], floats: [0.1, 0.2, 0.3])
            g.initializers["bn.running_mean"] = Tensor(shape: [3], floats: [0, 0, 0])
            g.initializers["bn.running_var"] = Tensor(shape: [3], floats: [1, 1, 1])
        }
        return g
    }

    @Test func spreadAfterTheReLUTimesTheReadersWeights() throws {
        // conv: sample 0 (1, 3, 0.5), sample 1 (−2, 0, 0.5); relu: (1, 3, 0.5), (0, 0, 0.5), each over
        // 16 pixels: standard deviations 0.5, 1.5, 0 (a constant channel carries nothing).
        let (spread, score) = try Self.scores(tinyNet(batchNorm: false), data: Self.twoSamples(), group: "c")
        #expect(close(spread, [0.5, 1.5, 0]))
        #expect(close(score, [1, 4.5, 0]))
    }

    @Test func measuredAfterTheBatchNormAndTheReLU() throws {
        // BN (γ 2, −0.5, 0; β 0.1, 0.2, 0.3): (2.1, −1.3, 0.3), (−3.9, 0.2, 0.3); relu: (2.1, 0, 0.3), (0, 0.2, 0.3).
        // (ε = 1e-5 in the variance moves these by under 1e-5.)
        let (spread, score) = try Self.scores(tinyNet(batchNorm: true), data: Self.twoSamples(), group: "c")
        #expect(close(spread, [1.05, 0.1, 0]))
        #expect(close(score, [2.1, 0.3, 0]))
    }

    /// A residual pair: conv a → relu → (conv b, add) → add → relu → conv d. Channel i of the
    /// group is read twice: as relu(a) by b and the add, and as relu(add) by d; both count.
    @Test func aResidualGroupSumsEveryValueItsReadersRead() throws {
        var b = GraphBuilder(name: "res", seed: 1)
        let x = b.input("x", shape: [1, 1, 4, 4])
        let ra = b.relu(b.conv(x, out: 2, kernel: 1, pad: 0, bias: false, name: "a"))
        let sum = b.relu(b.add(b.conv(ra, out: 2, kernel: 1, pad: 0, bias: false, name: "b"), ra))
        b.output(b.conv(sum, out: 2, kernel: 1, pad: 0, bias: false, name: "d"))
        var g = b.graph
        g.initializers["a.weight"] = Tensor(shape: [2, 1, 1, 1], floats: [1, -1])
        g.initializers["b.weight"] = Tensor(shape: [2, 2, 1, 1], floats: [0, 1, 1, 0])
        g.initializers["d.weight"] = Tensor(shape: [2, 2, 1, 1], floats: [1, 2, 3, -1])
        let data = try TrainingData(input: Tensor(shape: [2, 1, 4, 4], floats: [Float](repeating: 1, count: 16) + [Float](repeating: -2, count: 16)),
                                    labels: [:])
        let group = try #require(ChannelGroups.analyze(g).groups.first { $0.producers.contains("a") && $0.producers.contains("b") })
        // relu(a): (1, 0), (0, 2) → spread (0.5, 1); b swaps: (0, 1), (2, 0); + relu(a) → (1, 1), (2, 2) →
        // spread (0.5, 0.5). Readers: b's columns (L1 1, 1) and d's (4, 3).
        let (spread, score) = try Self.scores(g, data: data, group: group.name)
        #expect(close(spread, [1, 1.5]))
        #expect(close(score, [5, 6]))
    }

    @Test func replacingOrJoiningMagnitudeInTheProblemsScores() throws {
        let aligned = try AlignedTasks(names: ["t"], graphs: [tinyNet(batchNorm: false)])
        let evidence = GroupEvidence.collect(aligned, options: MFISOptions())
        let e = try #require(evidence.first)
        let activation = [[0.5, 1.5, 0.5]]
        let replaced = e.withActivations(activation, joining: false)
        #expect(close(replaced.normalized[0].magnitude, [0.2, 0.6, 0.2]))
        let joined = e.withActivations(activation, joining: true)
        let magnitude = e.normalized[0].magnitude
        #expect(close(joined.normalized[0].magnitude, zip(magnitude, [0.2, 0.6, 0.2]).map { ($0 + $1) / 2 }))
        // Merge weights still come from the weights.
        #expect(replaced.scores == e.scores)
    }

    @Test func objectivesAreNamedAfterWhatTheyMeasure() throws {
        #expect(MFISSearch.objectiveNames(tasks: ["a"], options: MFISOptions(criteria: [.activation, .irreplaceability]))
            == ["activation[a]", "irreplaceability[a]", "size"])
        #expect(MFISSearch.objectiveNames(tasks: ["a"], options: MFISOptions(criteria: [.magnitude, .activation]))
            == ["magnitude+activation[a]", "size"])
        #expect(MFISOptions(criteria: [.activation]).problem() == nil)
        #expect(MFISOptions(criteria: [.shareability]).problem()?.field == "criteria")
        #expect(try MFISOptions.parseCriteria("activation,irreplaceability") == [.activation, .irreplaceability])
    }

    @Test func askingForItWithoutDataIsAClearError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("activation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("net.onnx")
        try ModelFile.write(ExampleArchitecture.vgg.build(seed: 3, inputSize: 12), format: .onnx, to: model)
        let options = PruningPipeline.Options(mfis: MFISOptions(criteria: [.activation, .irreplaceability]))
        #expect { try PruningPipeline(options: options).run(models: [model], outputDirectory: dir.appendingPathComponent("out")) } throws: {
            "\($0)".contains("activation is measured on calibration data")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path), "nothing written")
        #expect(throws: MFISSearch.Unreachable.self) {
            try MultiTaskPruner(options: options.mfis).prune([ModelFile.load(model).graph], tasks: ["net"])
        }
    }

    /// With data, the criterion picks what the data says: on the VGG example, every group keeps
    /// the channels whose activation scores are largest when activation alone scores and nothing
    /// is shared.
    @Test func withDataTheActivationRankingDecidesAlone() throws {
        let (dir, model, data, _) = try PruningWithDataTests.setUp(.vgg)
        defer { try? FileManager.default.removeItem(at: dir) }
        let mfis = MFISOptions(target: .rate(0.5), criteria: [.activation], sharing: false, candidates: 1)
        let report = try PruningPipeline(options: .init(mfis: mfis, data: data, training: TrainingOptions(batchSize: 16)))
            .run(models: [model], outputDirectory: dir.appendingPathComponent("out"))
        #expect(report.mfis.objectives == ["activation[vgg]", "size"])
        // The same scores by hand: every group's lowest-activation half is what was removed.
        let graph = try ModelFile.load(model).graph.constantsAsInitializers()
        let recovery = try AccuracyRecovery(data: TrainingData.read(contentsOf: data), options: TrainingOptions(batchSize: 16))
        let groups = ChannelGroups.analyze(graph, shapes: ShapeInference(graph: graph))
        let lookup = ChannelGroupLookup(groups)
        let prunable = groups.groups.filter(\.prunable).map(\.id)
        #expect(prunable.count >= 3)
        let scores = try ActivationCriterion.scores(
            ofGroups: prunable, groups: groups, lookup: lookup, graph: graph, shapes: ShapeInference(graph: graph),
            model: ClassifierGraph(graph, sampleShape: recovery.data.sampleShape),
            calibration: .init(data: recovery.data, indices: recovery.calibrationSamples(limit: ActivationCriterion.sampleLimit), batchSize: 16))
        for g in prunable {
            let s = scores[g]!
            let removed = try #require(report.models[0].groups.first { $0.name == groups.groups[g].name }).removed
            let lowest = s.indices.sorted { (s[$0], -$0) < (s[$1], -$1) }.prefix(removed.count)
            #expect(Set(removed) == Set(lowest), "\(groups.groups[g].name)")
        }
    }
}
