/// The three criteria of ALGORITHM.md §2 for the channels of one group in one task.
public struct ChannelScores: Sendable, Equatable {
    /// Magnitude: by default what the readers take of each channel (`MagnitudeCriterion.consumerL1`),
    /// or the BN-aware L1 of its filter (`MagnitudeCriterion.bnAware`), per `MFISOptions.magnitudeScore`.
    public var magnitude: [Double]
    /// FPGM distance sum (`IrreplaceabilityCriterion.fpgm`).
    public var irreplaceability: [Double]
    /// Cosine similarity, across tasks or to the nearest twin (`ShareabilityCriterion`).
    public var shareability: [Double]

    public init(magnitude: [Double], irreplaceability: [Double], shareability: [Double]) {
        precondition(magnitude.count == irreplaceability.count && magnitude.count == shareability.count,
                     "every criterion needs one score per channel")
        self.magnitude = magnitude
        self.irreplaceability = irreplaceability
        self.shareability = shareability
    }

    public var count: Int { magnitude.count }

    /// Scaled per (task, group) so that groups of different size and scale compare: each
    /// criterion divided by its sum over the group, so that a group's scores sum to 1 and what
    /// dropping a set of channels loses is a fraction of the group. Shareability, a cosine,
    /// counts only its positive part (an anti-aligned filter is no more shareable than an
    /// orthogonal one). A criterion that is zero on the whole group is spread evenly.
    public func normalized() -> ChannelScores {
        ChannelScores(magnitude: Self.unitSum(magnitude), irreplaceability: Self.unitSum(irreplaceability),
                      shareability: Self.unitSum(shareability.map { max(0, $0) }))
    }

    static func unitSum(_ v: [Double]) -> [Double] {
        let s = v.reduce(0, +)
        guard s > 0, s.isFinite else { return v.isEmpty ? [] : Array(repeating: 1 / Double(v.count), count: v.count) }
        return v.map { $0 / s }
    }

    /// The raw criteria of one group in each of T tasks (same structure): magnitudes as given,
    /// irreplaceability from each task's geometry, shareability across the tasks' channel i
    /// when T ≥ 2 and to the nearest twin inside the task when T = 1.
    public static func compute(filters: [FilterMatrix], geometry: [FilterGeometry], magnitudes: [[Double]]) -> [ChannelScores] {
        precondition(filters.count == geometry.count && filters.count == magnitudes.count, "one of each per task")
        let across = filters.count >= 2 ? ShareabilityCriterion.acrossTasks(filters) : nil
        return filters.indices.map { t in
            ChannelScores(magnitude: magnitudes[t], irreplaceability: IrreplaceabilityCriterion.fpgm(geometry[t]),
                          shareability: across ?? ShareabilityCriterion.inner(geometry[t]))
        }
    }
}
