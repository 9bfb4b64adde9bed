/// The register-tiled inner product of the SGEMM: a tile of C of up to `GEMMTile.rows` ×
/// `GEMMTile.columns` from 12 rows of A (packed, or in place) and one packed panel of B.
///
/// Each step of k broadcasts one value of A per row and multiplies it with the two vectors of
/// B, so a 12×32 tile keeps 24 accumulators, 2 B vectors and 1 broadcast in 27 of the 32
/// AVX-512 registers. 24 independent FMA chains cover the FMA latency (4 cycles) on both
/// FMA ports; per step, 24 FMAs need only 2 vector loads and 12 broadcasts.
enum GEMMTile {
    /// Rows of C per tile (values of A broadcast per step).
    static let rows = 12
    /// Columns of C per tile: two SIMD16 vectors.
    static let columns = 32
}

/// Two accumulators: one row of a tile.
private struct TileRow {
    var low = FloatVector()
    var high = FloatVector()

    @inline(__always) mutating func add(_ a: Float, _ b0: FloatVector, _ b1: FloatVector) {
        let s = FloatVector(repeating: a)
        low.addProduct(s, b0)
        high.addProduct(s, b1)
    }

    @inline(__always) func scaled(_ alpha: Float) -> TileRow {
        TileRow(low: low * alpha, high: high * alpha)
    }

    @inline(__always) func adding(_ value: Float) -> TileRow {
        TileRow(low: low + value, high: high + value)
    }

    /// c = acc + beta·c over 32 columns; with beta 0, c is not read (it may hold NaN).
    @inline(__always) func store(_ c: UnsafeMutablePointer<Float>, beta: Float) {
        if beta == 0 {
            storeVector(low, c)
            storeVector(high, c + 16)
        } else {
            storeVector(low.addingProduct(beta, loadVector(c)), c)
            storeVector(high.addingProduct(beta, loadVector(c + 16)), c + 16)
        }
    }

    /// The right edge of C: through a buffer, so that no store passes column `columns`.
    @inline(never) func storePartial(_ c: UnsafeMutablePointer<Float>, columns: Int, beta: Float) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: GEMMTile.columns) { buffer in
            let t = buffer.baseAddress!
            storeVector(low, t)
            storeVector(high, t + 16)
            if beta == 0 {
                for j in 0..<columns { c[j] = t[j] }
            } else {
                for j in 0..<columns { c[j] = t[j] + beta * c[j] }
            }
        }
    }
}

/// Where a micro-kernel reads its rows of A: element (row i, step p) is at
/// `start[i * rowStride + p * stepStride]`. A packed panel has strides (1, `GEMMTile.rows`);
/// a row-major A read in place has (lda, 1), which spares packing it at all.
struct APanel {
    let start: UnsafePointer<Float>
    let rowStride: Int
    let stepStride: Int

    static func packed(_ start: UnsafePointer<Float>) -> APanel { APanel(start: start, rowStride: 1, stepStride: GEMMTile.rows) }
}

/// C[0..<rows, 0..<columns] = alpha·A·B + beta·C (+ rowBias[i] on row i, when given), with B
/// packed as k steps of `GEMMTile.columns` values (zero-padded past the matrix edge). `rows` ≤ 12
/// and `columns` ≤ 32 say how much of the tile lies inside C; an A read in place must have all
/// 12 rows.
@inline(never)
func gemmMicroKernel(depth: Int, a: APanel, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                     alpha: Float, beta: Float, rowBias: UnsafePointer<Float>?, rows: Int, columns: Int) {
    let store = TileStore(c: c, ldc: ldc, alpha: alpha, beta: beta, rowBias: rowBias, rows: rows, columns: columns)
    if a.stepStride == 1 {
        tileProduct(InPlaceRows.self, depth, a.start, a.rowStride, b, store)
        return
    }
    // Fewer live rows cost fewer FMAs: an edge tile of 1–4 or 5–8 rows runs a narrower copy.
    switch rows {
    case 9...: tileProduct(PackedRows12.self, depth, a.start, 1, b, store)
    case 5...: tileProduct(PackedRows8.self, depth, a.start, 1, b, store)
    default: tileProduct(PackedRows4.self, depth, a.start, 1, b, store)
    }
}

