import Foundation

/// C = alpha·op(A)·op(B) + beta·C on row-major Float matrices, op(X) = Xᵀ when `trans`.
///
/// op(A) is m×k, op(B) is k×n, C is m×n; `lda`, `ldb`, `ldc` are the row strides of A, B, C as
/// stored (so a sub-matrix of a larger one can be passed in place). With `beta == 0`, C is
/// overwritten without being read, as in BLAS. Every matrix product of the forward pass goes
/// through this one function. The implementation (packing, cache blocking, the register-tiled
/// micro-kernel, threads) is in GEMMDriver.swift, GEMMPacking.swift and GEMMMicroKernel.swift.
public func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Float, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative size \(m)×\(n)×\(k)")
    precondition(lda >= max(1, transA ? m : k), "gemm: lda \(lda) too small")
    precondition(ldb >= max(1, transB ? k : n), "gemm: ldb \(ldb) too small")
    precondition(ldc >= max(1, n), "gemm: ldc \(ldc) too small")
    gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
         beta: beta, c: c, ldc: ldc, threads: KernelThreads.count)
}

/// `gemm` on at most `threads` threads: 1 when the caller already runs one product per core.
func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Float, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int, blocking: GEMMBlocking = .standard
) {
    gemm(transA: transA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: .matrix(b, ld: ldb, transposed: transB),
         beta: beta, c: c, ldc: ldc, threads: threads, blocking: blocking)
}

/// `gemm` with any right operand, among them a convolution's im2col matrix, and an optional
/// `rowBias` added to each row of C (rowBias[i] to row i) as the tiles are stored.
func gemm(
    transA: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
    b: GEMMRightOperand, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, rowBias: UnsafePointer<Float>? = nil,
    threads: Int, blocking: GEMMBlocking = .standard
) {
    guard m > 0, n > 0 else { return }
    if k == 0 || alpha == 0 {
        scale(m: m, n: n, c: c, ldc: ldc, by: beta, adding: rowBias)
        return
    }
    GEMMOperands(transA: transA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, beta: beta, c: c, ldc: ldc,
                 rowBias: rowBias)
        .run(threads: threads, blocking: blocking)
}

/// C = beta·C + rowBias (beta 0: without reading C, as BLAS): all that is left when
/// op(A)·op(B) is zero.
private func scale(m: Int, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int, by beta: Float,
                   adding rowBias: UnsafePointer<Float>?) {
    for i in 0..<m {
        let row = c + i * ldc
        let add = rowBias?[i] ?? 0
        if beta == 0 {
            row.update(repeating: add, count: n)
        } else if beta != 1 || add != 0 {
            for j in 0..<n { row[j] = beta * row[j] + add }
        }
    }
}

/// Convenience over tightly packed arrays: A is m×k (k×m when `transA`), B is k×n (n×k when
/// `transB`), C is m×n.
public func gemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: [Float], b: [Float], beta: Float = 0, c: inout [Float]
) {
    precondition(a.count == m * k && b.count == k * n && c.count == m * n, "gemm: array sizes do not match \(m)×\(n)×\(k)")
    guard m > 0, n > 0 else { return }
    if k == 0 {
        // A and B are empty (possibly without storage): only the beta scaling applies.
        for i in c.indices { c[i] = beta == 0 ? 0 : beta * c[i] }
        return
    }
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                     a: pa.baseAddress!, lda: transA ? m : k, b: pb.baseAddress!, ldb: transB ? k : n,
                     beta: beta, c: pc.baseAddress!, ldc: n)
            }
        }
    }
}
