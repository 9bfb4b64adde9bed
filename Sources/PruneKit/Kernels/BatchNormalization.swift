/// Inference batch normalization over axis 1 of `x` (N×C×…):
/// y = scale·(x − mean)/√(variance + epsilon) + bias, with running statistics.
public func batchNormalization(
    _ x: NDArray<Float>, scale: NDArray<Float>, bias: NDArray<Float>,
    mean: NDArray<Float>, variance: NDArray<Float>, epsilon: Float = 1e-5
) throws -> NDArray<Float> {
    guard x.rank >= 2 else { throw KernelError.shape("BatchNormalization input \(x.shape) needs rank ≥ 2") }
    let channels = x.shape[1]
    for (name, p) in [("scale", scale), ("B", bias), ("mean", mean), ("var", variance)] where p.count != channels {
        throw KernelError.shape("BatchNormalization \(name) has shape \(p.shape), input has \(channels) channels")
    }
    let (a, b) = batchNormalizationAffine(scale: scale.storage, bias: bias.storage, mean: mean.storage,
                                          variance: variance.storage, epsilon: epsilon)
    let batch = x.shape[0]
    let spatial = x.shape[2...].reduce(1, *)
    var out = x.storage
    out.withUnsafeMutableBufferPointer { y in
        for n in 0..<batch {
            for c in 0..<channels {
                let base = (n * channels + c) * spatial
                let (ac, bc) = (a[c], b[c])
                for i in base..<(base + spatial) { y[i] = ac * y[i] + bc }
            }
        }
    }
    return NDArray(uncheckedShape: x.shape, storage: out)
}

/// The per-channel y = a·x + b that inference batch norm reduces to (what folding BN into the
/// preceding conv multiplies in).
public func batchNormalizationAffine(
    scale: [Float], bias: [Float], mean: [Float], variance: [Float], epsilon: Float
) -> (a: [Float], b: [Float]) {
    var a = [Float](repeating: 0, count: scale.count)
    var b = [Float](repeating: 0, count: scale.count)
    for c in scale.indices {
        a[c] = scale[c] / (variance[c] + epsilon).squareRoot()
        b[c] = bias[c] - a[c] * mean[c]
    }
    return (a, b)
}
