/// The pre-specified rate of Li et al. and FPGM: remove `rate` of each prunable group's
/// channels, those with the lowest score, keeping `max(1, round((1 − rate) · N))`.
public enum RateSelection {
    public static func keepCount(size: Int, rate: Double) -> Int {
        max(1, min(size, Int((Double(size) * (1 - rate)).rounded())))
    }

    /// Channels to remove, per prunable group, ascending; ties go to the higher index.
    public static func lowestScores(_ groups: ChannelGroups, scores: [Int: [Float]], rate: Double) -> [Int: [Int]] {
        var removal: [Int: [Int]] = [:]
        for g in groups.groups where g.prunable {
            let s = scores[g.id] ?? Array(repeating: 0, count: g.size)
            let drop = g.size - keepCount(size: g.size, rate: rate)
            guard drop > 0 else { continue }
            let order = s.indices.sorted { s[$0] != s[$1] ? s[$0] < s[$1] : $0 > $1 }
            removal[g.id] = order.prefix(drop).sorted()
        }
        return removal
    }
}
