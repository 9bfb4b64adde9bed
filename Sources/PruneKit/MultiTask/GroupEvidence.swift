/// Everything the MFIS problem and the merging need to know about one prunable group, computed
/// once from the tasks' weights: the criteria, the filters' norms, each channel's near-twins
/// (for inner sharing) and the tasks' channel-i dot products (for the cost of merging them).
public struct GroupEvidence: Sendable {
    /// A kept channel a dropped one could be folded into.
    public struct Twin: Sendable, Equatable {
        public var channel: Int
        public var cosine: Double
    }

    public var group: Int
    public var size: Int
    /// Per task, raw.
    public var scores: [ChannelScores]
    /// Per task, normalized per (task, group).
    public var normalized: [ChannelScores]
    /// Per task, ‖w_i‖ of each channel's filter.
    public var norms: [[Double]]
    /// Per task and channel: the other channels with cosine ≥ τ, most similar first (at most
    /// `maxTwins`); empty without sharing.
    public var twins: [[[Twin]]]
    /// Per channel, the T × T dot products of the tasks' filters (row-major); empty unless
    /// T ≥ 2 and sharing is on.
    public var taskGram: [[Double]]

    static let maxTwins = 4

    /// The evidence for every prunable group, computed group by group on all cores (one GEMM
    /// per task and group dominates).
    public static func collect(_ aligned: AlignedTasks, options: MFISOptions) -> [GroupEvidence] {
        let ids = aligned.prunableGroups.map(\.id)
        let bnScales = aligned.tasks.map { MagnitudeCriterion.batchNormScales($0.graph) }
        let readers = options.magnitudeScore == .consumer || options.irreplaceabilityRows == .consumer
        let bnGains = readers ? aligned.tasks.map { MagnitudeCriterion.batchNormGains($0.graph) } : []
        return concurrentMap(ids) { g in
            compute(group: g, aligned: aligned, bnScales: bnScales, bnGains: bnGains, options: options)
        }
    }

    /// Only what the options use is computed: with magnitude alone and no sharing, no filter
    /// matrix is even assembled (the L1 ranking costs one pass over the weights).
    static func compute(group g: Int, aligned: AlignedTasks, bnScales: [[String: String]], bnGains: [[String: [Float]]],
                        options: MFISOptions) -> GroupEvidence {
        let T = aligned.count
        let size = aligned.groups[g].size
        let magnitudes = aligned.tasks.indices.map { t in
            let task = aligned.tasks[t]
            let own = { MagnitudeCriterion.bnAware(ofGroup: g, groups: task.groups, lookup: task.lookup, graph: task.graph, bnScales: bnScales[t]) }
            switch options.magnitudeScore {
            case .producer:
                return own()
            case .producerTimesConsumer:
                let readers = MagnitudeCriterion.consumerL1(ofGroup: g, groups: task.groups, lookup: task.lookup, graph: task.graph)
                return readers.contains { $0 > 0 } ? zip(own(), readers).map(*) : own()
            case .consumer:
                // A group no weight reads (nothing to measure on the output side) falls back to its filters.
                let readers = MagnitudeCriterion.consumerL1(ofGroup: g, groups: task.groups, lookup: task.lookup, graph: task.graph,
                                                            outputGains: bnGains[t])
                return readers.contains { $0 > 0 } ? readers : own()
            }
        }
        let wantIrreplaceability = options.criteria.contains(.irreplaceability)
        let wantShareability = options.criteria.contains(.shareability)
        let readersIrreplaceability = wantIrreplaceability && options.irreplaceabilityRows == .consumer
        let needGeometry = (wantIrreplaceability && !readersIrreplaceability) || (T == 1 && wantShareability) || options.sharing
        let needFilters = needGeometry || (T >= 2 && wantShareability)
        let filters = needFilters ? aligned.tasks.map { FilterMatrix.producers(ofGroup: g, groups: $0.groups, lookup: $0.lookup, graph: $0.graph) } : []
        let geometry = needGeometry ? filters.map(FilterGeometry.init) : []
        let zeros = [Double](repeating: 0, count: size)
        let across = T >= 2 && wantShareability ? ShareabilityCriterion.acrossTasks(filters) : nil
        let irreplaceability: (Int) -> [Double] = { t in
            guard wantIrreplaceability else { return zeros }
            guard readersIrreplaceability else { return IrreplaceabilityCriterion.fpgm(geometry[t]) }
            let task = aligned.tasks[t]
            let rows = FilterMatrix.consumers(ofGroup: g, groups: task.groups, lookup: task.lookup, graph: task.graph, outputGains: bnGains[t])
            // A group no weight reads (or reads with zeros) falls back to its filters, as magnitude does.
            return IrreplaceabilityCriterion.fpgm(FilterGeometry(rows.values.contains { $0 != 0 } ? rows
                : FilterMatrix.producers(ofGroup: g, groups: task.groups, lookup: task.lookup, graph: task.graph)))
        }
        let scores = (0..<T).map { t in
            ChannelScores(magnitude: magnitudes[t],
                          irreplaceability: irreplaceability(t),
                          shareability: across ?? (wantShareability ? ShareabilityCriterion.inner(geometry[t]) : zeros))
        }
        let twins: [[[Twin]]] = (0..<T).map { t in
            guard options.sharing else { return Array(repeating: [], count: size) }
            let geo = geometry[t]
            return (0..<size).map { j in
                var near: [Twin] = []
                for i in 0..<size where i != j {
                    let c = geo.cosine(i, j)
                    if c >= options.twinThreshold { near.append(Twin(channel: i, cosine: c)) }
                }
                near.sort { ($0.cosine, -$0.channel) > ($1.cosine, -$1.channel) }
                return Array(near.prefix(maxTwins))
            }
        }
        let taskGram = options.sharing && T >= 2 ? (0..<size).map { ShareabilityCriterion.taskGram(filters, channel: $0) } : []
        return GroupEvidence(group: g, size: size, scores: scores, normalized: scores.map { $0.normalized() },
                             norms: needGeometry ? geometry.map(\.norms) : (0..<T).map { _ in zeros }, twins: twins, taskGram: taskGram)
    }

    /// Magnitude-weighted mean weights of channel i over `tasks`: α_s = m_s / Σ m (equal when
    /// every magnitude is zero). What merging uses and what the bundle declares.
    public func mergeWeights(channel i: Int, tasks: [Int]) -> [Double] {
        let m = tasks.map { scores[$0].magnitude[i] }
        let total = m.reduce(0, +)
        return total > 0 ? m.map { $0 / total } : m.map { _ in 1 / Double(tasks.count) }
    }

    /// ‖w_t − w̄‖ / ‖w_t‖ for each task t of `tasks`, w̄ their merged filter of channel i: how far
    /// merging moves each task's filter, relative to the filter (0 for a zero filter).
    public func mergeDistortion(channel i: Int, tasks: [Int]) -> [Double] {
        let gram = taskGram[i]
        let n = scores.count
        let alpha = mergeWeights(channel: i, tasks: tasks)
        var meanSquared = 0.0
        for (a, s) in zip(alpha, tasks) { for (b, u) in zip(alpha, tasks) { meanSquared += a * b * gram[s * n + u] } }
        return tasks.map { t in
            let own = gram[t * n + t]
            guard own > 0 else { return 0 }
            var cross = 0.0
            for (a, s) in zip(alpha, tasks) { cross += a * gram[t * n + s] }
            return (max(0, own - 2 * cross + meanSquared) / own).squareRoot()
        }
    }
}
