/// The data-driven score in the MFIS problem: with `activation` among the criteria, each
/// task's normalized signal score (what the per-task magnitude objective sums over dropped
/// channels) is the channel's activation score (`ActivationCriterion`), normalized per (task,
/// group) — or, with magnitude asked too, the mean of the two normalized scores.
///
/// Only the normalized scores change: merge weights stay magnitude-weighted means of the
/// tasks' filters (a statement about weights, which the bundle declares).
extension GroupEvidence {
    /// `activations[t]`: task t's raw scores of this group's channels; `joining`: average them
    /// with the magnitude (both normalized, so that neither wins by its units).
    func withActivations(_ activations: [[Double]], joining: Bool) -> GroupEvidence {
        precondition(activations.count == scores.count && activations.allSatisfy { $0.count == size }, "one score per task and channel")
        var out = self
        for t in scores.indices {
            let signal = ChannelScores.unitSum(activations[t])
            out.normalized[t].magnitude = joining ? zip(normalized[t].magnitude, signal).map { ($0 + $1) / 2 } : signal
        }
        return out
    }
}
