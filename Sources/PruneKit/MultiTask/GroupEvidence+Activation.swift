/// The data-driven score in the MFIS problem: with `activation` among the criteria, each
/// task's normalized signal score (what the per-task magnitude objective sums over dropped
/// channels) is the channel's mean |activation| on the data — or, with magnitude asked too,
/// the product of the two, normalized per (task, group) again.
///
/// Only the normalized scores change: merge weights stay magnitude-weighted means of the
/// tasks' filters (a statement about weights, which the bundle declares).
extension GroupEvidence {
    /// `activations[t]`: task t's raw scores of this group's channels; `joining`: keep the
    /// weight magnitude as a factor.
    func withActivations(_ activations: [[Double]], joining: Bool) -> GroupEvidence {
        precondition(activations.count == scores.count && activations.allSatisfy { $0.count == size }, "one score per task and channel")
        var out = self
        for t in scores.indices {
            let signal = joining ? zip(scores[t].magnitude, activations[t]).map(*) : activations[t]
            out.normalized[t].magnitude = ChannelScores.unitSum(signal)
        }
        return out
    }
}
