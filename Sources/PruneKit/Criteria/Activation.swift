/// A data-driven score (ALGORITHM.md §2, "with calibration data"): how much signal a channel
/// carries on the data — the mean |activation| of the channel where its readers read it,
/// after the BN and activation that follow its producer.
///
/// On BN-folded exports this sees what weight norms cannot: a channel whose folded bias keeps
/// it near-constant and large matters to the next layer however small its weights, and one
/// that ReLU zeroes on every sample carries nothing however large they are.
public enum ActivationCriterion {
    /// Samples to measure on; the scores are means, settled long before.
    public static let sampleLimit = 512

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
        "Softplus", "Identity", "Dropout", "Add", "Sub", "Mul", "Div",
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

    /// Mean |x| per channel of group g, for every group of `groups` (ids), summed over the
    /// distinct values its producers lead to (residual branches meeting in one add count once).
    /// `model` runs the task's graph in batches; `progress` gets the fraction of batches done.
    public static func meanAbsolute(ofGroups ids: [Int], groups: ChannelGroups, lookup: ChannelGroupLookup, graph: Graph,
                                    shapes: ShapeInference, model: ClassifierGraph, calibration: Calibration,
                                    progress: (Double) throws -> Void = { _ in }) throws -> [Int: [Double]] {
        let readers = graph.consumers()
        var nodeByLabel: [String: Node] = [:]
        for node in graph.nodes { nodeByLabel[node.label] = node }
        // Per measured value: per channel position, the group channel it carries (-1: none).
        var measured: [String: (group: Int, channels: [Int])] = [:]
        var order: [String] = []
        for g in ids {
            for s in lookup.sitesOfGroup[g] {
                let site = groups.sites[s]
                guard site.role == .producer, let node = nodeByLabel[site.node], let out = node.outputs.first else { continue }
                let value = measuredValue(from: out, graph: graph, readers: readers, shapes: shapes)
                guard measured[value] == nil, shapes.shape(value).map({ $0.count >= 2 && $0[1] == site.channels.count }) ?? true else { continue }
                measured[value] = (g, site.channels.map { lookup.channelOf[$0] })
                order.append(value)
            }
        }
        var sums = [String: [Double]]()
        var counts = [String: Int]()
        let batches = BatchOrder.inOrder(calibration.indices, size: calibration.batchSize)
        for (b, batch) in batches.enumerated() {
            try progress(Double(b) / Double(max(1, batches.count)))
            let fetched = try model.run(calibration.data.inputs(batch), fetching: order)
            for name in order {
                guard let x = fetched[name], x.rank >= 2 else { continue }
                let n = x.shape[0], c = x.shape[1], inner = x.count / max(1, n * c)
                var s = sums[name] ?? [Double](repeating: 0, count: c)
                guard s.count == c else { continue }
                x.storage.withUnsafeBufferPointer { v in
                    for i in 0..<n {
                        for ch in 0..<c {
                            let base = (i * c + ch) * inner
                            var a: Float = 0
                            for k in 0..<inner { a += abs(v[base + k]) }
                            s[ch] += Double(a)
                        }
                    }
                }
                sums[name] = s
                counts[name, default: 0] += n * inner
            }
        }
        var scores: [Int: [Double]] = [:]
        for g in ids { scores[g] = [Double](repeating: 0, count: groups.groups[g].size) }
        for name in order {
            guard let (g, channels) = measured[name], let s = sums[name], s.count == channels.count else { continue }
            let count = Double(max(1, counts[name] ?? 0))
            for (p, i) in channels.enumerated() where i >= 0 { scores[g]![i] += s[p] / count }
        }
        try progress(1)
        return scores
    }
}
