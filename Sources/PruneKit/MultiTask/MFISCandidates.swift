/// A member of the final front put forward for calibration data to decide between
/// (ALGORITHM.md §3): with data, up to K of them are recalibrated and the one with the lowest
/// held-out loss is taken.
public struct MFISCandidate: Sendable, Equatable {
    /// `[t][p][i]`, as `MFISSolution.keep`.
    public var keep: [[[Bool]]]
    /// `[p][i]`, as `MFISSolution.share`.
    public var share: [[Bool]]
    public var objectives: [Double]
    /// Its index in the front.
    public var index: Int
    /// Why it is a candidate: `nearest-ideal`, `knee`, `extreme of <objective>` (several when
    /// one member is all of them).
    public var reasons: [String]
}

extension MFISSolution {
    /// This solution with `candidate` taken instead, for `reason`.
    public func taking(_ candidate: MFISCandidate, reason: String) -> MFISSolution {
        var s = self
        s.keep = candidate.keep
        s.share = candidate.share
        s.objectives = candidate.objectives
        s.chosen = candidate.index
        s.reason = reason
        return s
    }
}

extension MFISSearch {
    /// The front members worth comparing on data, at most `limit`, distinct: the default pick
    /// first (`chosen`, for `chosenReason`), then the other of knee and nearest-ideal, then the
    /// member that is best in each objective, in objective order (the lowest index among ties).
    /// A member named twice is listed once, with both reasons.
    ///
    /// With an adaptive rate, members larger (`size`, the last objective) than the knee are not
    /// put forward: held-out loss only falls as less is pruned, so it would always take the
    /// member that prunes least. How much to prune stays the knee's call; the data decides how.
    static func candidateIndices(front: [[Double]], chosen: Int, chosenReason: String, target: MFISOptions.Target,
                                 names: [String], limit: Int) -> [(index: Int, reasons: [String])] {
        guard !front.isEmpty else { return [] }
        var named: [(Int, String)] = [(chosen, chosenReason)]
        switch target {
        case .adaptive: named.append((nearestToIdeal(front), "nearest-ideal"))
        case .rate, .budget: if let knee = FrontChoice.knee(front) { named.append((knee, "knee")) }
        }
        for (k, name) in names.enumerated() {
            let best = front.indices.min { (front[$0][k], $0) < (front[$1][k], $1) }!
            named.append((best, "extreme of \(name)"))
        }
        if case .adaptive = target {
            let cap = front[chosen][front[chosen].count - 1]
            named.removeAll { front[$0.0][front[$0.0].count - 1] > cap }
        }
        var out: [(index: Int, reasons: [String])] = []
        for (index, reason) in named {
            if let at = out.firstIndex(where: { $0.index == index }) {
                if !out[at].reasons.contains(reason) { out[at].reasons.append(reason) }
            } else if out.count < limit {
                out.append((index, [reason]))
            }
        }
        return out
    }
}
