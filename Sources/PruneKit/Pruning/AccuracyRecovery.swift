/// The data stages of a pruning run (ALGORITHM.md §5): score the model before and after
/// pruning on a held-out split, recalibrate BN statistics (folded BN given back for it) on the
/// training split, fine-tune for the epochs asked, and score after each step.
public struct AccuracyRecovery: Sendable {
    /// Recalibration looks at no more samples than this: the statistics have settled long
    /// before, and it makes two passes (the unpruned model's goal, then the pruned model's).
    public static let calibrationLimit = 4096

    public var data: TrainingData
    public var split: DataSplit
    public var options: TrainingOptions
    /// Off only to measure what pruning alone gives (`pruned prune --no-recalibration`, hidden):
    /// no BN given back, none recalibrated, here or when candidates are compared.
    public var recalibrates = true

    public init(data: TrainingData, options: TrainingOptions) throws {
        self.data = data
        self.options = options
        split = try DataSplit(count: data.count, heldOutFraction: options.heldOutFraction, seed: options.seed)
    }

    /// One task to recover: its unpruned graph, its pruned graph, and `keptRows` (row j of a
    /// pruned weight is row `keptRows[w][j]` of the original).
    public struct Task: Sendable {
        public var name: String
        public var original: Graph
        public var pruned: Graph
        public var keptRows: [String: [Int]]
        public init(name: String, original: Graph, pruned: Graph, keptRows: [String: [Int]]) {
            self.name = name
            self.original = original
            self.pruned = pruned
            self.keptRows = keptRows
        }
    }

    /// What recovery gives back per task: `graph` to write; `unscaled`, the same with each
    /// folded-back conv weight before its row `gains` (what a bundle's banks hold).
    public struct Recovered: Sendable {
        public var graph: Graph
        public var unscaled: Graph
        public var gains: [String: [Float]]
        public var report: AccuracyReport
    }

    /// A task between recalibration and fine-tuning.
    private struct Prepared {
        var model: ClassifierGraph
        var unfolded: UnfoldedBatchNorm
        var target: FineTuning.Target
        var labels: [Int]
        var scoredAgainst: String
        var report: AccuracyReport
    }

    /// Scores every task, gives each folded conv its BN back (`UnfoldedBatchNorm`), recalibrates
    /// every BN on its task's own data pass (BN is per task), fine-tunes the tasks together
    /// (`shared` ties their shared filters, which the BNs leave untouched; one task is plain
    /// fine-tuning), scores them again, and folds the BNs back. `progress(stage, fraction)`
    /// between batches; a throw there (cancellation) stops the run.
    public func run(_ tasks: [Task], shared: SharedParameters? = nil, progress: (String, Double) throws -> Void = { _, _ in })
        throws -> (tasks: [Recovered], seconds: [String: Double]) {
        var clock = StageClock()
        let references = try self.references(tasks.map { ($0.name, $0.original) }) { try progress("reference", $0) }
        clock.lap("reference")
        let (recovered, seconds) = try run(tasks, references: references, shared: shared, progress: progress)
        return (recovered, clock.seconds.merging(seconds, uniquingKeysWith: +))
    }

    /// Each task's `TaskReference` (its unpruned model measured once), in task order: against
    /// its labels (cross-entropy), or, with none, its own predictions (distillation).
    /// `comparisonCalibration`: the comparison of candidates' calibration samples, if it runs.
    func references(_ originals: [(name: String, graph: Graph)], comparisonCalibration: [Int]? = nil,
                    progress: (Double) throws -> Void) throws -> [TaskReference] {
        let labelNames = try data.labelNames(forTasks: originals.map(\.name))
        return try originals.enumerated().map { t, task in
            try TaskReference(name: task.name, graph: task.graph, labelName: labelNames[t], recovery: self,
                              comparisonCalibration: comparisonCalibration) { try progress((Double(t) + $0) / Double(originals.count)) }
        }
    }

