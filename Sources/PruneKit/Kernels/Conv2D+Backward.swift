/// Gradients of `conv2d`: nil for the ones not asked for.
public struct Conv2DGradients: Sendable {
    public var input: NDArray<Float>?
    public var weight: NDArray<Float>?
    /// Per filter: the output gradient summed over batch and space (whether or not the conv has a bias).
    public var bias: NDArray<Float>
}

/// The gradients of `conv2d(x, weight, bias, p)` given `gradOutput`, its output's gradient.
///
/// Per image and group, as in the forward: the weight gradient is dY·colsᵀ with `cols` the
/// im2col of the input (recomputed, not stored), accumulated over the batch; the data
/// gradient is col2im(Wᵀ·dY). Both products go through `gemm`.
public func conv2dBackward(_ x: NDArray<Float>, weight: NDArray<Float>, gradOutput dy: NDArray<Float>,
                           _ p: Conv2DParameters = Conv2DParameters(),
                           inputGradient: Bool = true, weightGradient: Bool = true) throws -> Conv2DGradients {
    let g = try Conv2DGeometry(input: x.shape, weight: weight.shape, p)
    guard dy.shape == g.outputShape else {
        throw KernelError.shape("Conv output gradient \(dy.shape) does not match the output \(g.outputShape)")
    }
    var dx = [Float](repeating: 0, count: inputGradient ? x.count : 0)
    var dw = [Float](repeating: 0, count: weightGradient ? weight.count : 0)
    var db = [Float](repeating: 0, count: g.filters)
    let outPlane = g.outPlane
    for n in 0..<g.batch {
        for m in 0..<g.filters {
            let base = (n * g.filters + m) * outPlane
            db[m] += dy.storage[base..<(base + outPlane)].reduce(0, +)
        }
    }
    let depth = g.depth
    if outPlane > 0, depth > 0, !x.storage.isEmpty, inputGradient || weightGradient {
        let direct = g.direct
        var columns = [Float](repeating: 0, count: direct ? 0 : depth * outPlane)
        x.storage.withUnsafeBufferPointer { xs in
            weight.storage.withUnsafeBufferPointer { ws in
                dy.storage.withUnsafeBufferPointer { dys in
                    dx.withUnsafeMutableBufferPointer { dxs in
                        dw.withUnsafeMutableBufferPointer { dws in
                            columns.withUnsafeMutableBufferPointer { cols in
                                for n in 0..<g.batch {
                                    for group in 0..<g.group {
                                        let imageOffset = (n * g.channels + group * g.groupChannels) * g.inPlane
                                        let dyG = dys.baseAddress! + (n * g.filters + group * g.groupFilters) * outPlane
                                        let wG = ws.baseAddress! + group * g.groupFilters * depth
                                        if weightGradient {
                                            let matrix: UnsafePointer<Float>
                                            if direct {
                                                matrix = xs.baseAddress! + imageOffset
                                            } else {
                                                im2col(image: xs.baseAddress! + imageOffset, channels: g.groupChannels,
                                                       h: g.h, w: g.w, columns: cols.baseAddress!)
                                                matrix = UnsafePointer(cols.baseAddress!)
                                            }
                                            gemm(transA: false, transB: true, m: g.groupFilters, n: depth, k: outPlane,
                                                 alpha: 1, a: dyG, lda: outPlane, b: matrix, ldb: outPlane,
                                                 beta: 1, c: dws.baseAddress! + group * g.groupFilters * depth, ldc: depth)
                                        }
                                        if inputGradient {
                                            let image = dxs.baseAddress! + imageOffset
                                            // Each (image, group) owns its channels of dX, so the direct
                                            // case accumulates in place.
                                            gemm(transA: true, transB: false, m: depth, n: outPlane, k: g.groupFilters,
                                                 alpha: 1, a: wG, lda: depth, b: dyG, ldb: outPlane,
                                                 beta: direct ? 1 : 0, c: direct ? image : cols.baseAddress!, ldc: outPlane)
                                            if !direct {
                                                col2im(columns: cols.baseAddress!, channels: g.groupChannels,
                                                       h: g.h, w: g.w, image: image)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return Conv2DGradients(
        input: inputGradient ? NDArray(uncheckedShape: x.shape, storage: dx) : nil,
        weight: weightGradient ? NDArray(uncheckedShape: weight.shape, storage: dw) : nil,
        bias: NDArray(uncheckedShape: [g.filters], storage: db))
}
