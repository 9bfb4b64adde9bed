/// Layer normalization (ONNX LayerNormalization, PyTorch `nn.LayerNorm`): every row of the
/// axes from `axis` on is normalized by its own mean and biased variance, then scaled and
/// shifted element by element of the normalized shape. ConvNeXt runs it over the channels
/// of a channels-last tensor, so the statistics mix channels (unlike BN's or InstanceNorm's).
public struct LayerNormResult: Sendable {
    public var output: NDArray<Float>
    /// Per row, the shape of the input with 1 on the normalized axes (ONNX's optional outputs).
    public var mean: NDArray<Float>
    public var invStdDev: NDArray<Float>
}

public func layerNormalization(_ x: NDArray<Float>, scale: NDArray<Float>, bias: NDArray<Float>?, axis: Int = -1,
                               epsilon: Float = 1e-5) throws -> LayerNormResult {
    let rows = try LayerNormRows(x, axis: axis, scale: scale, bias: bias)
    var out = [Float](repeating: 0, count: x.count)
    var means = [Float](repeating: 0, count: rows.count), invStds = means
    for r in 0..<rows.count {
        let range = (r * rows.size)..<((r + 1) * rows.size)
        let (mean, invStd) = normalizationStatistics(x.storage[range], epsilon: epsilon)
        means[r] = mean
        invStds[r] = invStd
        for (j, i) in range.enumerated() {
            out[i] = (x.storage[i] - mean) * invStd * scale.storage[j] + (bias?.storage[j] ?? 0)
        }
    }
    let statsShape = x.shape.indices.map { $0 < rows.axis ? x.shape[$0] : 1 }
    return LayerNormResult(output: NDArray(uncheckedShape: x.shape, storage: out),
                           mean: NDArray(uncheckedShape: statsShape, storage: means),
                           invStdDev: NDArray(uncheckedShape: statsShape, storage: invStds))
}

/// Gradients of `layerNormalization` with respect to x, scale and bias (bias's has scale's shape).
public func layerNormalizationBackward(_ x: NDArray<Float>, scale: NDArray<Float>, axis: Int = -1, epsilon: Float = 1e-5,
                                       gradOutput dy: NDArray<Float>)
    throws -> (input: NDArray<Float>, scale: NDArray<Float>, bias: NDArray<Float>) {
    let rows = try LayerNormRows(x, axis: axis, scale: scale, bias: nil)
    guard dy.shape == x.shape else { throw KernelError.shape("output gradient \(dy.shape) does not match the input \(x.shape)") }
    var dx = [Float](repeating: 0, count: x.count)
    var dScale = [Double](repeating: 0, count: rows.size), dBias = dScale
    let m = Double(rows.size)
    var xhat = [Double](repeating: 0, count: rows.size), g = xhat
    for r in 0..<rows.count {
        let start = r * rows.size
        let (mean, invStd) = normalizationStatistics(x.storage[start..<(start + rows.size)], epsilon: epsilon)
        var sumG = 0.0, sumGXhat = 0.0
        for j in 0..<rows.size {
            let d = Double(dy.storage[start + j])
            xhat[j] = Double((x.storage[start + j] - mean) * invStd)
            g[j] = d * Double(scale.storage[j])
            sumG += g[j]
            sumGXhat += g[j] * xhat[j]
            dScale[j] += d * xhat[j]
            dBias[j] += d
        }
        // dx = σ⁻¹/m · (m·g − Σg − x̂·Σ(g·x̂)) with g = γ·dy: the normalization gradient per row.
        let k = Double(invStd) / m
        for j in 0..<rows.size { dx[start + j] = Float(k * (m * g[j] - sumG - xhat[j] * sumGXhat)) }
    }
    return (NDArray(uncheckedShape: x.shape, storage: dx), NDArray(uncheckedShape: scale.shape, storage: dScale.map { Float($0) }),
            NDArray(uncheckedShape: scale.shape, storage: dBias.map { Float($0) }))
}

/// The rows of an input split at `axis`, checked against the scale and bias of one row.
private struct LayerNormRows {
    let axis: Int, count: Int, size: Int

    init(_ x: NDArray<Float>, axis: Int, scale: NDArray<Float>, bias: NDArray<Float>?) throws {
        let a = axis < 0 ? axis + x.rank : axis
        guard a >= 0, a < x.rank else { throw KernelError.attribute("LayerNormalization axis \(axis) for an input of rank \(x.rank)") }
        self.axis = a
        count = x.shape[..<a].reduce(1, *)
        size = x.shape[a...].reduce(1, *)
        guard size > 0 else { throw KernelError.shape("LayerNormalization of empty rows \(x.shape)") }
        // The normalized shape itself (or its trailing axes, broadcast): one value per element of a row.
        guard scale.count == size, bias.map({ $0.count == size }) ?? true else {
            throw KernelError.shape("LayerNormalization Scale \(scale.shape) and B \(bias?.shape ?? []) for rows of shape \(Array(x.shape[a...]))")
        }
    }
}

/// Mean and 1/√(biased variance + ε) of the values normalized together (a LayerNorm row, an
/// InstanceNorm plane), accumulated in Double.
func normalizationStatistics(_ values: ArraySlice<Float>, epsilon: Float) -> (mean: Float, invStd: Float) {
    let n = Double(values.count)
    let mean = values.reduce(0.0) { $0 + Double($1) } / n
    let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
    return (Float(mean), Float(1 / (variance + Double(epsilon)).squareRoot()))
}