    /// `run` with each task's unpruned model already measured (`references`, in task order).
    func run(_ tasks: [Task], references: [TaskReference], shared: SharedParameters? = nil,
             progress: (String, Double) throws -> Void = { _, _ in }) throws -> (tasks: [Recovered], seconds: [String: Double]) {
        precondition(references.count == tasks.count, "one reference per task")
        var clock = StageClock()
        var prepared: [Prepared] = []
        for (t, task) in tasks.enumerated() {
            prepared.append(try prepare(task, reference: references[t], clock: &clock) { stage, f in try progress(stage, (Double(t) + f) / Double(tasks.count)) })
        }
        if options.epochs > 0 {
            var models = prepared.map(\.model)
            let epochs = try FineTuning.train(&models, targets: prepared.map(\.target), data: data, indices: split.training,
                                              options: options, shared: shared) { try progress("finetune", $0) }
            clock.lap("finetune")
            for t in prepared.indices {
                prepared[t].model = models[t]
                if case .teacher = prepared[t].target { prepared[t].report.loss = "distillation" } else { prepared[t].report.loss = "cross-entropy" }
                prepared[t].report.epochs = epochs[t]
                prepared[t].report.afterFineTuning = try score(prepared[t]) { try progress("evaluate", 0) }
            }
            clock.lap("evaluate")
        }
        let recovered = try prepared.map { p in
            var model = p.model
            let gains = try p.unfolded.fold(&model.graph)
            let unscaled = model.exportable
            var graph = unscaled
            for (name, g) in gains { graph.setInitializer(name, RowGains.apply(g, to: graph.initializers[name]!)) }
            return Recovered(graph: graph, unscaled: unscaled, gains: gains, report: p.report)
        }
        clock.lap("recalibrate")
        return (recovered, clock.seconds)
    }

    private func score(_ p: Prepared, tick: () throws -> Void) throws -> ClassifierScore {
        try score(p.model, labels: p.labels, name: p.scoredAgainst, tick: tick)
    }

    private func score(_ model: ClassifierGraph, labels: [Int], name: String, tick: () throws -> Void) throws -> ClassifierScore {
        try ClassifierScore.measure(model, data: data, indices: scored, labels: labels, labelName: name,
                                    batchSize: options.batchSize, checkpoint: tick)
    }

    /// Scores after pruning (before: the reference's), unfolds folded BN, recalibrates every BN, scores again.
    private func prepare(_ task: Task, reference: TaskReference, clock: inout StageClock, progress: (String, Double) throws -> Void) throws -> Prepared {
        var model = try ClassifierGraph(task.pruned, sampleShape: data.sampleShape)
        let labels = reference.labels, scoredAgainst = reference.labelName
        let target: FineTuning.Target = reference.isTeacher ? .teacher(reference.model) : .labels(labels, name: scoredAgainst)
        let tick = { try progress("evaluate", 0) }
        var report = AccuracyReport(labels: scoredAgainst, trainingSamples: split.training.count, heldOutSamples: split.heldOut.count,
                                    scoredOn: split.heldOut.isEmpty ? AccuracyReport.scoredOnTraining : AccuracyReport.scoredOnHeldOut,
                                    beforePruning: reference.beforePruning,
                                    afterPruning: try score(model, labels: labels, name: scoredAgainst, tick: tick))
        clock.lap("evaluate")
        guard recalibrates else {
            return Prepared(model: model, unfolded: UnfoldedBatchNorm(sites: []), target: target, labels: labels, scoredAgainst: scoredAgainst,
                            report: report)
        }

        report.recalibratedBatchNorms = model.graph.nodes.filter { $0.opType == "BatchNormalization" }.map(\.label)
        let unfolded = try recalibrate(&model, referenceMoments: reference.moments, keptRows: task.keptRows, calibration: calibrationSamples()) {
            try progress("recalibrate", $0)
        }
        report.correctedLayers = unfolded.sites.map(\.conv)
        clock.lap("recalibrate")
        var p = Prepared(model: model, unfolded: unfolded, target: target, labels: labels, scoredAgainst: scoredAgainst, report: report)
        p.report.afterRecalibration = try score(p, tick: tick)
        clock.lap("evaluate")
        return p
    }

