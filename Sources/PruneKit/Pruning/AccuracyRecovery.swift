/// The data stages of a pruning run (ALGORITHM.md §5): score the model before and after
/// pruning on a held-out split, recalibrate BN statistics (or apply the folded-BN correction)
/// on the training split, fine-tune for the epochs asked, and score after each step.
public struct AccuracyRecovery: Sendable {
    /// Recalibration and the correction look at no more samples than this: the statistics have
    /// settled long before, and the correction makes one pass per corrected layer.
    public static let calibrationLimit = 4096

    public var data: TrainingData
    public var split: DataSplit
    public var options: TrainingOptions
    /// Off only to measure what pruning alone gives (`pruned prune --no-recalibration`, hidden):
    /// no BN recalibration and no folded-BN correction, here or when candidates are compared.
    public var recalibrates = true

    public init(data: TrainingData, options: TrainingOptions) throws {
        self.data = data
        self.options = options
        split = try DataSplit(count: data.count, heldOutFraction: options.heldOutFraction, seed: options.seed)
    }

    /// One task to recover: its unpruned graph, its pruned graph, `keptRows` (row j of a pruned
    /// weight is row `keptRows[w][j]` of the original) and, per weight, the pruned rows that
    /// are shared filters (`SharedParameters.sharedRows`), which the folded-BN correction leaves alone.
    public struct Task: Sendable {
        public var name: String
        public var original: Graph
        public var pruned: Graph
        public var keptRows: [String: [Int]]
        public var sharedRows: [String: Set<Int>]
        public init(name: String, original: Graph, pruned: Graph, keptRows: [String: [Int]], sharedRows: [String: Set<Int>] = [:]) {
            self.name = name
            self.original = original
            self.pruned = pruned
            self.keptRows = keptRows
            self.sharedRows = sharedRows
        }
    }

    /// A task between recalibration and fine-tuning.
    private struct Prepared {
        var model: ClassifierGraph
        var target: FineTuning.Target
        var labels: [Int]
        var scoredAgainst: String
        var report: AccuracyReport
    }

    /// Scores, recalibrates and corrects every task on its own (BN is per task), then fine-tunes
    /// them together (`shared` ties their shared filters; one task is plain fine-tuning), and
    /// scores them again. `progress(stage, fraction)` between batches; a throw there
    /// (cancellation) stops the run. Returns per task the graph to write and what each step did.
    public func run(_ tasks: [Task], shared: SharedParameters? = nil, progress: (String, Double) throws -> Void = { _, _ in })
        throws -> (graphs: [Graph], reports: [AccuracyReport], seconds: [String: Double]) {
        var clock = StageClock()
        // Per task: labels (cross-entropy), or none (distillation from its unpruned model).
        let labelNames = try data.labelNames(forTasks: tasks.map(\.name))
        var prepared: [Prepared] = []
        for (t, task) in tasks.enumerated() {
            prepared.append(try prepare(task, labelName: labelNames[t], clock: &clock) { stage, f in try progress(stage, (Double(t) + f) / Double(tasks.count)) })
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
        return (prepared.map(\.model.exportable), prepared.map(\.report), clock.seconds)
    }

    private func score(_ p: Prepared, tick: () throws -> Void) throws -> ClassifierScore {
        try score(p.model, labels: p.labels, name: p.scoredAgainst, tick: tick)
    }

    private func score(_ model: ClassifierGraph, labels: [Int], name: String, tick: () throws -> Void) throws -> ClassifierScore {
        try ClassifierScore.measure(model, data: data, indices: split.heldOut, labels: labels, labelName: name,
                                    batchSize: options.batchSize, checkpoint: tick)
    }

    /// Scores before and after pruning, recalibrates BN and corrects folded convs (shared rows
    /// excepted), scores again.
    private func prepare(_ task: Task, labelName: String?, clock: inout StageClock, progress: (String, Double) throws -> Void) throws -> Prepared {
        let reference = try ClassifierGraph(task.original, sampleShape: data.sampleShape)
        let model = try ClassifierGraph(task.pruned, sampleShape: data.sampleShape)
        let labels = try labelName.map { data.labels[$0]! } ?? teacherPredictions(reference)
        let target: FineTuning.Target = labelName.map { .labels(labels, name: $0) } ?? .teacher(reference)
        let scoredAgainst = labelName ?? AccuracyReport.teacherLabels
        let tick = { try progress("evaluate", 0) }
        let report = AccuracyReport(labels: scoredAgainst, trainingSamples: split.training.count, heldOutSamples: split.heldOut.count,
                                    beforePruning: try score(reference, labels: labels, name: scoredAgainst, tick: tick),
                                    afterPruning: try score(model, labels: labels, name: scoredAgainst, tick: tick))
        var p = Prepared(model: model, target: target, labels: labels, scoredAgainst: scoredAgainst, report: report)
        clock.lap("evaluate")

        guard recalibrates else { return p }
        let calibration = calibrationSamples()
        try BatchNormRecalibration.recalibrate(&p.model, data: data, indices: calibration, batchSize: options.batchSize) {
            try progress("recalibrate", $0 / 2)
        }
        p.report.recalibratedBatchNorms = p.model.graph.nodes.filter { $0.opType == "BatchNormalization" }.map(\.label)
        p.report.correctedLayers = try FoldedBatchNormCorrection.correct(
            &p.model, reference: reference, original: task.original, keptRows: task.keptRows, leaving: task.sharedRows, data: data,
            indices: calibration, batchSize: options.batchSize) { try progress("recalibrate", 0.5 + $0 / 2) }
        clock.lap("recalibrate")
        p.report.afterRecalibration = try score(p, tick: tick)
        clock.lap("evaluate")
        return p
    }

    /// The unpruned model's top-1 class of every held-out sample (0 elsewhere, unread): what a
    /// model is scored against when the data has no labels.
    func teacherPredictions(_ reference: ClassifierGraph) throws -> [Int] {
        var labels = [Int](repeating: 0, count: data.count)
        for batch in BatchOrder.inOrder(split.heldOut, size: options.batchSize) {
            for (i, p) in zip(batch, ClassifierScore.predictions(try reference.logits(data.inputs(batch)))) { labels[i] = p }
        }
        return labels
    }

    /// The training split, or a seeded subset of `limit` of it.
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
    public var beforePruning: ClassifierScore
    public var afterPruning: ClassifierScore
    /// After BN recalibration and the folded-BN correction (equal to `afterPruning` when neither applied).
    public var afterRecalibration: ClassifierScore?
    public var afterFineTuning: ClassifierScore?
    /// BatchNormalization nodes whose running statistics were re-estimated.
    public var recalibratedBatchNorms: [String] = []
    /// Convs given the folded-BN affine correction.
    public var correctedLayers: [String] = []
    /// `cross-entropy` or `distillation`, when fine-tuned.
    public var loss: String?
    /// Mean training loss of each fine-tuning epoch.
    public var epochs: [FineTuning.Epoch] = []

    public init(labels: String, trainingSamples: Int, heldOutSamples: Int, beforePruning: ClassifierScore, afterPruning: ClassifierScore) {
        self.labels = labels
        self.trainingSamples = trainingSamples
        self.heldOutSamples = heldOutSamples
        self.beforePruning = beforePruning
        self.afterPruning = afterPruning
    }
}
