/// ONNX Gemm: alpha·op(A)·op(B) + beta·C for 2-D A and B, with C broadcast to the result.
public func gemm(_ a: NDArray<Float>, _ b: NDArray<Float>, c: NDArray<Float>? = nil,
                 alpha: Float = 1, beta: Float = 1, transA: Bool = false, transB: Bool = false) throws -> NDArray<Float> {
    guard a.rank == 2, b.rank == 2 else { throw KernelError.shape("Gemm needs 2-D A and B, got \(a.shape) and \(b.shape)") }
    let (m, k) = transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
    let (kb, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
    guard k == kb else {
        throw KernelError.shape("Gemm A \(a.shape)\(transA ? "ᵀ" : "") and B \(b.shape)\(transB ? "ᵀ" : "") disagree on the inner dimension (\(k) vs \(kb))")
    }
    _ = try resultCount([m, n])
    var out: [Float]
    var scaleC: Float = 0
    if let c, beta != 0 {
        out = try c.broadcast(to: [m, n]).storage
        scaleC = beta
    } else {
        out = [Float](repeating: 0, count: m * n)
    }
    gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a.storage, b: b.storage, beta: scaleC, c: &out)
    return NDArray(uncheckedShape: [m, n], storage: out)
}

/// The shapes of numpy-style `matmul(a, b)`, shared by the forward and the backward: 1-D
/// operands promoted to matrices, each operand's batch axes, and their broadcast.
struct MatMulGeometry {
    let m: Int, k: Int, n: Int
    let aBatch: [Int], bBatch: [Int], batch: [Int]

    init(_ a: NDArray<Float>, _ b: NDArray<Float>) throws {
        guard a.rank >= 1, b.rank >= 1 else { throw KernelError.shape("MatMul of scalars \(a.shape), \(b.shape)") }
        let aShape = a.rank == 1 ? [1, a.shape[0]] : a.shape
        let bShape = b.rank == 1 ? [b.shape[0], 1] : b.shape
        (m, k) = (aShape[aShape.count - 2], aShape[aShape.count - 1])
        let kb: Int
        (kb, n) = (bShape[bShape.count - 2], bShape[bShape.count - 1])
        guard k == kb else { throw KernelError.shape("MatMul \(a.shape) × \(b.shape): inner dimensions \(k) and \(kb) differ") }
        aBatch = Array(aShape.dropLast(2))
        bBatch = Array(bShape.dropLast(2))
        guard let batch = broadcastShape(aBatch, bBatch) else {
            throw KernelError.shape("MatMul \(a.shape) × \(b.shape): batch axes do not broadcast")
        }
        self.batch = batch
    }

    /// Calls `body(index, aOffset, bOffset)` for every matrix of the batch in row-major order:
    /// the offsets of its A and B matrices, 0-strided along the axes a side is broadcast on.
    func forEachMatrix(_ body: (_ index: Int, _ a: Int, _ b: Int) -> Void) {
        let aStrides = broadcastStrides(aBatch, to: batch).map { $0 * m * k }
        let bStrides = broadcastStrides(bBatch, to: batch).map { $0 * k * n }
        let walk = StridedRows(shape: batch, strides: [aStrides, bStrides])
        let (stepA, stepB) = (walk.innerStrides[0], walk.innerStrides[1])
        var index = 0
        walk.forEachRow { offsets in
            var (oa, ob) = (offsets[0], offsets[1])
            for _ in 0..<walk.rowLength {
                body(index, oa, ob)
                index += 1
                oa += stepA
                ob += stepB
            }
        }
    }
}

/// numpy matmul: 1-D operands are promoted (and the added axis removed), leading batch
/// axes broadcast.
public func matmul(_ a: NDArray<Float>, _ b: NDArray<Float>) throws -> NDArray<Float> {
    let geometry = try MatMulGeometry(a, b)
    let (m, k, n) = (geometry.m, geometry.k, geometry.n)
    let (bBatch, batch) = (geometry.bBatch, geometry.batch)
    var shape = batch + [m, n]
    if a.rank == 1 { shape.remove(at: shape.count - 2) }
    if b.rank == 1 { shape.removeLast() }

    let count = batch.reduce(1, *)
    _ = try resultCount(batch + [m, n])
    var out = [Float](repeating: 0, count: count * m * n)
    if bBatch.isEmpty, count > 0 {
        // B is one matrix: the batches of A stack into a single (count·m)×k product.
        gemm(m: count * m, n: n, k: k, a: a.storage, b: b.storage, c: &out)
    } else if count > 0, m > 0, n > 0, k > 0 {
        a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { pc in
                    geometry.forEachMatrix { index, oa, ob in
                        gemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1,
                             a: pa.baseAddress! + oa, lda: k, b: pb.baseAddress! + ob, ldb: n,
                             beta: 0, c: pc.baseAddress! + index * m * n, ldc: n)
                    }
                }
            }
        }
    }
    return NDArray(uncheckedShape: shape, storage: out)
}
