import Foundation

/// Li et al.'s L1 selection on one model: per group, remove the lowest-L1 channels at a fixed
/// rate. The pipeline runs MFIS (`MultiTaskPruner`); this stays as the plain baseline that
/// tests and comparisons hold MFIS against (MFIS with magnitude alone and no sharing keeps the
/// same channels wherever no BatchNormalization scales them).
public struct MagnitudePruner: Sendable {
    public var rate: Double
    public var inputShapes: [String: [Int]]

    public init(rate: Double, inputShapes: [String: [Int]] = [:]) {
        self.rate = rate
        self.inputShapes = inputShapes
    }

    public struct Result: Sendable {
        public var graph: Graph
        public var report: ModelReport
        public var seconds: [String: Double]
        /// Per producer weight, the original rows that remain (see `ChannelGroups.keptRows`).
        public var keptRows: [String: [Int]]
    }

    /// `checkpoint` runs between stages; a throw (cancellation) ends the run there.
    public func prune(_ original: Graph, task: String, source: String, checkpoint: () throws -> Void = {}) throws -> Result {
        var clock = StageClock()
        let graph = original.constantsAsInitializers()
        let shapes = ShapeInference(graph: graph, inputShapes: inputShapes)
        let groups = ChannelGroups.analyze(graph, shapes: shapes)
        clock.lap("analyze")
        try checkpoint()
        let removal = RateSelection.lowestScores(groups, scores: MagnitudeCriterion.l1(groups, graph: graph), rate: rate)
        clock.lap("select")
        try checkpoint()
        let pruned = try graph.removingChannels(removal, groups: groups)
        let after = ModelStats(graph: pruned, shapes: ShapeInference(graph: pruned, inputShapes: inputShapes))
        clock.lap("surgery")
        let report = ModelReport(
            task: task, source: source,
            before: ModelStats(graph: graph, shapes: shapes), after: after,
            channels: pruned.layerWidths(),
            groups: groups.groups.map { g in
                let removed = removal[g.id] ?? []
                return GroupReport(name: g.name, producers: g.producers, total: g.size, kept: g.size - removed.count,
                                   prunable: g.prunable, reason: g.reason, removed: removed)
            })
        return Result(graph: pruned, report: report, seconds: clock.seconds, keptRows: groups.keptRows(removing: removal))
    }
}
