import Dispatch
import Foundation

/// C = alpha·op(A)·op(B) + beta·C on row-major Float matrices, op(X) = Xᵀ when `trans`.
///
/// op(A) is m×k, op(B) is k×n, C is m×n; `lda`, `ldb`, `ldc` are the row strides of A, B, C as
/// stored (so a sub-matrix of a larger one can be passed in place). With `beta == 0`, C is
/// overwritten without being read, as in BLAS. Every matrix product of the forward pass goes
/// through this one function, so a faster implementation can replace it alone.
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
    guard m > 0, n > 0 else { return }

    for i in 0..<m {
        let row = c + i * ldc
        if beta == 0 {
            row.update(repeating: 0, count: n)
        } else if beta != 1 {
            for j in 0..<n { row[j] *= beta }
        }
    }
    guard k > 0, alpha != 0 else { return }

    let problem = GEMMProblem(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                              a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
    let tiles = problem.rowBlocks * problem.columnBlocks
    let work = Double(m) * Double(n) * Double(k)
    if tiles > 1, work >= GEMMProblem.parallelWork, ProcessInfo.processInfo.activeProcessorCount > 1 {
        DispatchQueue.concurrentPerform(iterations: tiles) { problem.computeTile($0) }
    } else {
        for t in 0..<tiles { problem.computeTile(t) }
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

/// One product split into tiles of C (`rows`×`columns`), each computed over k in `depth`
/// slices so the slice of B it streams stays in cache. Tiles write disjoint parts of C, which
/// is what makes running them concurrently safe.
private struct GEMMProblem: @unchecked Sendable {
    static let rows = 64
    static let columns = 256
    static let depth = 256
    /// Multiply-adds below which threads cost more than they save.
    static let parallelWork: Double = 1_048_576

    let transA: Bool, transB: Bool
    let m: Int, n: Int, k: Int
    let alpha: Float
    let a: UnsafePointer<Float>, lda: Int
    let b: UnsafePointer<Float>, ldb: Int
    let c: UnsafeMutablePointer<Float>, ldc: Int

    var rowBlocks: Int { (m + Self.rows - 1) / Self.rows }
    var columnBlocks: Int { (n + Self.columns - 1) / Self.columns }

    func computeTile(_ tile: Int) {
        let i0 = (tile / columnBlocks) * Self.rows
        let i1 = min(m, i0 + Self.rows)
        let j0 = (tile % columnBlocks) * Self.columns
        let nc = min(n, j0 + Self.columns) - j0

        // Bᵀ is read column-wise; a transposed copy of the slice gives the inner loop contiguous rows.
        let packed: UnsafeMutablePointer<Float>? =
            transB ? .allocate(capacity: Self.depth * nc) : nil
        defer { packed?.deallocate() }

        var p0 = 0
        while p0 < k {
            let kc = min(Self.depth, k - p0)
            let panel: UnsafePointer<Float>
            let panelStride: Int
            if let packed {
                for j in 0..<nc {
                    let src = b + (j0 + j) * ldb + p0
                    for p in 0..<kc { packed[p * nc + j] = src[p] }
                }
                panel = UnsafePointer(packed)
                panelStride = nc
            } else {
                panel = b + p0 * ldb + j0
                panelStride = ldb
            }
            for i in i0..<i1 {
                let cRow = c + i * ldc + j0
                for p in 0..<kc {
                    let aip = transA ? a[(p0 + p) * lda + i] : a[i * lda + p0 + p]
                    let scaled = alpha * aip
                    let bRow = panel + p * panelStride
                    for j in 0..<nc { cRow[j] += scaled * bRow[j] }
                }
            }
            p0 += kc
        }
    }
}
