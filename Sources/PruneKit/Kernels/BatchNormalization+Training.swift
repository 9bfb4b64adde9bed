/// Training-mode batch normalization over axis 1 of `x` (N×C×…): each channel is normalized
/// with the mean and biased variance of its own N·H·W values in this batch, then scaled and
/// shifted. Returns those statistics too (for running-average updates and the backward pass).
public func batchNormalizationTraining(
    _ x: NDArray<Float>, scale: NDArray<Float>, bias: NDArray<Float>, epsilon: Float = 1e-5
) throws -> (output: NDArray<Float>, mean: NDArray<Float>, variance: NDArray<Float>) {
    let layout = try BatchNormLayout(x, scale: scale, bias: bias)
    let (mean, variance) = layout.statistics(x)
    let y = try batchNormalization(x, scale: scale, bias: bias, mean: mean, variance: variance, epsilon: epsilon)
    return (y, mean, variance)
}

/// Gradients of batch normalization given the output's gradient `dy`. `mean` and `variance`
/// are the statistics the forward used: with `batchStatistics` they were computed from `x`
/// (training mode), so the input gradient includes their dependence on `x`; otherwise they
/// were running statistics and y is a per-channel affine function of x.
public func batchNormalizationBackward(
    _ x: NDArray<Float>, scale: NDArray<Float>, mean: NDArray<Float>, variance: NDArray<Float>,
    epsilon: Float = 1e-5, gradOutput dy: NDArray<Float>, batchStatistics: Bool
) throws -> (input: NDArray<Float>, scale: NDArray<Float>, bias: NDArray<Float>) {
    let layout = try BatchNormLayout(x, scale: scale, bias: nil)
    for (name, p) in [("mean", mean), ("var", variance)] where p.count != layout.channels {
        throw KernelError.shape("BatchNormalization \(name) has shape \(p.shape), input has \(layout.channels) channels")
    }
    guard dy.shape == x.shape else { throw KernelError.shape("BatchNormalization output gradient \(dy.shape) does not match \(x.shape)") }
    let (channels, count) = (layout.channels, layout.count)
    let inverseStd = variance.storage.map { 1 / ($0 + epsilon).squareRoot() }
    // Per channel: Σ dy and Σ dy·x̂, with x̂ = (x − mean)/σ.
    var sumDy = [Double](repeating: 0, count: channels)
    var sumDyXhat = [Double](repeating: 0, count: channels)
    layout.forEachPlane { c, range in
        let (mu, s) = (mean.storage[c], inverseStd[c])
        var (a, b): (Float, Float) = (0, 0)
        for i in range {
            a += dy.storage[i]
            b += dy.storage[i] * (x.storage[i] - mu) * s
        }
        sumDy[c] += Double(a)
        sumDyXhat[c] += Double(b)
    }
    var dx = [Float](repeating: 0, count: x.count)
    let n = Float(max(count, 1))
    layout.forEachPlane { c, range in
        let (mu, s, gamma) = (mean.storage[c], inverseStd[c], scale.storage[c])
        if batchStatistics {
            // dx = γσ⁻¹·(dy − mean(dy) − x̂·mean(dy·x̂))
            let (meanDy, meanDyXhat) = (Float(sumDy[c]) / n, Float(sumDyXhat[c]) / n)
            for i in range {
                let xhat = (x.storage[i] - mu) * s
                dx[i] = gamma * s * (dy.storage[i] - meanDy - xhat * meanDyXhat)
            }
        } else {
            for i in range { dx[i] = gamma * s * dy.storage[i] }
        }
    }
    return (NDArray(uncheckedShape: x.shape, storage: dx),
            NDArray(uncheckedShape: [channels], storage: sumDyXhat.map { Float($0) }),
            NDArray(uncheckedShape: [channels], storage: sumDy.map { Float($0) }))
}

/// How a batch-norm input splits into per-channel planes.
struct BatchNormLayout {
    let batch: Int
    let channels: Int
    let spatial: Int
    /// Values per channel: N·H·W.
    var count: Int { batch * spatial }

    init(_ x: NDArray<Float>, scale: NDArray<Float>, bias: NDArray<Float>?) throws {
        guard x.rank >= 2 else { throw KernelError.shape("BatchNormalization input \(x.shape) needs rank ≥ 2") }
        (batch, channels, spatial) = (x.shape[0], x.shape[1], x.shape[2...].reduce(1, *))
        for (name, p) in [("scale", scale), ("B", bias)] {
            if let p, p.count != channels {
                throw KernelError.shape("BatchNormalization \(name) has shape \(p.shape), input has \(channels) channels")
            }
        }
    }

    /// Calls `body` with every (channel, contiguous index range of one image's plane).
    func forEachPlane(_ body: (Int, Range<Int>) -> Void) {
        for n in 0..<batch {
            for c in 0..<channels {
                let base = (n * channels + c) * spatial
                body(c, base..<(base + spatial))
            }
        }
    }

    /// Per-channel mean and biased variance (two passes, Double across planes).
    func statistics(_ x: NDArray<Float>) -> (mean: NDArray<Float>, variance: NDArray<Float>) {
        let n = Double(max(count, 1))
        var sums = [Double](repeating: 0, count: channels)
        forEachPlane { c, range in sums[c] += Double(x.storage[range].reduce(0, +)) }
        let mean = sums.map { Float($0 / n) }
        var squares = [Double](repeating: 0, count: channels)
        forEachPlane { c, range in
            let mu = mean[c]
            var s: Float = 0
            for i in range { s += (x.storage[i] - mu) * (x.storage[i] - mu) }
            squares[c] += Double(s)
        }
        return (NDArray(uncheckedShape: [channels], storage: mean),
                NDArray(uncheckedShape: [channels], storage: squares.map { Float($0 / n) }))
    }
}
