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

    public init(data: TrainingData, options: TrainingOptions) throws {
        self.data = data
        self.options = options
        split = try DataSplit(count: data.count, heldOutFraction: options.heldOutFraction, seed: options.seed)
    }

    /// `progress(stage, fraction)` between batches; a throw there (cancellation) stops the run.
    /// Returns the graph to write (recalibrated and fine-tuned) and what each step did.
    public func run(original: Graph, pruned: Graph, keptRows: [String: [Int]], task: String,
                    progress: (String, Double) throws -> Void = { _, _ in }) throws -> (graph: Graph, report: AccuracyReport, seconds: [String: Double]) {
        var clock = StageClock()
        let reference = try ClassifierGraph(original, sampleShape: data.sampleShape)
        var model = try ClassifierGraph(pruned, sampleShape: data.sampleShape)
        let labelName = try data.labelName(forTask: task)
        let labels = try labelName.map { data.labels[$0]! } ?? teacherPredictions(reference)
        let scoredAgainst = labelName ?? AccuracyReport.teacherLabels
        func score(_ m: ClassifierGraph, _ stage: String) throws -> ClassifierScore {
            try ClassifierScore.measure(m, data: data, indices: split.heldOut, labels: labels, labelName: scoredAgainst,
                                        batchSize: options.batchSize) { try progress(stage, 0) }
        }
        var report = AccuracyReport(labels: scoredAgainst, trainingSamples: split.training.count, heldOutSamples: split.heldOut.count,
                                    beforePruning: try score(reference, "evaluate"), afterPruning: try score(model, "evaluate"))
        clock.lap("evaluate")

        let calibration = calibrationSamples()
        try BatchNormRecalibration.recalibrate(&model, data: data, indices: calibration, batchSize: options.batchSize) {
            try progress("recalibrate", $0 / 2)
        }
        report.recalibratedBatchNorms = model.graph.nodes.filter { $0.opType == "BatchNormalization" }.map(\.label)
        report.correctedLayers = try FoldedBatchNormCorrection.correct(
            &model, reference: reference, original: original, keptRows: keptRows, data: data, indices: calibration,
            batchSize: options.batchSize) { try progress("recalibrate", 0.5 + $0 / 2) }
        clock.lap("recalibrate")
        report.afterRecalibration = try score(model, "evaluate")
        clock.lap("evaluate")

        if options.epochs > 0 {
            let target: FineTuning.Target = labelName.map { .labels(labels, name: $0) } ?? .teacher(reference)
            report.loss = labelName == nil ? "distillation" : "cross-entropy"
            report.epochs = try FineTuning.train(&model, data: data, indices: split.training, target: target, options: options) {
                try progress("finetune", $0)
            }
            clock.lap("finetune")
            report.afterFineTuning = try score(model, "evaluate")
            clock.lap("evaluate")
        }
        return (model.exportable, report, clock.seconds)
    }

    /// The unpruned model's top-1 class of every held-out sample (0 elsewhere, unread): what a
    /// model is scored against when the data has no labels.
    private func teacherPredictions(_ reference: ClassifierGraph) throws -> [Int] {
        var labels = [Int](repeating: 0, count: data.count)
        for batch in BatchOrder.inOrder(split.heldOut, size: options.batchSize) {
            for (i, p) in zip(batch, ClassifierScore.predictions(try reference.logits(data.inputs(batch)))) { labels[i] = p }
        }
        return labels
    }

    /// The training split, or a seeded subset of `calibrationLimit` of it.
    private func calibrationSamples() -> [Int] {
        guard split.training.count > Self.calibrationLimit else { return split.training }
        var order = split.training
        var rng = Xoshiro256StarStar(seed: options.seed ^ 0xca11_b4a7)
        rng.shuffle(&order)
        return order.prefix(Self.calibrationLimit).sorted()
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
