/// A data-driven score (ALGORITHM.md §2, "with calibration data"): how much of a channel's
/// signal its readers lose when it goes, measured on the data — the standard deviation of the
/// channel's activation where its readers read it (after the BN and activation that follow its
/// producer), times the L1 norm of the readers' weights for it.
///
/// The spread, not the mean: with data, every pruned model is recalibrated, and the folded-BN
/// correction (or BN) shifts each kept channel back to its old mean, which absorbs the
/// removed channels' constant part; what no recalibration restores is their varying part.
/// Measured on the digits models (scripts/mfis_quality/README.md) against mean |activation|,
/// with and without the readers' weights, and the root mean square: this was best.
///
/// On BN-folded exports it sees what weight norms cannot: a channel whose folded bias keeps
/// it large but constant carries little, and one that ReLU zeroes on every sample nothing.
public enum ActivationCriterion {
    /// Samples to measure on: the statistics have settled long before.
    public static let sampleLimit = 512
    /// Floats fetched per forward pass at most (256 MB): every measured value of a batch is
    /// held at once, so a large model at a large input runs smaller batches.
    static let fetchBudget = 64 << 20

    /// Where and how to measure: samples `indices` of `data`, in batches of `batchSize`.
    public struct Calibration: Sendable {
        public var data: TrainingData
        public var indices: [Int]
        public var batchSize: Int
        public init(data: TrainingData, indices: [Int], batchSize: Int) {
            self.data = data
            self.indices = indices
            self.batchSize = batchSize
        }
    }

    /// Per-channel ops a channel passes through on its way to its readers, one value in, the
    /// same channels out (Add/Sub/Mul/Div: a bias, a scale, a residual partner).
    static let passThrough: Set<String> = [
        "BatchNormalization", "Relu", "LeakyRelu", "PRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu",
        "Softplus", "Softsign", "Mish", "Identity", "Dropout", "Add", "Sub", "Mul", "Div",
    ]

    /// The value measured for a producer's output `value`: followed through `passThrough` ops,
    /// each the only reader of the value before it and keeping its shape, as far as they go.
    static func measuredValue(from value: String, graph: Graph, readers: [String: [(node: Int, slot: Int)]], shapes: ShapeInference) -> String {
        var current = value
        let outputs = Set(graph.outputs.map(\.name))
        while !outputs.contains(current), let only = readers[current], only.count == 1 {
            let node = graph.nodes[only[0].node]
            guard node.domain.isEmpty, passThrough.contains(node.opType), let next = node.outputs.first, !next.isEmpty,
                  let before = shapes.shape(current), shapes.shape(next) == before
            else { break }
            current = next
        }
        return current
    }

    /// The score of every channel of each group of `ids`: the standard deviation over the
    /// samples and positions of each distinct value its producers lead to (residual branches
    /// meeting in one add count once), summed, times the L1 of its consumers' input slices
    /// (when the group has consumers with weights). `model` runs the task's graph in batches;
    /// `progress` gets the fraction of batches done.
    public static func scores(ofGroups ids: [Int], groups: ChannelGroups, lookup: ChannelGroupLookup, graph: Graph,
                              shapes: ShapeInference, model: ClassifierGraph, calibration: Calibration,
                              progress: (Double) throws -> Void = { _ in }) throws -> [Int: [Double]] {
        let spread = try standardDeviations(ofGroups: ids, groups: groups, lookup: lookup, graph: graph, shapes: shapes, model: model,
                                            calibration: calibration, progress: progress)
        var scores: [Int: [Double]] = [:]
        for (g, deviation) in spread {
            let readers = MagnitudeCriterion.consumerL1(ofGroup: g, groups: groups, lookup: lookup, graph: graph)
            scores[g] = readers.contains { $0 > 0 } ? zip(deviation, readers).map(*) : deviation
        }
        return scores
    }

    /// Per channel of each group of `ids`: the standard deviation of each value its producers
    /// lead to, over samples and positions, summed over the distinct values.
    public static func standardDeviations(ofGroups ids: [Int], groups: ChannelGroups, lookup: ChannelGroupLookup, graph: Graph,
                                          shapes: ShapeInference, model: ClassifierGraph, calibration: Calibration,
                                          progress: (Double) throws -> Void = { _ in }) throws -> [Int: [Double]] {
        let readers = graph.consumers()
        var nodeByLabel: [String: Node] = [:]
        for node in graph.nodes { nodeByLabel[node.label] = node }
        // Per measured value: its group and, per channel position, the group channel it carries.
        var measured: [String: (group: Int, channels: [Int])] = [:]
        var order: [String] = []
        var channelsLast = Set<String>()
        for g in ids {
            for s in lookup.sitesOfGroup[g] {
                let site = groups.sites[s]
                guard site.role == .producer, let node = nodeByLabel[site.node], let out = node.outputs.first else { continue }
                let value = measuredValue(from: out, graph: graph, readers: readers, shapes: shapes)
                // A MatMul's output channels lie on its last axis (channels last past rank 2).
                let last = node.opType == "MatMul" && (shapes.shape(value)?.count ?? 2) > 2
                let axis = { (s: [Int]) in last ? s.count - 1 : 1 }
                guard measured[value] == nil,
                      shapes.shape(value).map({ $0.count >= 2 && $0[axis($0)] == site.channels.count }) ?? true else { continue }
                if last { channelsLast.insert(value) }
                measured[value] = (g, site.channels.map { lookup.channelOf[$0] })
                order.append(value)
            }
        }
        let perSample = order.reduce(0) { $0 + (shapes.shape($1)?.dropFirst().reduce(1, *) ?? 0) }
        let batchSize = max(1, min(calibration.batchSize, fetchBudget / max(1, perSample)))
        let moments = try ChannelMoments.measure(order, in: model, data: calibration.data,
                                                 batches: BatchOrder.inOrder(calibration.indices, size: batchSize),
                                                 channelsLast: channelsLast, progress: progress)
        var scores: [Int: [Double]] = [:]
        for g in ids { scores[g] = [Double](repeating: 0, count: groups.groups[g].size) }
        for name in order {
            guard let (g, channels) = measured[name], let m = moments[name], m.sum.count == channels.count else { continue }
            let variance = m.variance
            for (p, i) in channels.enumerated() where i >= 0 { scores[g]![i] += max(0, variance[p]).squareRoot() }
        }
        try progress(1)
        return scores
    }
}
