import Foundation

/// With calibration data, the best of K front members after recalibration (ALGORITHM.md §3).
extension PruningPipeline {
    /// The pruned tasks for the search's default pick, or, with data and several candidates,
    /// for the candidate whose recalibrated task models have the lowest held-out loss (summed
    /// over tasks). Each candidate is built and judged in turn; only the best so far is kept.
    func chooseAndBuild(_ found: MultiTaskPruner.Search, pruner: MultiTaskPruner, sources: [String],
                        recovery: AccuracyRecovery?) throws -> MultiTaskPruner.Result {
        let candidates = Array(found.solution.candidates.prefix(options.mfis.candidateCount(fineTuning: options.training.epochs > 0)))
        let buildHooks = MultiTaskPruner.Hooks(stage: { [self] stage, fraction in advance(stage, fraction) }, isCancelled: hooks.isCancelled)
        guard let recovery, candidates.count > 1 else {
            return try pruner.build(found, sources: sources, hooks: buildHooks)
        }
        var clock = StageClock()
        try checkpoint("candidates")
        let comparison = try CandidateComparison(recovery: recovery, tasks: found.aligned.tasks.map(\.name),
                                                 originals: found.aligned.tasks.map(\.graph))
        let quiet = MultiTaskPruner.Hooks(isCancelled: hooks.isCancelled)
        var best: (result: MultiTaskPruner.Result, loss: Double, at: Int)?
        var entries: [MFISReport.Candidate] = []
        for (k, candidate) in candidates.enumerated() {
            let step = { (f: Double) in try self.checkpoint("candidates", (Double(k) + f) / Double(candidates.count)) }
            try step(0)
            let result = try pruner.build(found, solution: found.solution.taking(candidate, reason: found.solution.reason),
                                          sources: sources, hooks: quiet)
            let scores = try comparison.judge(result, progress: step)
            let loss = scores.reduce(0) { $0 + $1.loss }
            entries.append(MFISReport.Candidate(
                index: candidate.index, objectives: candidate.objectives, reasons: candidate.reasons, heldOutLoss: loss,
                meanAccuracy: scores.reduce(0) { $0 + $1.accuracy } / Double(max(1, scores.count)),
                tasks: zip(comparison.references, scores).map { .init(task: $0.name, loss: $1.loss, accuracy: $1.accuracy) },
                chosen: false))
            // Ties keep the earlier candidate: the search's own pick comes first. A loss that is
            // not a number ranks last (compared as it is, a NaN first would never be beaten).
            let ranked = loss.isFinite ? loss : .infinity
            if best == nil || ranked < best!.loss { best = (result, ranked, k) }
        }
        var (result, _, at) = best!
        entries[at].chosen = true
        let compared = entries.map { "\($0.reasons.joined(separator: ", ")): \(String(format: "%.4g", $0.heldOutLoss))" }
        result.mfis.chosen.reason = "chosen by held-out loss: the lowest after recalibration of the \(entries.count) front members "
            + "put forward (\(compared.joined(separator: "; "))), each task's fine-tuning loss on \(comparison.scored.joined().count) "
            + "\(recovery.split.heldOut.isEmpty ? "training" : "held-out") samples summed over the tasks, recalibrated on "
            + "\(comparison.calibration.count) training samples. "
            + (at == 0 ? "It is also the search's own pick: " : "The search's own pick was: ") + found.solution.reason
        result.mfis.candidates = entries
        clock.lap("candidates")
        // The chosen build's own stages stay under their names; the rest was the comparison.
        let built = ["merge", "surgery", "banks"].reduce(0) { $0 + (result.seconds[$1] ?? 0) }
        result.seconds["candidates"] = max(0, (clock.seconds["candidates"] ?? 0) - built)
        return result
    }
}
