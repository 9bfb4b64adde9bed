import Testing
@testable import PruneKit

/// The SGEMM against the triple loop on seeded random problems: every transpose, alpha and
/// beta, operands inside larger matrices, and blockings small enough that small products
/// cross every tile, depth block and chunk edge, pack B both ways and run in parallel.
@Suite struct KernelGEMMRandomTests {
    /// One product C = alpha·op(A)·op(B) + beta·C with each operand inside a wider matrix.
    struct Problem: CustomTestStringConvertible {
        var m: Int, n: Int, k: Int
        var transA: Bool, transB: Bool
        var alpha: Float, beta: Float
        /// Extra columns right of each stored matrix (its leading dimension minus its width).
        var padA: Int, padB: Int, padC: Int
        var blocking: GEMMBlocking
        var threads: Int
        /// Whether a bias is added to each row of C.
        var rowBias = false

        var testDescription: String {
            "\(m)×\(n)×\(k) \(transA ? "T" : "N")\(transB ? "T" : "N") α\(alpha) β\(beta) pads \(padA),\(padB),\(padC) \(threads) thread(s)\(rowBias ? " row bias" : "")"
        }

        var lda: Int { (transA ? m : k) + padA }
        var ldb: Int { (transB ? k : n) + padB }
        var ldc: Int { n + padC }
    }

    /// Blocks of a few tiles: depth 16, items of at most 2 row panels, B packed 2 panels at a
    /// time, every product on the parallel path with 2 items per thread.
    static let tinyBlocking = GEMMBlocking(depth: 16, rowBlockBytes: 2 * 12 * 16 * 4, groupBytes: 2 * 32 * 16 * 4,
                                           parallelWork: 0, itemsPerThread: 2)

    /// C = alpha·op(A)·op(B) + beta·C (+ bias[i]) by the definition in Double, on the strided storage.
    static func reference(_ p: Problem, a: [Float], b: [Float], c: [Float], bias: [Float]?) -> [Float] {
        var out = c
        for i in 0..<p.m {
            for j in 0..<p.n {
                var sum = 0.0
                for q in 0..<p.k {
                    let av = p.transA ? a[q * p.lda + i] : a[i * p.lda + q]
                    let bv = p.transB ? b[j * p.ldb + q] : b[q * p.ldb + j]
                    sum += Double(av) * Double(bv)
                }
                let old = p.beta == 0 ? 0 : Double(p.beta) * Double(c[i * p.ldc + j])
                out[i * p.ldc + j] = Float(Double(p.alpha) * sum + old + Double(bias?[i] ?? 0))
            }
        }
        return out
    }

