/// Per-channel mean and variance of N×C×… activations, accumulated over batches in Double
/// (sums over a whole data set in Float would lose the small differences that matter).
struct ChannelMoments: Sendable {
    private(set) var sum: [Double]
    private(set) var sumOfSquares: [Double]
    private(set) var count = 0

    init(channels: Int) {
        sum = [Double](repeating: 0, count: channels)
        sumOfSquares = sum
    }

    /// Adds every value of channel c (axis 1) of `x`.
    mutating func add(_ x: NDArray<Float>) {
        add(x, rows: 0..<x.shape[0])
    }

    /// Adds the values of channel c of the samples `rows` (indices along axis 0) of `x`. Each
    /// sample's sum is added on its own, in order: the total does not depend on how the samples
    /// were cut into batches, only on their order.
    mutating func add(_ x: NDArray<Float>, rows: some Sequence<Int>) {
        let channels = x.shape[1]
        precondition(channels == sum.count, "expected \(sum.count) channels, got \(x.shape)")
        let spatial = x.shape.dropFirst(2).reduce(1, *)
        var samples = 0
        x.storage.withUnsafeBufferPointer { v in
            for n in rows {
                samples += 1
                for c in 0..<channels {
                    let base = (n * channels + c) * spatial
                    var s = 0.0, q = 0.0
                    for i in base..<(base + spatial) {
                        let d = Double(v[i])
                        s += d
                        q += d * d
                    }
                    sum[c] += s
                    sumOfSquares[c] += q
                }
            }
        }
        count += samples * spatial
    }

    var mean: [Double] { sum.map { $0 / Double(max(count, 1)) } }

    /// Biased (divided by the count), as a normalization layer sees its data.
    var variance: [Double] {
        let n = Double(max(count, 1))
        return zip(sum, sumOfSquares).map { s, q in max(0, q / n - (s / n) * (s / n)) }
    }
}

extension ChannelMoments {
    /// The moments of each of `values` (N×C×… values of `model`) over `batches` of `data`, in
    /// one pass; a value of rank below 2 is left out. `progress` gets the fraction done.
    static func measure(_ values: [String], in model: ClassifierGraph, data: TrainingData, batches: [[Int]],
                        progress: (Double) throws -> Void) throws -> [String: ChannelMoments] {
        try measure(values, in: model, data: data, batches: batches, alsoOn: nil, progress: progress).all
    }

    /// As above, and the same moments over only the samples of `subset` too (nil: not asked),
    /// from the same pass: a sample's values do not depend on the batch it runs in, so they
    /// equal a pass over the subset alone in the same order.
    static func measure(_ values: [String], in model: ClassifierGraph, data: TrainingData, batches: [[Int]], alsoOn subset: Set<Int>?,
                        progress: (Double) throws -> Void) throws -> (all: [String: ChannelMoments], subset: [String: ChannelMoments]?) {
        var moments: [String: ChannelMoments] = [:]
        var inSubset: [String: ChannelMoments]? = subset.map { _ in [:] }
        for (b, batch) in batches.enumerated() {
            try progress(Double(b) / Double(max(1, batches.count)))
            let fetched = try model.run(data.inputs(batch), fetching: values)
            let rows = subset.map { s in batch.indices.filter { s.contains(batch[$0]) } }
            for name in values {
                guard let x = fetched[name], x.rank >= 2 else { continue }
                moments[name, default: ChannelMoments(channels: x.shape[1])].add(x)
                if let rows { inSubset![name, default: ChannelMoments(channels: x.shape[1])].add(x, rows: rows) }
            }
        }
        return (moments, inSubset)
    }
}
