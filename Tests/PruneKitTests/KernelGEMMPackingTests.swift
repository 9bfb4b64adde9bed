import Testing
@testable import PruneKit

/// The GEMM's packed panels against their definition, value for value (packing only moves
/// floats, so every bit must match): a transposed B and a row-major A, whose rows run along k
/// and are transposed in blocks of 16 rows × 4 steps, at depths below, at and between whole
/// blocks (1, 3, 4, 6, 15, 17, …), panels narrower than the tile, a range that starts past
/// column 0, leading dimensions larger than the rows, and a guard after the panels that no
/// store may reach.
@Suite struct KernelGEMMPackingTests {
    /// Values of the guard region after the panels, and of the panels before packing.
    static let sentinel = Float(bitPattern: 0x7FC0_1234)

    /// Seeded values with, every 7th, a bit pattern that any arithmetic or float conversion on
    /// the way would change or that compares equal to another: NaNs with payloads (one
    /// signalling), −0, a denormal, infinities.
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        let special: [UInt32] = [0x7FA0_0001, 0xFFC0_0F00, 0x8000_0000, 0x0000_0001, 0x7F80_0000, 0xFF80_0000]
        var v = KernelFixtures.values(count, seed: seed)
        for i in stride(from: 3, to: count, by: 7) { v[i] = Float(bitPattern: special[(i / 7) % special.count]) }
        return v
    }

    /// `count` floats written by `pack` into a buffer with a guard of 32 floats after them;
    /// nil when the guard was touched.
    static func packed(_ count: Int, _ pack: (UnsafeMutablePointer<Float>) -> Void) -> [Float]? {
        var buffer = [Float](repeating: sentinel, count: count + 32)
        buffer.withUnsafeMutableBufferPointer { pack($0.baseAddress!) }
        let guardKept = buffer[count...].allSatisfy { $0.bitPattern == sentinel.bitPattern }
        return guardKept ? Array(buffer[..<count]) : nil
    }

    static func operands(transA: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                         b: UnsafePointer<Float>, ldb: Int, transB: Bool) -> GEMMOperands {
        GEMMOperands(transA: transA, m: m, n: n, k: k, alpha: 1, a: a, lda: lda,
                     b: .matrix(b, ld: ldb, transposed: transB), beta: 0,
                     c: UnsafeMutablePointer(mutating: a), ldc: 1, rowBias: nil)
    }

    /// (columns of op(B) = rows of B, first column, depth offset, steps, extra floats per row of B)
    static let transposedB: [(Int, Int, Int, Int, Int)] = [
        (77, 0, 0, 40, 0), (77, 32, 3, 17, 5), (13, 0, 0, 16, 0), (45, 32, 1, 15, 2), (5, 0, 2, 1, 0),
        (64, 0, 0, 33, 7), (96, 64, 9, 31, 0), (33, 0, 0, 384, 1), (40, 0, 0, 3, 0), (50, 0, 1, 4, 1),
        (31, 0, 0, 6, 0),
    ]

    @Test(arguments: transposedB)
    func transposedBPanelsMatchTheDefinition(shape: (Int, Int, Int, Int, Int)) throws {
        let (n, first, depth, count, pad) = shape
        let k = depth + count
        let ldb = k + pad
        let b = Self.values(n * ldb, seed: UInt64(n * 1000 + count))
        let width = GEMMTile.columns
        let panelCount = (n - first + width - 1) / width
        let got = try #require(Self.packed(panelCount * count * width) { panels in
            b.withUnsafeBufferPointer { pb in
                Self.operands(transA: false, m: 1, n: n, k: k, a: pb.baseAddress!, lda: k, b: pb.baseAddress!,
                              ldb: ldb, transB: true)
                    .packB(columns: first..<n, depth: depth, count: count, into: panels)
            }
        }, "a store passed the last panel")
        for index in got.indices {
            let (q, rest) = index.quotientAndRemainder(dividingBy: count * width)
            let (p, lane) = rest.quotientAndRemainder(dividingBy: width)
            let j = first + q * width + lane
            let expected: Float = j < n ? b[j * ldb + depth + p] : 0
            #expect(got[index].bitPattern == expected.bitPattern, "panel \(q) step \(p) lane \(lane)")
        }
    }

    /// (rows of the panel, first row, depth offset, steps, extra floats per row of A)
    static let rowMajorA: [(Int, Int, Int, Int, Int)] = [
        (4, 24, 0, 40, 0), (11, 0, 3, 17, 5), (12, 12, 0, 16, 0), (1, 0, 1, 15, 2), (7, 5, 0, 1, 0),
        (9, 0, 2, 384, 3), (12, 0, 0, 33, 0), (10, 0, 0, 3, 0), (5, 0, 1, 4, 2), (11, 0, 0, 6, 0),
    ]

    @Test(arguments: rowMajorA)
    func rowMajorAPanelsMatchTheDefinition(shape: (Int, Int, Int, Int, Int)) throws {
        let (rows, first, depth, count, pad) = shape
        let (m, k) = (first + rows, depth + count)
        let lda = k + pad
        let a = Self.values(m * lda, seed: UInt64(rows * 1000 + count))
        let width = GEMMTile.rows
        let got = try #require(Self.packed(count * width) { panel in
            a.withUnsafeBufferPointer { pa in
                Self.operands(transA: false, m: m, n: 1, k: k, a: pa.baseAddress!, lda: lda, b: pa.baseAddress!,
                              ldb: 1, transB: false)
                    .packA(row: first, rows: rows, depth: depth, count: count, into: panel)
            }
        }, "a store passed the end of the panel")
        for index in got.indices {
            let (p, lane) = index.quotientAndRemainder(dividingBy: width)
            let expected: Float = lane < rows ? a[(first + lane) * lda + depth + p] : 0
            #expect(got[index].bitPattern == expected.bitPattern, "step \(p) lane \(lane)")
        }
    }
}
