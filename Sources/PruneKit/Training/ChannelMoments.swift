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
        let (batch, channels) = (x.shape[0], x.shape[1])
        precondition(channels == sum.count, "expected \(sum.count) channels, got \(x.shape)")
        let spatial = x.shape.dropFirst(2).reduce(1, *)
        x.storage.withUnsafeBufferPointer { v in
            for n in 0..<batch {
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
        count += batch * spatial
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
        var moments: [String: ChannelMoments] = [:]
        for (b, batch) in batches.enumerated() {
            try progress(Double(b) / Double(max(1, batches.count)))
            let fetched = try model.run(data.inputs(batch), fetching: values)
            for name in values {
                guard let x = fetched[name], x.rank >= 2 else { continue }
                moments[name, default: ChannelMoments(channels: x.shape[1])].add(x)
            }
        }
        return moments
    }
}
