import Foundation
import Testing
@testable import PruneKit

/// With calibration data, the best of K front members after recalibration (ALGORITHM.md §3).
@Suite struct CandidateChoiceTests {
    static let samples = 48

    /// Three task copies of one backbone, far enough apart (noise) that merging their filters
    /// costs accuracy; each labelled with its own unpruned predictions on random images.
    static func setUp(noise: Float = 0.3) throws -> (dir: URL, models: [URL], data: URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("candidates-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let base = ExampleArchitecture.vgg.build(seed: 3, inputSize: 12)
        let graphs = [base] + (1..<3).map { TaskFixtures.perturbed(base, noise: noise, seed: UInt64($0) * 31) }
        let input = Tensor(shape: [samples, 3, 12, 12], floats: KernelFixtures.values(samples * 432, seed: 8).map { $0 * 2 })
        let unlabelled = try TrainingData(input: input, labels: [:])
        var tensors: [SafeTensorsFile.Entry] = [.init("input", input)]
        var models: [URL] = []
        for (t, graph) in graphs.enumerated() {
            let url = dir.appendingPathComponent("task\(t).onnx")
            try ModelFile.write(graph, format: .onnx, to: url)
            models.append(url)
            let logits = try ClassifierGraph(graph, sampleShape: unlabelled.sampleShape).logits(unlabelled.inputs(Array(0..<samples)))
            tensors.append(.init("label.task\(t)", Tensor(shape: [samples], int64s: ClassifierScore.predictions(logits).map(Int64.init))))
        }
        let data = dir.appendingPathComponent("data.safetensors")
        try SafeTensorsFile(tensors: tensors).write(to: data)
        return (dir, models, data)
    }

    static func options(candidates: Int?, data: URL?, seed: UInt64 = 0, epochs: Int = 0,
                        margin: Double = MFISOptions.defaultAccuracyMargin) -> PruningPipeline.Options {
        PruningPipeline.Options(mfis: MFISOptions(target: .rate(0.5), seed: seed, generations: 6, population: 16, candidates: candidates,
                                                  accuracyMargin: margin),
                                data: data, training: TrainingOptions(epochs: epochs, batchSize: 16, seed: seed))
    }

    static func run(_ options: PruningPipeline.Options, _ models: [URL], into dir: URL, hooks: PruningPipeline.Hooks = .init()) throws -> PruneReport {
        try PruningPipeline(options: options, hooks: hooks).run(models: models, outputDirectory: dir)
    }

    /// The list on a front small enough to work by hand: objectives (a, b, size).
    @Test func candidatesAreTheDefaultPickTheKneeStorageLevelsAndTheExtremesOnceEach() throws {
        let front: [[Double]] = [[0, 1, 1], [1, 0, 1], [0.5, 0.5, 0.2], [0.2, 0.2, 0.9], [0.9, 0.9, 0.1]]
        // Ideal (0, 0, 0.1): squared distances 1.81, 1.81, 0.51, 0.72, 1.62, so nearest is 2.
        #expect(MFISSearch.nearestToIdeal(front) == 2)
        let knee = try #require(FrontChoice.knee(front))
        let list = MFISSearch.candidateIndices(front: front, chosen: 2, chosenReason: "nearest-ideal", target: .rate(0.3),
                                               names: ["a", "b", "size"], limit: 10)
        // Losses (a + b): 1, 1, 1, 0.4, 1.8. Sizes 0.1 ... 1: the level at 1 is member 3 (least
        // loss overall), at 0 member 4 (the only one storing 0.1), at 1/2 (0.55) member 2.
        let byIndex = Dictionary(uniqueKeysWithValues: list.map { ($0.index, $0.reasons) })
        var order = [2, knee, 3, 4, 0, 1]
        order = order.enumerated().filter { !order.prefix($0.offset).contains($0.element) }.map(\.element)
        #expect(list.map(\.index) == order)
        #expect(byIndex[2]?.first == "nearest-ideal" && byIndex[2]?.contains("least loss storing at most 0.55") == true)
        #expect(byIndex[3]?.contains("least loss storing at most 1") == true)
        #expect(byIndex[4]?.contains("least loss storing at most 0.1") == true && byIndex[4]?.last == "extreme of size")
        #expect(byIndex[0] == (knee == 0 ? ["knee", "extreme of a"] : ["extreme of a"]))
        #expect(byIndex[1] == (knee == 1 ? ["knee", "extreme of b"] : ["extreme of b"]))
        // A limit cuts the list, never the reasons of a member already in it.
        let two = MFISSearch.candidateIndices(front: front, chosen: 2, chosenReason: "nearest-ideal", target: .rate(0.3),
                                              names: ["a", "b", "size"], limit: 2)
        #expect(two.map(\.index) == Array(order.prefix(2)))
        // Adaptive: the knee is the default pick, and nothing larger than it is put forward;
        // the levels span the members no larger (4 and 2: sizes 0.1 ... 0.2).
        let adaptive = MFISSearch.candidateIndices(front: front, chosen: 2, chosenReason: "knee", target: .adaptive,
                                                   names: ["a", "b", "size"], limit: 10)
        #expect(adaptive.map(\.index) == [2, 4])  // 0, 1 (size 1) and 3 (0.9) are larger than 2 (0.2)
        #expect(adaptive[0].reasons.prefix(3) == ["knee", "nearest-ideal", "least loss storing at most 0.2"])
        #expect(adaptive[1].reasons.first == "least loss storing at most 0.1" && adaptive[1].reasons.last == "extreme of size")
    }

    /// One model at a rate: every member stores the same, so no storage level or size extreme
    /// is put forward (they would name arbitrary members).
    @Test func equalSizesPutForwardNoStorageLevels() {
        let front: [[Double]] = [[0, 1, 0.5], [1, 0, 0.5], [0.4, 0.4, 0.5]]
        let list = MFISSearch.candidateIndices(front: front, chosen: 2, chosenReason: "nearest-ideal", target: .rate(0.3),
                                               names: ["a", "b", "size"], limit: 10)
        #expect(Set(list.map(\.index)) == [0, 1, 2])
        #expect(list.flatMap(\.reasons).allSatisfy { !$0.hasPrefix("least loss storing") && $0 != "extreme of size" })
        #expect(MFISSearch.candidateIndices(front: front, chosen: 2, chosenReason: "nearest-ideal", target: .rate(0.3),
                                            names: ["a", "b", "size"], limit: 1).map(\.index) == [2])
        // One model, sizes that differ (an adaptive rate): only the top level, the least loss overall.
        let sized: [[Double]] = [[0, 1, 1], [1, 0, 1], [0.5, 0.5, 0.2], [0.2, 0.2, 0.9], [0.9, 0.9, 0.1]]
        let one = MFISSearch.candidateIndices(front: sized, chosen: 2, chosenReason: "nearest-ideal", target: .rate(0.3),
                                              names: ["a", "b", "size"], limit: 10, smallerLevels: false)
        #expect(one.flatMap(\.reasons).filter { $0.hasPrefix("least loss storing") } == ["least loss storing at most 1"])
    }

    /// One model has nothing to share: whatever the margin, the lowest loss is kept.
    @Test func oneModelKeepsTheLowestLossWhateverTheMargin() throws {
        let (dir, models, data) = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = Self.options(candidates: 8, data: data, margin: 100)
        options.mfis.target = .adaptive
        let report = try Self.run(options, [models[0]], into: dir.appendingPathComponent("one"))
        let list = try #require(report.mfis.candidates)
        let chosen = try #require(list.first { $0.chosen })
        #expect(list.count > 1 && chosen.heldOutLoss == list.map(\.heldOutLoss).min())
    }

    /// The rule by hand: the lowest loss, unless one storing less is within the margin of its
    /// accuracy; then the one storing least of those.
    @Test func theMarginTradesAccuracyForStorage() {
        typealias S = CandidateChoice.Scored
        let scored = [S(loss: 0.30, accuracy: 0.970, size: 0.16), S(loss: 0.15, accuracy: 0.980, size: 0.49),
                      S(loss: 0.20, accuracy: 0.976, size: 0.27), S(loss: 0.21, accuracy: 0.976, size: 0.27),
                      S(loss: 0.50, accuracy: 0.9765, size: 0.10)]
        #expect(CandidateChoice.pick(scored, margin: 0) == 1)          // the lowest loss
        #expect(CandidateChoice.pick(scored, margin: 0.003) == 1)      // floor 0.977: none within
        #expect(CandidateChoice.pick(scored, margin: 0.005) == 4)      // floor 0.975: 2, 3, 4; 4 stores least
        #expect(CandidateChoice.pick(Array(scored.prefix(4)), margin: 0.005) == 2)  // 0.27 twice: the lower loss
        #expect(CandidateChoice.pick(Array(scored.prefix(4)), margin: 0.01) == 0)   // 0.970 ≥ 0.970
        // More accurate than the lowest-loss one and smaller: taken at any margin above 0.
        let better = [S(loss: 0.2, accuracy: 0.95, size: 0.5), S(loss: 0.25, accuracy: 0.96, size: 0.2)]
        #expect(CandidateChoice.pick(better, margin: 0) == 0 && CandidateChoice.pick(better, margin: 1e-9) == 1)
        // A NaN loss is neither the lowest nor taken for its size.
        let nan = [S(loss: .nan, accuracy: 0.99, size: 0.01), S(loss: 0.2, accuracy: 0.98, size: 0.5), S(loss: 0.3, accuracy: 0.98, size: 0.4)]
        #expect(CandidateChoice.pick(nan, margin: 0) == 1 && CandidateChoice.pick(nan, margin: 0.01) == 2)
        // Every loss NaN: the first (the search's own pick).
        #expect(CandidateChoice.pick([S(loss: .nan, accuracy: 1, size: 1), S(loss: .nan, accuracy: 1, size: 0)], margin: 0.5) == 0)
    }

    /// Merging the tasks' filters (what the nearest-ideal pick does most) costs these far-apart
    /// copies accuracy, which no weight-only objective sees; the data does.
    @Test func dataTakesTheLowestLossNotTheNearestIdeal() throws {
        let (dir, models, data) = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = try Self.run(Self.options(candidates: 8, data: data, margin: 0), models, into: dir.appendingPathComponent("out"))
        let list = try #require(report.mfis.candidates)
        #expect(list.count >= 3 && list.count <= 8)
        #expect(Set(list.map(\.index)).count == list.count)
        #expect(list[0].reasons.first == "nearest-ideal")
        let chosen = try #require(list.first { $0.chosen })
        #expect(list.filter(\.chosen).count == 1)
        #expect(chosen.heldOutLoss == list.map(\.heldOutLoss).min())
        #expect(list[0].heldOutLoss > chosen.heldOutLoss + 0.1, "nearest-ideal \(list[0].heldOutLoss), chosen \(chosen.heldOutLoss)")
        #expect(report.mfis.chosen.index == chosen.index && report.mfis.chosen.objectives == chosen.objectives)
        #expect(report.mfis.chosen.reason.hasPrefix("chosen on data") && report.mfis.chosen.reason.contains("It has the lowest loss."))
        // 5 held-out samples: the reason says the choice is mostly noise.
        #expect(report.mfis.chosen.reason.contains("Only 5 samples were scored"))
        for c in list {
            #expect(c.objectives == report.mfis.front[c.index])
            #expect(abs(c.heldOutLoss - c.tasks.reduce(0) { $0 + $1.loss }) < 1e-9)
            #expect(abs(c.meanAccuracy - c.tasks.reduce(0) { $0 + $1.accuracy } / 3) < 1e-12)
        }
        // 43 training and 5 held-out samples are under the comparison's bounds: the chosen
        // candidate was recalibrated and scored exactly as the written models were.
        for (t, model) in report.models.enumerated() {
            let after = try #require(model.accuracy?.afterRecalibration)
            #expect(abs(after.loss - chosen.tasks[t].loss) < 1e-9 && after.accuracy == chosen.tasks[t].accuracy, "\(model.task)")
        }
    }

    /// K = 1 is the run as it was before candidates: the search's pick, then the data stages.
    @Test func oneCandidateIsTheSearchsPickBitForBit() throws {
        let (dir, models, data) = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let options = Self.options(candidates: 1, data: data)
        let report = try Self.run(options, models, into: dir.appendingPathComponent("out"))
        #expect(report.mfis.candidates == nil)

        let loaded = try models.map { try ModelFile.load($0) }
        let result = try MultiTaskPruner(options: options.mfis).prune(loaded.map(\.graph), tasks: loaded.map(\.task))
        #expect(report.mfis.chosen == result.mfis.chosen)
        let shared = try SharedParameters(bundle: result.bundle, graphs: result.graphs)
        let recovery = try AccuracyRecovery(data: TrainingData.read(contentsOf: data), options: options.training)
        let recovered = try recovery.run(loaded.enumerated().map { t, m in
            AccuracyRecovery.Task(name: m.task, original: m.graph.constantsAsInitializers(), pruned: result.graphs[t], keptRows: result.keptRows[t])
        }, shared: shared)
        for (t, m) in loaded.enumerated() {
            let written = try ModelFile.load(dir.appendingPathComponent("out/\(m.task).onnx")).graph
            for (name, tensor) in recovered.tasks[t].graph.initializers { #expect(written.initializers[name] == tensor, "\(m.task) \(name)") }
            #expect(report.models[t].accuracy == recovered.tasks[t].report)
        }
    }

    @Test func theSameSeedMakesTheSameChoice() throws {
        let (dir, models, data) = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try Self.run(Self.options(candidates: 4, data: data, seed: 5), models, into: dir.appendingPathComponent("a"))
        let second = try Self.run(Self.options(candidates: 4, data: data, seed: 5), models, into: dir.appendingPathComponent("b"))
        #expect(first.mfis.candidates != nil && first.mfis.candidates == second.mfis.candidates)
        #expect(first.mfis.chosen == second.mfis.chosen)
        for m in first.models {
            let a = try Data(contentsOf: dir.appendingPathComponent("a/\(m.task).onnx"))
            #expect(a == (try Data(contentsOf: dir.appendingPathComponent("b/\(m.task).onnx"))), "\(m.task)")
        }
    }

    /// Unset, the count is 8 — or 1 when the run fine-tunes (measured: the search's pick did as
    /// well after fine-tuning, sharing more).
    @Test func byDefaultEightUnlessTheRunFineTunes() throws {
        let (dir, models, data) = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let eight = try Self.run(Self.options(candidates: 8, data: data), models, into: dir.appendingPathComponent("a"))
        let recalibrated = try Self.run(Self.options(candidates: nil, data: data), models, into: dir.appendingPathComponent("b"))
        #expect(eight.mfis.candidates?.count == 8 && recalibrated.mfis.candidates == eight.mfis.candidates)
        let tuned = try Self.run(Self.options(candidates: nil, data: data, epochs: 1), models, into: dir.appendingPathComponent("c"))
        #expect(tuned.mfis.candidates == nil && tuned.mfis.chosen.reason.hasPrefix("pre-specified rate 0.5"))
        let asked = try Self.run(Self.options(candidates: 2, data: data, epochs: 1), models, into: dir.appendingPathComponent("c2"))
        #expect(asked.mfis.candidates?.count == 2)
    }

    /// With a margin, the report's own scores show the rule was followed, and the written
    /// models are the kept candidate's (their recalibrated scores are its scores).
    @Test func withAMarginTheSmallestWithinItIsKept() throws {
        let (dir, models, data) = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        for margin in [5.0, 100] {  // 0: dataTakesTheLowestLossNotTheNearestIdeal
            let report = try Self.run(Self.options(candidates: 8, data: data, margin: margin), models,
                                      into: dir.appendingPathComponent("m\(margin)"))
            let list = try #require(report.mfis.candidates)
            let lowest = try #require(list.min { $0.heldOutLoss < $1.heldOutLoss })
            let within = list.filter { $0.meanAccuracy >= lowest.meanAccuracy - margin / 100 }
            let smallest = try #require(within.map { $0.objectives.last! }.min())
            let chosen = try #require(list.first { $0.chosen })
            #expect(list.filter(\.chosen).count == 1)
            #expect(chosen.objectives.last! == smallest, "margin \(margin)")
            if margin == 100 { #expect(chosen.objectives.last! == list.map { $0.objectives.last! }.min()) }
            #expect(report.mfis.chosen.index == chosen.index)
            for (t, model) in report.models.enumerated() {
                let after = try #require(model.accuracy?.afterRecalibration)
                #expect(abs(after.loss - chosen.tasks[t].loss) < 1e-9 && after.accuracy == chosen.tasks[t].accuracy, "\(model.task)")
            }
        }
    }

    /// The audit file is scored and nothing else: with every sample scored (holdout 0) and the
    /// data file as its own audit, each candidate's audit accuracy is its accuracy, and the
    /// choice is the one made without an audit.
    @Test func anAuditScoresEveryCandidateAndChangesNothing() throws {
        let (dir, models, data) = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = Self.options(candidates: 4, data: data)
        options.training.heldOutFraction = 0
        let plain = try Self.run(options, models, into: dir.appendingPathComponent("plain"))
        options.candidateAudit = data
        let audited = try Self.run(options, models, into: dir.appendingPathComponent("audited"))
        let list = try #require(audited.mfis.candidates)
        for c in list { #expect(c.auditAccuracy.map { abs($0 - c.meanAccuracy) < 1e-12 } == true) }
        #expect(plain.mfis.candidates?.allSatisfy { $0.auditAccuracy == nil } == true)
        #expect(list.map { var c = $0; c.auditAccuracy = nil; return c } == plain.mfis.candidates)
        #expect(audited.mfis.chosen == plain.mfis.chosen)
    }

    /// Every stage is timed once: the stages' seconds add up to no more than the run took
    /// (the data stages' time was once counted again under "write").
    @Test func stageSecondsAddUpToTheRunAtMost() throws {
        let (dir, models, data) = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let start = ContinuousClock.now
        let report = try Self.run(Self.options(candidates: 2, data: data, epochs: 1), models, into: dir.appendingPathComponent("out"))
        let elapsed = ContinuousClock.now - start
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let total = try #require(report.seconds["total"])
        #expect(total <= wall, "stages \(report.seconds), run \(wall) s")
        #expect((report.seconds["recalibrate"] ?? 0) > 0 && (report.seconds["finetune"] ?? 0) > 0)
    }

    @Test func withoutDataTheCountIsIgnored() throws {
        let (dir, models, _) = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = try Self.run(Self.options(candidates: 8, data: nil), models, into: dir.appendingPathComponent("out"))
        #expect(report.mfis.candidates == nil)
        #expect(report.mfis.chosen.reason.hasPrefix("pre-specified rate 0.5"))
    }

    @Test func theCandidatesStageReportsProgressAndStopsOnCancel() throws {
        let (dir, models, data) = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let stages = StageLog()
        _ = try Self.run(Self.options(candidates: 4, data: data), models, into: dir.appendingPathComponent("out"),
                         hooks: .init(progress: { stages.add($0, $1) }))
        let fractions = zip(stages.names, stages.fractions).filter { $0.0 == "candidates" }.map(\.1)
        #expect(fractions.count > 4)
        #expect(fractions == fractions.sorted() && fractions.allSatisfy { (0.19...0.27).contains($0) })
        // Candidates are built quietly; the kept one is built again, after them, under its stages.
        let lastCandidate = try #require(stages.names.lastIndex(of: "candidates"))
        #expect(stages.names.firstIndex(of: "merge").map { $0 > lastCandidate } == true)

        let cancelled = StageLog()
        #expect(throws: CancellationError.self) {
            try Self.run(Self.options(candidates: 4, data: data), models, into: dir.appendingPathComponent("cancelled"),
                         hooks: .init(progress: { cancelled.add($0, $1) },
                                      isCancelled: { cancelled.names.filter { $0 == "candidates" }.count >= 3 }))
        }
        #expect(!cancelled.names.contains("evaluate"))
    }
}
