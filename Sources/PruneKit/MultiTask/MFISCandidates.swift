/// A member of the final front put forward for calibration data to decide between
/// (ALGORITHM.md §3): with data, up to K of them are recalibrated and scored, and
/// `CandidateChoice` keeps one.
public struct MFISCandidate: Sendable, Equatable {
    /// `[t][p][i]`, as `MFISSolution.keep`.
    public var keep: [[[Bool]]]
    /// `[p][i]`, as `MFISSolution.share`.
    public var share: [[Bool]]
    public var objectives: [Double]
    /// Its index in the front.
    public var index: Int
    /// Why it is a candidate: `nearest-ideal`, `knee`, `least loss storing at most <size>`,
    /// `extreme of <objective>` (several when one member is all of them).
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
    /// The front members worth comparing on data, at most `limit`, distinct, in this order:
    /// 1. the default pick (`chosen`, for `chosenReason`);
    /// 2. the other of knee and nearest-ideal;
    /// 3. storage levels: the member that loses least (the sum of its per-task objectives, in
    ///    their own units) among those storing at most the largest size, the smallest, the
    ///    midpoint, then halving the gaps (1/4, 3/4, 1/8, 3/8, ... of the way) — so that the
    ///    data sees what each step of sharing costs, not only the extremes;
    /// 4. the member that is best in each objective, in objective order (the lowest index
    ///    among ties).
    /// A member named twice is listed once, with both reasons. Without `smallerLevels`
    /// (`MFISOptions.marginApplies` false: nothing smaller than the lowest loss can be kept)
    /// only the top storage level is put forward.
    ///
    /// With an adaptive rate, members larger (`size`, the last objective) than the knee are not
    /// put forward: held-out loss only falls as less is pruned, so it would always take the
    /// member that prunes least. The knee bounds the size (`CandidateChoice` may still keep a
    /// smaller member within its margin); the data decides how.
    static func candidateIndices(front: [[Double]], chosen: Int, chosenReason: String, target: MFISOptions.Target,
                                 names: [String], limit: Int, smallerLevels: Bool = true) -> [(index: Int, reasons: [String])] {
        guard !front.isEmpty else { return [] }
        let size = front[0].count - 1
        var eligible = Array(front.indices)
        if case .adaptive = target {
            let cap = front[chosen][size]
            eligible.removeAll { front[$0][size] > cap }
        }
        let levels = StorageLevels(front: front, members: eligible)
        var named: [(Int, String)] = [(chosen, chosenReason)]
        switch target {
        case .adaptive: named.append((nearestToIdeal(front), "nearest-ideal"))
        case .rate, .budget: if let knee = FrontChoice.knee(front) { named.append((knee, "knee")) }
        }
        // Where every member stores the same (one model at a rate: nothing is shared), storage
        // levels and the size extreme would name arbitrary members.
        let sizesDiffer = levels.largest - levels.smallest > 1e-12
        if sizesDiffer { named += (smallerLevels ? StorageLevels.fractions : [1]).compactMap(levels.member) }
        for (k, name) in names.enumerated() where sizesDiffer || k != size {
            let best = front.indices.min { (front[$0][k], $0) < (front[$1][k], $1) }!
            named.append((best, "extreme of \(name)"))
        }
        named.removeAll { !eligible.contains($0.0) && $0.0 != chosen }
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

/// The front seen as storage against loss: at a storage level, the member that loses least
/// (sum of its per-task objectives) among those storing at most that much.
struct StorageLevels {
    let front: [[Double]]
    let members: [Int]
    let smallest: Double, largest: Double

    init(front: [[Double]], members: [Int]) {
        self.front = front
        self.members = members
        let sizes = members.map { front[$0][front[$0].count - 1] }
        smallest = sizes.min() ?? 0
        largest = sizes.max() ?? 0
    }

    /// 1, 0, 1/2, then each gap halved, down to 1/16: 17 levels, more than the candidates'
    /// default count, fewer than their maximum.
    static let fractions: [Double] = [1, 0] + [2, 4, 8, 16].flatMap { d in
        stride(from: 1, to: d, by: 2).map { Double($0) / Double(d) }
    }

    /// The member for level `f` in [0, 1] of the way from the smallest to the largest size,
    /// with its reason; nil when no member is that small (cannot happen for f ≥ 0).
    func member(at f: Double) -> (Int, String)? {
        let cap = smallest + f * (largest - smallest)
        func loss(_ i: Int) -> Double { front[i].dropLast().reduce(0, +) }
        let within = members.filter { front[$0][front[$0].count - 1] <= cap + 1e-12 }
        guard let best = within.min(by: { (loss($0), $0) < (loss($1), $1) }) else { return nil }
        return (best, "least loss storing at most \(String(format: "%.3g", cap))")
    }
}

/// Which recalibrated candidate is kept, once the data has scored them all.
///
/// ALGORITHM.md §3 keeps the lowest held-out loss. Measured on the digits tasks, that is
/// almost always a member that shares nothing: merging filters costs some loss, however
/// little. Here a candidate that stores less is taken instead when its mean accuracy on the
/// scored samples is within `margin` (a fraction: 0.005 is half a point) of the lowest-loss
/// one's: of those, the one storing least (the size objective), ties to the lower loss.
/// A margin of 0 is the rule of ALGORITHM.md §3.
enum CandidateChoice {
    struct Scored {
        var loss: Double
        var accuracy: Double
        var size: Double
    }

    /// Index into `candidates` (not empty) of the one kept. A loss that is not a number ranks
    /// last (compared as it is, a NaN would never lose), and such a candidate is never taken
    /// for its size either. Ties keep the earlier candidate: the search's own pick comes first.
    static func pick(_ candidates: [Scored], margin: Double) -> Int {
        func ranked(_ i: Int) -> Double { candidates[i].loss.isFinite ? candidates[i].loss : .infinity }
        let lowest = lowestLoss(candidates)
        guard margin > 0, candidates[lowest].loss.isFinite else { return lowest }
        let floor = candidates[lowest].accuracy - margin
        let near = candidates.indices.filter { candidates[$0].loss.isFinite && candidates[$0].accuracy >= floor - 1e-12 }
        return near.min { (candidates[$0].size, ranked($0), $0) < (candidates[$1].size, ranked($1), $1) } ?? lowest
    }

    /// Index of the lowest loss (ALGORITHM.md §3's pick), NaN last, the earlier among ties.
    static func lowestLoss(_ candidates: [Scored]) -> Int {
        func ranked(_ i: Int) -> Double { candidates[i].loss.isFinite ? candidates[i].loss : .infinity }
        return candidates.indices.min { (ranked($0), $0) < (ranked($1), $1) }!
    }
}
