import Testing
@testable import PruneKit

@Suite struct KernelGEMMTests {
    /// C = alpha·op(A)·op(B) + beta·C by the definition, in Double.
    static func naive(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: [Float], b: [Float], beta: Float, c: [Float]) -> [Float] {
        var out = c
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * m + i] : a[i * k + p]
                    let bv = transB ? b[j * k + p] : b[p * n + j]
                    sum += Double(av) * Double(bv)
                }
                out[i * n + j] = Float(Double(alpha) * sum + (beta == 0 ? 0 : Double(beta) * Double(c[i * n + j])))
            }
        }
        return out
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let m: Int, n: Int, k: Int
        var testDescription: String { "\(m)×\(n)×\(k)" }
    }

    // Odd sizes; the last crosses tile edges (12 rows, 32 columns) and is large enough to take
    // the parallel path. KernelGEMMRandomTests covers the blocking's edges.
    static let cases = [Case(m: 1, n: 1, k: 1), Case(m: 7, n: 13, k: 5), Case(m: 3, n: 1, k: 17),
                        Case(m: 67, n: 259, k: 261)]

    @Test(arguments: cases, [(false, false), (true, false), (false, true), (true, true)])
    func matchesTripleLoop(size: Case, transposes: (Bool, Bool)) {
        let (m, n, k) = (size.m, size.n, size.k)
        let (ta, tb) = transposes
        let a = KernelFixtures.values(m * k, seed: 1)
        let b = KernelFixtures.values(k * n, seed: 2)
        let c0 = KernelFixtures.values(m * n, seed: 3)
        var c = c0
        gemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.75, a: a, b: b, beta: -0.5, c: &c)
        let expected = Self.naive(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.75, a: a, b: b, beta: -0.5, c: c0)
        #expect(KernelFixtures.maxDifference(c, expected) < 1e-4)
    }

    @Test func betaZeroOverwritesWithoutReading() {
        var c: [Float] = [.nan, .infinity, .nan, -.infinity]
        gemm(m: 2, n: 2, k: 1, a: [1, 2], b: [3, 4], beta: 0, c: &c)
        #expect(c == [3, 4, 6, 8])
    }

    @Test func emptyDepthOnlyScalesC() {
        var c: [Float] = [1, 2, 3]
        gemm(m: 3, n: 1, k: 0, a: [], b: [], beta: 2, c: &c)
        #expect(c == [2, 4, 6])
    }

    @Test func leadingDimensionsSelectSubmatrices() {
        // A is the left 2×2 of a 2×3 matrix, C the right 2×2 of a 2×4 one.
        let a: [Float] = [1, 2, 99, 3, 4, 99]
        let b: [Float] = [1, 0, 0, 1]
        var c = [Float](repeating: -1, count: 8)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    gemm(transA: false, transB: false, m: 2, n: 2, k: 2, alpha: 1, a: pa.baseAddress!, lda: 3,
                         b: pb.baseAddress!, ldb: 2, beta: 0, c: pc.baseAddress! + 2, ldc: 4)
                }
            }
        }
        #expect(c == [-1, -1, 1, 2, -1, -1, 3, 4])
    }
}
