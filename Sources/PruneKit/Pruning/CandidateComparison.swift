/// The data's say in which front member is taken (ALGORITHM.md §3, "with calibration data"):
/// each candidate's pruned task models are recalibrated the way the data stages will do it
/// (`AccuracyRecovery.recalibrate`: folded BN given back, every BN re-estimated) and scored
/// on the samples the data stages score on (held out; the training ones with `--holdout 0`)
/// with the loss fine-tuning minimizes — cross-entropy on the task's labels, distillation from
/// its unpruned model where it has none — summed over tasks.
///
/// The comparison is bounded so that K candidates cost a few recalibrations, not K full ones:
/// at most `calibrationLimit` training samples (a prefix of the same seeded order the data
/// stages draw from) and `scoredLimit` scored samples (evenly spaced over them).
struct CandidateComparison {
    static let calibrationLimit = 512
    static let scoredLimit = 2048

    /// One task's score: held-out loss (the fine-tuning loss) and top-1 accuracy; and its
    /// accuracy on the audit file, when there is one.
    struct TaskScore {
        var loss: Double
        var accuracy: Double
        var audit: Double? = nil
    }

    /// A file every candidate is also scored on, all of it, never for the choice (a study's
    /// test set): its data and each task's labels.
    struct Audit {
        var data: TrainingData
        var labels: [(name: String, values: [Int])]
    }

    let recovery: AccuracyRecovery
    /// Each task's unpruned model, measured once for the job (its `comparisonMoments` on `calibration`).
    let references: [TaskReference]
    let calibration: [Int]
    let scored: [[Int]]
    let audit: Audit?

    /// `references`: each task's unpruned model measured on `recovery`'s data, with moments on
    /// `calibrationSamples(recovery)` (`TaskReference`), in task order.
    init(recovery: AccuracyRecovery, references: [TaskReference], audit: TrainingData? = nil) throws {
        precondition(references.allSatisfy { $0.comparisonMoments != nil }, "references measured without the comparison's calibration samples")
        self.recovery = recovery
        self.references = references
        let names = references.map(\.name)
        self.audit = try audit.map { data in
            Audit(data: data, labels: try zip(names, data.labelNames(forTasks: names)).map { task, label in
                guard let label else { throw PruningPipeline.Failure(message: "the audit file has no labels for task \(task)") }
                return (label, data.labels[label]!)
            })
        }
        calibration = Self.calibrationSamples(recovery)
        let held = recovery.scored
        let picked = held.count <= Self.scoredLimit ? held : (0..<Self.scoredLimit).map { held[$0 * held.count / Self.scoredLimit] }
        scored = BatchOrder.inOrder(picked, size: recovery.options.batchSize)
    }

    /// The training samples candidates are recalibrated on: the first `calibrationLimit` of the
    /// data stages' seeded order (so a subset of theirs).
    static func calibrationSamples(_ recovery: AccuracyRecovery) -> [Int] {
        recovery.calibrationSamples(limit: calibrationLimit)
    }

    /// Recalibrates a copy of each task model of `result` and scores it; `progress` gets the
    /// fraction done between tasks and batches (and may throw to cancel).
    func judge(_ result: MultiTaskPruner.Result, progress: (Double) throws -> Void) throws -> [TaskScore] {
        let data = recovery.data
        var scores: [TaskScore] = []
        for (t, reference) in references.enumerated() {
            func part(_ f: Double) throws { try progress((Double(t) + f) / Double(references.count)) }
            var model = try ClassifierGraph(result.graphs[t], sampleShape: data.sampleShape)
            if recovery.recalibrates {
                _ = try recovery.recalibrate(&model, referenceMoments: reference.comparisonMoments!, keptRows: result.keptRows[t],
                                             calibration: calibration) {
                    try part($0 * 2 / 3)
                }
            }
            var taskScore = try score(model, against: reference) { try part((2 + $0) / 3) }
            if let audit {
                let (name, labels) = audit.labels[t]
                taskScore.audit = try ClassifierScore.measure(model, data: audit.data, indices: Array(0..<audit.data.count), labels: labels,
                                                          labelName: name, batchSize: recovery.options.batchSize).accuracy
            }
            scores.append(taskScore)
        }
        try progress(1)
        return scores
    }

    /// Mean loss and accuracy of `model` on the scored samples.
    private func score(_ model: ClassifierGraph, against reference: TaskReference, progress: (Double) throws -> Void) throws -> TaskScore {
        var tally = ClassifierScore.Tally()
        var distilled = 0.0
        for (b, batch) in scored.enumerated() {
            try progress(Double(b) / Double(scored.count))
            let logits = try model.logits(recovery.data.inputs(batch))
            try tally.add(logits: logits, labels: batch.map { reference.labels[$0] }, samples: batch, labelName: reference.labelName)
            if let teacher = reference.teacherLogits(batch) {
                let (loss, _) = try distillationLoss(student: logits, teacher: teacher, temperature: recovery.options.temperature)
                distilled += Double(loss) * Double(batch.count)
            }
        }
        let score = tally.score
        let loss = reference.isTeacher ? distilled / Double(max(1, tally.count)) : score.loss
        return TaskScore(loss: loss, accuracy: score.accuracy)
    }
}
