import Foundation

/// With calibration data, the best of K front members after recalibration (ALGORITHM.md §3).
extension PruningPipeline {
    /// The pruned tasks for the search's default pick, or, with data and several candidates,
    /// for the candidate `CandidateChoice` keeps once each has been built, recalibrated and
    /// scored on held-out samples. Candidates are judged one at a time and not kept (K builds
    /// of T models would not fit in memory for large models); the one kept is built again.
    /// `references`: each task's unpruned model measured on the data (with the comparison's
    /// moments when `comparedCandidates` has several), nil without data.
    func chooseAndBuild(_ found: MultiTaskPruner.Search, pruner: MultiTaskPruner, sources: [String],
                        recovery: AccuracyRecovery?, references: [TaskReference]?) throws -> MultiTaskPruner.Result {
        let candidates = comparedCandidates(found)
        let buildHooks = MultiTaskPruner.Hooks(stage: { [self] stage, fraction in advance(stage, fraction) }, isCancelled: hooks.isCancelled)
        guard let recovery, let references, candidates.count > 1 else {
            return try pruner.build(found, sources: sources, hooks: buildHooks)
        }
        var clock = StageClock()
        try checkpoint("candidates")
        let comparison = try CandidateComparison(recovery: recovery, references: references,
                                                 audit: try options.candidateAudit.map { try TrainingData.read(contentsOf: $0) })
        let quiet = MultiTaskPruner.Hooks(isCancelled: hooks.isCancelled)
        var entries: [MFISReport.Candidate] = []
        for (k, candidate) in candidates.enumerated() {
            let step = { (f: Double) in try self.checkpoint("candidates", (Double(k) + f) / Double(candidates.count)) }
            try step(0)
            let result = try pruner.build(found, solution: found.solution.taking(candidate, reason: found.solution.reason),
                                          sources: sources, hooks: quiet)
            let scores = try comparison.judge(result, progress: step)
            func mean(_ value: (CandidateComparison.TaskScore) -> Double) -> Double {
                scores.reduce(0) { $0 + value($1) } / Double(max(1, scores.count))
            }
            entries.append(MFISReport.Candidate(
                index: candidate.index, objectives: ReportJSON.rounded(candidate.objectives), reasons: candidate.reasons,
                heldOutLoss: scores.reduce(0) { $0 + $1.loss }, meanAccuracy: mean(\.accuracy),
                tasks: zip(comparison.references, scores).map { .init(task: $0.name, loss: $1.loss, accuracy: $1.accuracy) },
                chosen: false, auditAccuracy: comparison.audit == nil ? nil : mean { $0.audit ?? 0 }))
        }
        let margin = MFISOptions.marginApplies(tasks: found.aligned.tasks.count) ? options.mfis.accuracyMargin : 0
        // The size from the search's own objectives: the report's are rounded for reading.
        let scored = zip(entries, candidates).map {
            CandidateChoice.Scored(loss: $0.heldOutLoss, accuracy: $0.meanAccuracy, size: $1.objectives.last ?? 0)
        }
        let at = CandidateChoice.pick(scored, margin: margin / 100)
        let lowest = CandidateChoice.lowestLoss(scored)
        entries[at].chosen = true
        clock.lap("candidates")
        var result = try pruner.build(found, solution: found.solution.taking(candidates[at], reason: found.solution.reason),
                                      sources: sources, hooks: buildHooks)
        result.mfis.chosen.reason = Self.candidateReason(entries, chosen: at, lowest: lowest, margin: margin,
                                                         comparison: comparison, searchReason: found.solution.reason)
        result.mfis.candidates = entries
        result.seconds["candidates"] = clock.seconds["candidates"] ?? 0
        return result
    }

    /// The front members put forward (with data, more than one: they are compared on it).
    func comparedCandidates(_ found: MultiTaskPruner.Search) -> [MFISCandidate] {
        Array(found.solution.candidates.prefix(options.mfis.candidateCount(fineTuning: options.training.epochs > 0)))
    }

    /// Below this many scored samples the reason warns that the choice is noisy: one sample
    /// moves a task's accuracy by more than the default margin.
    static let fewScoredSamples = 200

    /// Why `chosen` was kept, with every candidate's score, in words for report.json.
    static func candidateReason(_ entries: [MFISReport.Candidate], chosen at: Int, lowest: Int, margin: Double,
                                comparison: CandidateComparison, searchReason: String) -> String {
        func f(_ x: Double) -> String { String(format: "%.4g", x) }
        func percent(_ x: Double) -> String { String(format: "%.2f%%", 100 * x) }
        let compared = entries.map {
            "\($0.reasons.joined(separator: ", ")): loss \(f($0.heldOutLoss)), accuracy \(percent($0.meanAccuracy)), "
                + "stores \(f($0.objectives.last ?? 0)) of the originals"
        }
        let recovery = comparison.recovery
        var text = "chosen on data among \(entries.count) front members put forward, each recalibrated on "
            + "\(comparison.calibration.count) training samples and scored on \(comparison.scored.joined().count) "
            + "\(recovery.split.heldOut.isEmpty ? "training" : "held-out") samples (loss: each task's fine-tuning loss, summed over "
            + "the tasks; accuracy: the tasks' mean) — \(compared.joined(separator: "; ")). "
        if at == lowest {
            text += "It has the lowest loss"
            text += margin > 0 ? ", and none storing less is within \(f(margin)) points of its accuracy. " : ". "
        } else {
            text += "The lowest loss was \(entries[lowest].reasons.joined(separator: ", ")) (accuracy "
                + "\(percent(entries[lowest].meanAccuracy)), stores \(f(entries[lowest].objectives.last ?? 0))); this one stores "
                + "least among those within \(f(margin)) points of that accuracy (accuracyMargin). "
        }
        let samples = comparison.scored.joined().count
        if samples < fewScoredSamples {
            text += "Only \(samples) samples were scored: differences between candidates this small are mostly noise "
                + "(a larger data file, or candidates 1 to keep the search's own pick). "
        }
        return text + (at == 0 ? "It is also the search's own pick: " : "The search's own pick was: ") + searchReason
    }
}
