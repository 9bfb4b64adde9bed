/// One task's unpruned model measured on the data once per job: what the comparison of
/// candidates (`CandidateComparison`) and the data stages (`AccuracyRecovery`) compare every
/// pruned model of the task with. Each used to run the unpruned model itself over the same
/// samples or a subset of them, which for a large model is most of what they cost.
///
/// Two passes: one over the scored samples, whose logits give the teacher's top-1 labels (a
/// task without labels), the distillation targets and the score before pruning; and, with
/// recalibration on, one over the calibration samples, for the moments of every conv output
/// that gets its folded BN back (the recalibration goal, `UnfoldedBatchNorm`). The comparison's
/// samples are subsets of those, and a sample's values do not depend on the batch it runs in,
/// so its figures are the subsets' rows of the same passes.
struct TaskReference: Sendable {
    var name: String
    var model: ClassifierGraph
    /// What the task is scored against: `label`, `label.<task>`, or `AccuracyReport.teacherLabels`.
    var labelName: String
    /// The class each sample is scored against, per data index: its label, or (no labels) the
    /// unpruned model's top-1 on the scored samples (0 elsewhere, unread).
    var labels: [Int]
    /// Whether `labels` are the unpruned model's predictions: the task distils from it.
    var isTeacher: Bool
    /// The unpruned model's score on all the scored samples (the report's `beforePruning`).
    var beforePruning: ClassifierScore
    /// Conv-output moments on the data stages' calibration samples (empty with recalibration off).
    var moments: [String: ChannelMoments]
    /// The same on the comparison's calibration samples (nil when no comparison was asked for).
    var comparisonMoments: [String: ChannelMoments]?
    /// Without labels: the logits of each batch of the scored pass, and where each sample's row is.
    private var scoredLogits: [NDArray<Float>]
    private var rowOf: [Int: (batch: Int, row: Int)]

    /// Measures task `name`'s unpruned `graph` (constants as initializers) on `recovery`'s data:
    /// against `labelName`'s labels, or its own predictions when nil. `comparisonCalibration`:
    /// the comparison's calibration samples (a subset of the data stages'), when there is one.
    /// `progress` gets the fraction done between batches (and may throw to cancel).
    init(name: String, graph: Graph, labelName: String?, recovery: AccuracyRecovery, comparisonCalibration: [Int]?,
         progress: (Double) throws -> Void) throws {
        let data = recovery.data, batchSize = recovery.options.batchSize
        let model = try ClassifierGraph(graph, sampleShape: data.sampleShape)
        let batches = BatchOrder.inOrder(recovery.scored, size: batchSize)
        let calibration = recovery.recalibrates ? BatchOrder.inOrder(recovery.calibrationSamples(), size: batchSize) : []
        let passes = Double(max(1, batches.count + calibration.count))
        var logits: [NDArray<Float>] = []
        for (b, batch) in batches.enumerated() {
            try progress(Double(b) / passes)
            logits.append(try model.logits(data.inputs(batch)))
        }
        let labels = labelName.map { data.labels[$0]! } ?? ClassifierScore.teacherLabels(logits: logits, batches: batches, count: data.count)
        let scoredAgainst = labelName ?? AccuracyReport.teacherLabels
        var tally = ClassifierScore.Tally()
        for (batch, l) in zip(batches, logits) {
            try tally.add(logits: l, labels: batch.map { labels[$0] }, samples: batch, labelName: scoredAgainst)
        }
        let measured = try ChannelMoments.measure(
            UnfoldedBatchNorm.convs(of: model.graph).map { $0.outputs[0] }, in: model, data: data, batches: calibration,
            alsoOn: comparisonCalibration.map(Set.init)) { try progress((Double(batches.count) + $0 * Double(calibration.count)) / passes) }
        self.name = name
        self.model = model
        self.labelName = scoredAgainst
        self.labels = labels
        isTeacher = labelName == nil
        beforePruning = tally.score
        moments = measured.all
        comparisonMoments = measured.subset
        scoredLogits = labelName == nil ? logits : []
        var rows: [Int: (batch: Int, row: Int)] = [:]
        if labelName == nil { for (b, batch) in batches.enumerated() { for (r, i) in batch.enumerated() { rows[i] = (b, r) } } }
        rowOf = rows
        try progress(1)
    }

    /// Distillation: the unpruned model's logits of the scored samples `batch` (their rows of
    /// the scored pass); nil for a task with labels.
    func teacherLogits(_ batch: [Int]) -> NDArray<Float>? {
        guard isTeacher, let first = scoredLogits.first else { return nil }
        let classes = first.shape[1]
        var values: [Float] = []
        values.reserveCapacity(batch.count * classes)
        for i in batch {
            guard let (b, r) = rowOf[i] else { preconditionFailure("sample \(i) is not a scored sample") }
            values += scoredLogits[b].storage[(r * classes)..<((r + 1) * classes)]
        }
        return NDArray(uncheckedShape: [batch.count, classes], storage: values)
    }
}