/// A tile's shape as types, so that each kernel copy is specialized with its live rows and
/// A's step as constants (an unused row folds away; a packed A's addresses become offsets).
private protocol TileShape {
    /// Rows computed: 4, 8 or 12.
    static var live: Int { get }
    /// Distance between A's values of consecutive k steps: 12 when packed, 1 in place.
    static var step: Int { get }
    /// Whether A's rows are `GEMMTile.rows`-interleaved (packed) rather than `rowStride` apart.
    static var packed: Bool { get }
}

private enum PackedRows12: TileShape { static let live = 12, step = GEMMTile.rows, packed = true }
private enum PackedRows8: TileShape { static let live = 8, step = GEMMTile.rows, packed = true }
private enum PackedRows4: TileShape { static let live = 4, step = GEMMTile.rows, packed = true }
private enum InPlaceRows: TileShape { static let live = 12, step = 1, packed = false }

/// Where and how a finished tile goes into C.
private struct TileStore {
    let c: UnsafeMutablePointer<Float>
    let ldc: Int
    let alpha: Float
    let beta: Float
    let rowBias: UnsafePointer<Float>?
    let rows: Int
    let columns: Int

    /// Row `i` of the tile: alpha·acc (+ rowBias[i]) + beta·C.
    @inline(__always) func put(_ i: Int, _ acc: TileRow) {
        var row = alpha == 1 ? acc : acc.scaled(alpha)
        if let rowBias { row = row.adding(rowBias[i]) }
        if columns == GEMMTile.columns {
            row.store(c + i * ldc, beta: beta)
        } else {
            row.storePartial(c + i * ldc, columns: columns, beta: beta)
        }
    }
}

/// The tile loop of one shape.
@inline(never)
private func tileProduct<Shape: TileShape>(_: Shape.Type, _ depth: Int, _ a: UnsafePointer<Float>, _ rowStride: Int,
                                           _ b: UnsafePointer<Float>, _ out: TileStore) {
    let live = Shape.live
    var r0 = TileRow(), r1 = TileRow(), r2 = TileRow(), r3 = TileRow()
    var r4 = TileRow(), r5 = TileRow(), r6 = TileRow(), r7 = TileRow()
    var r8 = TileRow(), r9 = TileRow(), r10 = TileRow(), r11 = TileRow()
    var ap = a
    var bp = b
    let s = Shape.packed ? 1 : rowStride
    for _ in 0..<depth {
        let b0 = loadVector(bp)
        let b1 = loadVector(bp + 16)
        r0.add(ap[0], b0, b1); r1.add(ap[s], b0, b1); r2.add(ap[2 * s], b0, b1); r3.add(ap[3 * s], b0, b1)
        if live > 4 {
            r4.add(ap[4 * s], b0, b1); r5.add(ap[5 * s], b0, b1); r6.add(ap[6 * s], b0, b1); r7.add(ap[7 * s], b0, b1)
        }
        if live > 8 {
            r8.add(ap[8 * s], b0, b1); r9.add(ap[9 * s], b0, b1); r10.add(ap[10 * s], b0, b1); r11.add(ap[11 * s], b0, b1)
        }
        ap += Shape.step
        bp += GEMMTile.columns
    }
    // Rows past `rows` hold zeros from the padding and are never stored. (Plain calls: an
    // epilogue of closures made the compiler keep all 24 accumulators in zeroed stack slots
    // too, 48 stores on entry to every call.)
    let rows = out.rows
    out.put(0, r0)
    if rows > 1 { out.put(1, r1) }; if rows > 2 { out.put(2, r2) }; if rows > 3 { out.put(3, r3) }
    if rows > 4 { out.put(4, r4) }; if rows > 5 { out.put(5, r5) }; if rows > 6 { out.put(6, r6) }
    if rows > 7 { out.put(7, r7) }; if rows > 8 { out.put(8, r8) }; if rows > 9 { out.put(9, r9) }
    if rows > 10 { out.put(10, r10) }; if rows > 11 { out.put(11, r11) }
}
