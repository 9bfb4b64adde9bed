/// The MFIS selection as a many-objective binary problem (ALGORITHM.md §3).
///
/// Variables: a keep bit per task, prunable group and channel (one block per task and group),
/// then, with T ≥ 2 and sharing, a share bit per group and channel (one block per group): a
/// channel kept by two or more tasks with its share bit set is one physical filter, the
/// magnitude-weighted mean of theirs.
///
/// Objectives, all minimized: per task, the magnitude it loses (normalized per group, averaged
/// over groups; a dropped channel with a kept near-twin loses only the part the twin cannot
/// stand in for, sin∠; a shared filter costs its relative distance to the merged one), and
/// the irreplaceability it loses; then the bundle's stored parameters over the originals'.
/// Constraints: counts by repair (the rate, at least one channel, `roundTo`); a budget as a
/// constraint violation.
public struct MFISProblem: BlockBinaryProblem {
    public let layout: BlockLayout
    public let objectiveCount: Int
    public let taskCount: Int
    /// Prunable groups' sizes.
    public let sizes: [Int]
    let options: MFISOptions
    let cost: CostModel
    let evidence: [GroupEvidence]
    /// First bit of task t's block for prunable group p, at `[t * P + p]`.
    let keepOffset: [Int]
    /// First bit of group p's share block; empty without share bits.
    let shareOffset: [Int]
    /// Normalized magnitude and irreplaceability of the channel each keep bit stands for.
    let scoreA: [Double]
    let scoreB: [Double]
    /// Near-twins of each keep bit's channel: `foldStart[bit]..<foldStart[bit + 1]` index
    /// `foldTwin` (the twin's keep bit) and `foldSine` (what the twin cannot stand in for).
    let foldStart: [Int32]
    let foldTwin: [Int32]
    let foldSine: [Double]
    /// Per task and group (`[t * P + p]`): no channel of the block has a near-twin.
    let foldFree: [Bool]
    /// Merge distortion per channel (`channelOffset[p] + i`), task set (a bit mask) and task:
    /// `[(q << T + mask) * T + t]`. Precomputed up to `maxTabulatedTasks` tasks.
    let distortion: [Float]
    let channelOffset: [Int]
    /// Per prunable group: the kept count a pre-specified rate demands (nil otherwise).
    let targetCounts: [Int]?
    /// Per task and group, channels from least to most worth keeping (repair's order).
    let repairOrder: [[Int32]]
    /// Whether a group's loss is priced convexly (`groupLoss`): where the optimizer sets the
    /// per-group rates (adaptive, budget).
    let convexGroupLoss: Bool

    static let maxTabulatedTasks = 5

    var hasShareBits: Bool { !shareOffset.isEmpty }
    var groupCount: Int { sizes.count }

    public init(aligned: AlignedTasks, evidence: [GroupEvidence], options: MFISOptions) {
        self.init(evidence: evidence, cost: CostModel(aligned, sharing: options.sharing), taskCount: aligned.count, options: options)
    }

    init(evidence: [GroupEvidence], cost: CostModel, taskCount: Int, options: MFISOptions) {
        let T = taskCount, P = evidence.count
        self.taskCount = T
        self.options = options
        self.cost = cost
        self.evidence = evidence
        sizes = evidence.map(\.size)
        objectiveCount = T * options.perTaskObjectives.count + 1
        let withShares = options.sharing && T >= 2
        var blockSizes: [Int] = []
        for _ in 0..<T { blockSizes += sizes }
        if withShares { blockSizes += sizes }
        let layout = BlockLayout(sizes: blockSizes)
        let keepOffset = (0..<(T * P)).map { layout.ranges[$0].lowerBound }
        self.layout = layout
        self.keepOffset = keepOffset
        shareOffset = withShares ? (0..<P).map { layout.ranges[T * P + $0].lowerBound } : []

        var a = [Double](repeating: 0, count: layout.bitCount), b = a
        var foldStart: [Int32] = [0], foldTwin: [Int32] = [], foldSine: [Double] = []
        var order: [[Int32]] = []
        for t in 0..<T {
            for (p, e) in evidence.enumerated() {
                let base = keepOffset[t * P + p]
                let s = e.normalized[t]
                var worth = [Double](repeating: 0, count: e.size)
                for i in 0..<e.size {
                    a[base + i] = s.magnitude[i]
                    b[base + i] = s.irreplaceability[i]
                    worth[i] = (options.hasSignalObjective ? s.magnitude[i] : 0)
                        + (options.criteria.contains(.irreplaceability) ? s.irreplaceability[i] : 0)
                }
                order.append(worth.indices.sorted { (worth[$0], -$0) < (worth[$1], -$1) }.map(Int32.init))
            }
        }
        // Fold bits in bit order: block by block, channel by channel.
        for t in 0..<T {
            for (p, e) in evidence.enumerated() {
                let base = keepOffset[t * P + p]
                for j in 0..<e.size {
                    for twin in e.twins[t][j] {
                        foldTwin.append(Int32(base + twin.channel))
                        foldSine.append(max(0, 1 - twin.cosine * twin.cosine).squareRoot())
                    }
                    foldStart.append(Int32(foldTwin.count))
                }
            }
        }
        if withShares {
            // Share bits carry no score; their slots in foldStart stay empty.
            for _ in 0..<sizes.reduce(0, +) { foldStart.append(Int32(foldTwin.count)) }
        }
        scoreA = a
        scoreB = b
        foldFree = (0..<(T * P)).map { block in
            let r = layout.ranges[block]
            return foldStart[r.upperBound] == foldStart[r.lowerBound]
        }
        self.foldStart = foldStart
        self.foldTwin = foldTwin
        self.foldSine = foldSine
        repairOrder = order
        var offsets: [Int] = []
        var q = 0
        for n in sizes { offsets.append(q); q += n }
        channelOffset = offsets
        distortion = withShares && T <= Self.maxTabulatedTasks ? Self.tabulate(evidence, taskCount: T, channels: q) : []
        if case .rate = options.target { convexGroupLoss = false } else { convexGroupLoss = true }
        if case let .rate(r) = options.target {
            targetCounts = sizes.map { Self.roundedCount(RateSelection.keepCount(size: $0, rate: r), size: $0, roundTo: options.roundTo) }
        } else {
            targetCounts = nil
        }
    }

    static func tabulate(_ evidence: [GroupEvidence], taskCount T: Int, channels: Int) -> [Float] {
        var table = [Float](repeating: 0, count: channels << T * T)
        var q = 0
        for e in evidence {
            for i in 0..<e.size {
                for mask in 0..<(1 << T) where mask.nonzeroBitCount >= 2 {
                    let tasks = (0..<T).filter { mask & (1 << $0) != 0 }
                    for (t, rho) in zip(tasks, e.mergeDistortion(channel: i, tasks: tasks)) {
                        table[((q << T) + mask) * T + t] = Float(rho)
                    }
                }
                q += 1
            }
        }
        return table
    }

    /// `count` moved to a multiple of `roundTo` (the nearest, at least `roundTo`), within the group.
    static func roundedCount(_ count: Int, size: Int, roundTo: Int) -> Int {
        guard roundTo > 1 else { return max(1, min(size, count)) }
        guard size >= roundTo else { return size }
        let rounded = max(roundTo, Int((Double(count) / Double(roundTo)).rounded()) * roundTo)
        return min(rounded, size / roundTo * roundTo)
    }
}
