/// Gradients of ONNX Gemm, Y = alpha·op(A)·op(B) + beta·C: each operand's in its own stored
/// layout (so transposed operands get transposed gradients); `c` is nil when Gemm had no C.
public func gemmBackward(_ a: NDArray<Float>, _ b: NDArray<Float>, c: NDArray<Float>?,
                         alpha: Float = 1, beta: Float = 1, transA: Bool = false, transB: Bool = false,
                         gradOutput dy: NDArray<Float>) throws -> (a: NDArray<Float>, b: NDArray<Float>, c: NDArray<Float>?) {
    guard a.rank == 2, b.rank == 2 else { throw KernelError.shape("Gemm needs 2-D A and B, got \(a.shape) and \(b.shape)") }
    let (m, k) = transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
    let (kb, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
    guard k == kb else { throw KernelError.shape("Gemm A \(a.shape) and B \(b.shape) disagree on the inner dimension") }
    guard dy.shape == [m, n] else { throw KernelError.shape("Gemm output gradient \(dy.shape) is not \([m, n])") }
    var da = [Float](repeating: 0, count: a.count)
    var db = [Float](repeating: 0, count: b.count)
    // d op(A) = alpha·dY·op(B)ᵀ and d op(B) = alpha·op(A)ᵀ·dY; a transposed operand takes the transpose.
    if transA {
        gemm(transA: transB, transB: true, m: k, n: m, k: n, alpha: alpha, a: b.storage, b: dy.storage, c: &da)
    } else {
        gemm(transA: false, transB: !transB, m: m, n: k, k: n, alpha: alpha, a: dy.storage, b: b.storage, c: &da)
    }
    if transB {
        gemm(transA: true, transB: transA, m: n, n: k, k: m, alpha: alpha, a: dy.storage, b: a.storage, c: &db)
    } else {
        gemm(transA: !transA, transB: false, m: k, n: n, k: m, alpha: alpha, a: a.storage, b: dy.storage, c: &db)
    }
    var dc: NDArray<Float>?
    if let c {
        let scaled = NDArray(uncheckedShape: dy.shape, storage: dy.storage.map { beta * $0 })
        dc = try scaled.summed(toBroadcastSource: c.shape)
    }
    return (NDArray(uncheckedShape: a.shape, storage: da), NDArray(uncheckedShape: b.shape, storage: db), dc)
}

/// Gradients of numpy-style `matmul(a, b)`: per batch matrix dA = dY·Bᵀ and dB = Aᵀ·dY,
/// accumulated over the batch axes an operand was broadcast along.
public func matmulBackward(_ a: NDArray<Float>, _ b: NDArray<Float>, gradOutput dy: NDArray<Float>) throws -> (a: NDArray<Float>, b: NDArray<Float>) {
    let geometry = try MatMulGeometry(a, b)
    let (m, k, n) = (geometry.m, geometry.k, geometry.n)
    let batch = geometry.batch
    let count = batch.reduce(1, *)
    guard dy.count == count * m * n else {
        throw KernelError.shape("MatMul output gradient \(dy.shape) does not match \(batch + [m, n])")
    }
    var da = [Float](repeating: 0, count: a.count)
    var db = [Float](repeating: 0, count: b.count)
    if count > 0, m > 0, n > 0, k > 0 {
        // Where a side is broadcast its offsets repeat, so its gradient sums over that axis.
        a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                dy.storage.withUnsafeBufferPointer { pg in
                    da.withUnsafeMutableBufferPointer { pda in
                        db.withUnsafeMutableBufferPointer { pdb in
                            geometry.forEachMatrix { index, oa, ob in
                                let g = pg.baseAddress! + index * m * n
                                gemm(transA: false, transB: true, m: m, n: k, k: n, alpha: 1,
                                     a: g, lda: n, b: pb.baseAddress! + ob, ldb: n,
                                     beta: 1, c: pda.baseAddress! + oa, ldc: k)
                                gemm(transA: true, transB: false, m: k, n: n, k: m, alpha: 1,
                                     a: pa.baseAddress! + oa, lda: k, b: g, ldb: n,
                                     beta: 1, c: pdb.baseAddress! + ob, ldc: n)
                            }
                        }
                    }
                }
            }
        }
    }
    return (NDArray(uncheckedShape: a.shape, storage: da), NDArray(uncheckedShape: b.shape, storage: db))
}
