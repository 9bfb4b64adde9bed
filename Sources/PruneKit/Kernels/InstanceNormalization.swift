/// Instance normalization over each sample's channel (ONNX InstanceNormalization, PyTorch
/// `nn.InstanceNorm2d(affine=True)`): every (n, c) plane of `x` (N×C×…) is normalized by its
/// own mean and biased variance, then scaled and shifted per channel. The statistics never
/// mix channels, which is why its scale and bias are per-channel sites like BN's.
public func instanceNormalization(_ x: NDArray<Float>, scale: NDArray<Float>, bias: NDArray<Float>,
                                  epsilon: Float = 1e-5) throws -> NDArray<Float> {
    let planes = try InstanceNormPlanes(x, scale: scale, bias: bias)
    var out = x.storage
    out.withUnsafeMutableBufferPointer { y in
        for p in 0..<planes.count {
            let c = p % planes.channels
            let range = (p * planes.size)..<((p + 1) * planes.size)
            let (mean, invStd) = normalizationStatistics(x.storage[range], epsilon: epsilon)
            let (a, b) = (scale.storage[c] * invStd, bias.storage[c] - scale.storage[c] * invStd * mean)
            for i in range { y[i] = a * y[i] + b }
        }
    }
    return NDArray(uncheckedShape: x.shape, storage: out)
}

/// Gradients of `instanceNormalization` with respect to x, scale and bias.
public func instanceNormalizationBackward(_ x: NDArray<Float>, scale: NDArray<Float>, epsilon: Float = 1e-5,
                                          gradOutput dy: NDArray<Float>)
    throws -> (input: NDArray<Float>, scale: NDArray<Float>, bias: NDArray<Float>) {
    let planes = try InstanceNormPlanes(x, scale: scale, bias: scale)
    guard dy.shape == x.shape else { throw KernelError.shape("output gradient \(dy.shape) does not match the input \(x.shape)") }
    var dx = [Float](repeating: 0, count: x.count)
    var dScale = [Double](repeating: 0, count: planes.channels), dBias = dScale
    let m = Double(planes.size)
    for p in 0..<planes.count {
        let c = p % planes.channels
        let range = (p * planes.size)..<((p + 1) * planes.size)
        let (mean, invStd) = normalizationStatistics(x.storage[range], epsilon: epsilon)
        var sumDy = 0.0, sumDyXhat = 0.0
        for i in range {
            let xhat = Double((x.storage[i] - mean) * invStd)
            sumDy += Double(dy.storage[i])
            sumDyXhat += Double(dy.storage[i]) * xhat
        }
        dScale[c] += sumDyXhat
        dBias[c] += sumDy
        // dx = γ·σ⁻¹/m · (m·dy − Σdy − x̂·Σ(dy·x̂)), the usual normalization gradient per plane.
        let k = Double(scale.storage[c] * invStd) / m
        for i in range {
            let xhat = Double((x.storage[i] - mean) * invStd)
            dx[i] = Float(k * (m * Double(dy.storage[i]) - sumDy - xhat * sumDyXhat))
        }
    }
    let perChannel = [planes.channels]
    return (NDArray(uncheckedShape: x.shape, storage: dx), NDArray(uncheckedShape: perChannel, storage: dScale.map { Float($0) }),
            NDArray(uncheckedShape: perChannel, storage: dBias.map { Float($0) }))
}

/// The (n, c) planes of an N×C×… input, checked against per-channel parameters.
private struct InstanceNormPlanes {
    let channels: Int, count: Int, size: Int

    init(_ x: NDArray<Float>, scale: NDArray<Float>, bias: NDArray<Float>) throws {
        guard x.rank >= 3 else { throw KernelError.shape("InstanceNormalization input \(x.shape) needs rank ≥ 3") }
        channels = x.shape[1]
        guard scale.count == channels, bias.count == channels else {
            throw KernelError.shape("InstanceNormalization scale \(scale.shape) and B \(bias.shape) for \(channels) channels")
        }
        count = x.shape[0] * channels
        size = x.shape[2...].reduce(1, *)
        guard size > 0 else { throw KernelError.shape("InstanceNormalization of empty planes \(x.shape)") }
    }
}