    /// Runs `p` on seeded operands; returns the largest error inside C relative to the
    /// tolerance (≤ 1 passes) and whether every value outside C kept its bits.
    static func run(_ p: Problem, seed: UInt64) -> (error: Float, outsideKept: Bool) {
        let a = KernelFixtures.values((p.transA ? p.k : p.m) * p.lda, seed: seed)
        let b = KernelFixtures.values((p.transB ? p.n : p.k) * p.ldb, seed: seed + 1)
        // With beta 0, C holds NaN: BLAS semantics say it is never read.
        let c0 = p.beta == 0 ? [Float](repeating: .nan, count: p.m * p.ldc) : KernelFixtures.values(p.m * p.ldc, seed: seed + 2)
        let bias = p.rowBias ? KernelFixtures.values(p.m, seed: seed + 3) : nil
        let expected = reference(p, a: a, b: b, c: c0, bias: bias)
        var c = c0
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                (bias ?? [0]).withUnsafeBufferPointer { pbias in
                    c.withUnsafeMutableBufferPointer { pc in
                        gemm(transA: p.transA, m: p.m, n: p.n, k: p.k, alpha: p.alpha, a: pa.baseAddress!, lda: p.lda,
                             b: .matrix(pb.baseAddress!, ld: p.ldb, transposed: p.transB), beta: p.beta,
                             c: pc.baseAddress!, ldc: p.ldc, rowBias: bias == nil ? nil : pbias.baseAddress!,
                             threads: p.threads, blocking: p.blocking)
                    }
                }
            }
        }
        let tolerance = 2e-6 * Float(p.k + 1) * max(1, abs(p.alpha)) + 1e-6
        var error: Float = 0
        var outsideKept = true
        for i in 0..<p.m {
            for j in 0..<p.ldc {
                let index = i * p.ldc + j
                if j < p.n {
                    let e = abs(c[index] - expected[index]) / tolerance
                    error = e.isNaN ? .infinity : max(error, e)
                } else if c[index].bitPattern != c0[index].bitPattern {
                    outsideKept = false
                }
            }
        }
        return (error, outsideKept)
    }

    static func randomProblem(_ g: inout Xoshiro256StarStar, transA: Bool, transB: Bool) -> Problem {
        func pick<T>(_ values: [T]) -> T { values[Int(g.next() % UInt64(values.count))] }
        let tiny = g.next() % 2 == 0
        return Problem(
            m: 1 + Int(g.next() % 40), n: 1 + Int(g.next() % 100), k: 1 + Int(g.next() % 50),
            transA: transA, transB: transB,
            alpha: pick([1, 0.5, -2]), beta: pick([0, 1, -0.75]),
            padA: pick([0, 0, 3]), padB: pick([0, 0, 5]), padC: pick([0, 0, 2]),
            blocking: tiny ? tinyBlocking : .standard, threads: pick([1, 2]), rowBias: g.next() % 3 == 0)
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func randomProblemsMatchTheTripleLoop(transposes: (Bool, Bool)) {
        var g = Xoshiro256StarStar(seed: transposes.0 ? (transposes.1 ? 4 : 3) : (transposes.1 ? 2 : 1))
        for round in 0..<30 {
            let p = Self.randomProblem(&g, transA: transposes.0, transB: transposes.1)
            let (error, outsideKept) = Self.run(p, seed: UInt64(100 * round))
            #expect(error <= 1, "\(p.testDescription): error \(error) × tolerance")
            #expect(outsideKept, "\(p.testDescription): wrote outside C")
        }
    }

    /// Shapes at the edges of the standard blocking and of the tile: one past a depth block
    /// (384); rows beyond one item's L2 block (1537 rows at depth 2 still fit: 1 item; 700 × 700
    /// steps: several); a single row, column, step.
    static let edgeProblems: [Problem] = [
        (1, 1, 1), (12, 32, 1), (13, 33, 385), (11, 31, 384), (1537, 3, 2), (2, 4097, 3),
        (5, 1, 700), (1, 1000, 64), (70, 40, 30), (700, 3, 700),
    ].flatMap { m, n, k in
        [(false, false), (true, true)].map { ta, tb in
            Problem(m: m, n: n, k: k, transA: ta, transB: tb, alpha: 1, beta: 0, padA: 1, padB: 0, padC: 3,
                    blocking: .standard, threads: 2)
        }
    }

    @Test(arguments: edgeProblems)
    func blockingEdgesMatchTheTripleLoop(problem: Problem) {
        let (error, outsideKept) = Self.run(problem, seed: 7)
        #expect(error <= 1)
        #expect(outsideKept)
    }

    @Test func itemsSplitRowsAndColumns() {
        // 40 rows (4 panels) × 150 columns (5 panels) × 37 steps (3 depth blocks) under
        // tinyBlocking: 2 row groups of 2 panels, 1 or 2 column groups, B groups of 2 panels
        // and a partial one, a last row panel of 4 rows.
        for (threads, transA) in [(1, false), (2, false), (2, true)] {
            let p = Problem(m: 40, n: 150, k: 37, transA: transA, transB: true, alpha: -2, beta: 1, padA: 0, padB: 2,
                            padC: 1, blocking: Self.tinyBlocking, threads: threads, rowBias: true)
            let (error, outsideKept) = Self.run(p, seed: 11)
            #expect(error <= 1, "\(p.testDescription)")
            #expect(outsideKept)
        }
    }

    @Test func emptyProductsTouchNothingOrOnlyScale() {
        var c: [Float] = [1, 2, 3, 4]
        c.withUnsafeMutableBufferPointer { pc in
            let one: [Float] = [1]
            one.withUnsafeBufferPointer { p in
                // m = 0 or n = 0: nothing to compute, nothing written.
                gemm(transA: false, transB: false, m: 0, n: 2, k: 1, alpha: 1, a: p.baseAddress!, lda: 1,
                     b: p.baseAddress!, ldb: 2, beta: 0, c: pc.baseAddress!, ldc: 2)
                gemm(transA: false, transB: false, m: 2, n: 0, k: 1, alpha: 1, a: p.baseAddress!, lda: 1,
                     b: p.baseAddress!, ldb: 1, beta: 0, c: pc.baseAddress!, ldc: 1)
            }
        }
        #expect(c == [1, 2, 3, 4])
        // alpha = 0: A and B are not read (NaN there must not leak); C = beta·C.
        let nan = [Float](repeating: .nan, count: 4)
        gemm(m: 2, n: 2, k: 2, alpha: 0, a: nan, b: nan, beta: -1, c: &c)
        #expect(c == [-1, -2, -3, -4])
    }

    @Test func rowBiasAloneWhenDepthIsZero() {
        // k = 0: C = beta·C + bias, row by row (beta 0: C not read).
        var c: [Float] = [.nan, .nan, 1, 2]
        let bias: [Float] = [5, -1]
        let none: [Float] = [0]
        for beta: Float in [0, 2] {
            c.withUnsafeMutableBufferPointer { pc in
                none.withUnsafeBufferPointer { p in
                    bias.withUnsafeBufferPointer { pb in
                        gemm(transA: false, m: 2, n: 2, k: 0, alpha: 1, a: p.baseAddress!, lda: 1,
                             b: .matrix(p.baseAddress!, ld: 2, transposed: false), beta: beta,
                             c: pc.baseAddress!, ldc: 2, rowBias: pb.baseAddress!, threads: 1)
                    }
                }
            }
            #expect(c == (beta == 0 ? [5, 5, -1, -1] : [15, 15, -3, -3]))
        }
    }
}
