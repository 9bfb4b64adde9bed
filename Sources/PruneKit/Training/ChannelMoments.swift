/// Per-channel mean and variance of N×C×… activations (or N×…×C, channels last, as a
/// ConvNeXt linear layer's output), accumulated over batches in Double (sums over a whole data
/// set in Float would lose the small differences that matter).
struct ChannelMoments: Sendable {
    private(set) var sum: [Double]
    private(set) var sumOfSquares: [Double]
    private(set) var count = 0
    let channelsLast: Bool

    init(channels: Int, channelsLast: Bool = false) {
        sum = [Double](repeating: 0, count: channels)
        sumOfSquares = sum
        self.channelsLast = channelsLast
    }

    /// Adds every value of channel c (axis 1) of `x`.
    mutating func add(_ x: NDArray<Float>) {
        add(x, rows: 0..<x.shape[0])
    }

    /// Adds the values of channel c of the samples `rows` (indices along axis 0) of `x`. Each
    /// sample's sum is added on its own, in order: the total does not depend on how the samples
    /// were cut into batches, only on their order.
    mutating func add(_ x: NDArray<Float>, rows: some Sequence<Int>) {
        if channelsLast { return addLast(x, rows: rows) }
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

    /// `add` for channels on the last axis: each sample is rows of C values.
    private mutating func addLast(_ x: NDArray<Float>, rows: some Sequence<Int>) {
        let channels = x.shape[x.rank - 1]
        precondition(channels == sum.count, "expected \(sum.count) channels last, got \(x.shape)")
        let positions = x.shape.dropFirst().dropLast().reduce(1, *)
        var samples = 0
        x.storage.withUnsafeBufferPointer { v in
            for n in rows {
                samples += 1
                var s = [Double](repeating: 0, count: channels), q = s
                for p in 0..<positions {
                    let base = (n * positions + p) * channels
                    for c in 0..<channels {
                        let d = Double(v[base + c])
                        s[c] += d
                        q[c] += d * d
                    }
                }
                for c in 0..<channels { sum[c] += s[c]; sumOfSquares[c] += q[c] }
            }
        }
        count += samples * positions
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
    /// `channelsLast` names the values whose channels are on the last axis.
    static func measure(_ values: [String], in model: ClassifierGraph, data: TrainingData, batches: [[Int]],
                        channelsLast: Set<String> = [], progress: (Double) throws -> Void) throws -> [String: ChannelMoments] {
        try measure(values, in: model, data: data, batches: batches, alsoOn: nil, channelsLast: channelsLast, progress: progress).all
    }

    /// As above, and the same moments over only the samples of `subset` too (nil: not asked),
    /// from the same pass: a sample's values do not depend on the batch it runs in, so they
    /// equal a pass over the subset alone in the same order.
    static func measure(_ values: [String], in model: ClassifierGraph, data: TrainingData, batches: [[Int]], alsoOn subset: Set<Int>?,
                        channelsLast: Set<String> = [], progress: (Double) throws -> Void) throws -> (all: [String: ChannelMoments], subset: [String: ChannelMoments]?) {
        var moments: [String: ChannelMoments] = [:]
        var inSubset: [String: ChannelMoments]? = subset.map { _ in [:] }
        for (b, batch) in batches.enumerated() {
            try progress(Double(b) / Double(max(1, batches.count)))
            let fetched = try model.run(data.inputs(batch), fetching: values)
            let rows = subset.map { s in batch.indices.filter { s.contains(batch[$0]) } }
            for name in values {
                guard let x = fetched[name], x.rank >= 2 else { continue }
                let last = channelsLast.contains(name)
                let fresh = ChannelMoments(channels: x.shape[last ? x.rank - 1 : 1], channelsLast: last)
                moments[name, default: fresh].add(x)
                if let rows { inSubset![name, default: fresh].add(x, rows: rows) }
            }
        }
        return (moments, inSubset)
    }
}