    /// The recalibration step, shared with the comparison of candidates: every conv whose BN
    /// the export folded in gets it back with the unpruned model's moments on `calibration`
    /// (`UnfoldedBatchNorm.referenceMoments`) as its goal, then every BN is recalibrated there.
    func recalibrate(_ model: inout ClassifierGraph, referenceMoments: [String: ChannelMoments], keptRows: [String: [Int]],
                     calibration: [Int], progress: (Double) throws -> Void) throws -> UnfoldedBatchNorm {
        let goal = UnfoldedBatchNorm.goal(referenceMoments, convs: UnfoldedBatchNorm.convs(of: model.graph), keptRows: keptRows)
        let unfolded = try UnfoldedBatchNorm.unfold(&model.graph, goal: goal)
        try BatchNormRecalibration.recalibrate(&model, data: data, indices: calibration, batchSize: options.batchSize, checkpoint: progress)
        return unfolded
    }

    /// The samples every score is taken on: the held-out split, or with none held out
    /// (`--holdout 0`) the training samples.
    var scored: [Int] { split.heldOut.isEmpty ? split.training : split.heldOut }

    /// The training split, or a seeded subset of `limit` of it (the smaller limit's samples
    /// are the first of the larger's: one seeded order).
    func calibrationSamples(limit: Int = calibrationLimit) -> [Int] {
        guard split.training.count > limit else { return split.training }
        var order = split.training
        var rng = Xoshiro256StarStar(seed: options.seed ^ 0xca11_b4a7)
        rng.shuffle(&order)
        return order.prefix(limit).sorted()
    }
}

/// `report.json`'s `accuracy` of a model pruned with data: top-1 accuracy (0...1) and mean
/// cross-entropy on the held-out split after each step.
public struct AccuracyReport: Sendable, Codable, Equatable {
    /// What `labels` says when the data has none: the unpruned model's top-1 predictions.
    public static let teacherLabels = "unpruned model's predictions"

    /// The labels scored against: `label`, `label.<task>`, or the teacher's predictions.
    public var labels: String
    public var trainingSamples: Int
    public var heldOutSamples: Int
    /// What the scores are measured on: `held-out` samples, or the `training` samples when
    /// none were held out (absent in reports from before it was recorded: held-out).
    public var scoredOn: String?
    public static let scoredOnHeldOut = "held-out"
    public static let scoredOnTraining = "training"
    public var beforePruning: ClassifierScore
    public var afterPruning: ClassifierScore
    /// After BN recalibration, folded BN given back for it (absent with recalibration off).
    public var afterRecalibration: ClassifierScore?
    public var afterFineTuning: ClassifierScore?
    /// BatchNormalization nodes whose running statistics were re-estimated.
    public var recalibratedBatchNorms: [String] = []
    /// Convs whose BN the export had folded in: given a BN for recalibration and fine-tuning
    /// (`UnfoldedBatchNorm`), folded back into them afterwards.
    public var correctedLayers: [String] = []
    /// `cross-entropy` or `distillation`, when fine-tuned.
    public var loss: String?
    /// Mean training loss of each fine-tuning epoch.
    public var epochs: [FineTuning.Epoch] = []

    public init(labels: String, trainingSamples: Int, heldOutSamples: Int, scoredOn: String = scoredOnHeldOut,
                beforePruning: ClassifierScore, afterPruning: ClassifierScore) {
        self.scoredOn = scoredOn
        self.labels = labels
        self.trainingSamples = trainingSamples
        self.heldOutSamples = heldOutSamples
        self.beforePruning = beforePruning
        self.afterPruning = afterPruning
    }
}
