/// The operands of one C = alpha·op(A)·B + beta·C (+ rowBias[i] on row i), as raw row-major
/// storage.
///
/// The pointers are shared by the threads of one product; each work item writes its own block
/// of C and packs into its own buffers, which is why sending them is safe.
struct GEMMOperands: @unchecked Sendable {
    let transA: Bool
    let m: Int, n: Int, k: Int
    let alpha: Float
    let a: UnsafePointer<Float>, lda: Int
    let b: GEMMRightOperand
    let beta: Float
    let c: UnsafeMutablePointer<Float>, ldc: Int
    /// Added to each row of C (a conv's bias, one per filter), or nil.
    let rowBias: UnsafePointer<Float>?
}

/// The k×n right-hand matrix: stored (row-major, or transposed: n×k), or the im2col matrix of
/// a convolution, which is never stored: its panels are packed straight from the images.
enum GEMMRightOperand: @unchecked Sendable {
    case matrix(UnsafePointer<Float>, ld: Int, transposed: Bool)
    case im2col(Im2ColMatrix)
}

// Packing copies a block of op(A) or op(B) into the order the micro-kernel reads it: one
// panel per tile of C, k-step after k-step, zero-padded to the full tile width, so that the
// kernel streams both panels with unit stride whatever the transposes and strides were.

extension GEMMOperands {
    /// Rows [row, row + rows) of op(A), depth [depth, depth + count), as one panel of
    /// `count` steps of `GEMMTile.rows` values.
    func packA(row: Int, rows: Int, depth: Int, count: Int, into panel: UnsafeMutablePointer<Float>) {
        let width = GEMMTile.rows
        if transA {
            if rows < width { panel.update(repeating: 0, count: count * width) }
            // op(A)(i, p) = A[p, i]: each step is `rows` contiguous values.
            for p in 0..<count {
                let src = a + (depth + p) * lda + row
                let dst = panel + p * width
                for i in 0..<rows { dst[i] = src[i] }
            }
        } else {
            // op(A)(i, p) = A[i, p]: each lane of the panel (a row of op(A)) is a contiguous row of A.
            packTransposing(a + row * lda + depth, ld: lda, rows: rows, count: count, into: panel, width: width)
        }
    }

    /// Columns `range` of B (starting at a panel boundary), depth [depth, depth + count), as
    /// consecutive panels of `count` steps of `GEMMTile.columns` values.
    func packB(columns range: Range<Int>, depth: Int, count: Int, into panels: UnsafeMutablePointer<Float>) {
        switch b {
        case let .matrix(start, ld, transposed):
            packMatrix(start, ld: ld, transposed: transposed, columns: range, depth: depth, count: count, into: panels)
        case let .im2col(matrix):
            for (q, column) in stride(from: range.lowerBound, to: range.upperBound, by: GEMMTile.columns).enumerated() {
                matrix.packPanel(columns: column..<min(range.upperBound, column + GEMMTile.columns),
                                 depth: depth, count: count, into: panels + q * count * GEMMTile.columns)
            }
        }
    }

    private func packMatrix(_ b: UnsafePointer<Float>, ld ldb: Int, transposed: Bool, columns range: Range<Int>,
                            depth: Int, count: Int, into panels: UnsafeMutablePointer<Float>) {
        let width = GEMMTile.columns
        let panelSize = count * width
        if transposed {
            // op(B)(p, j) = B[j, p]: each column of a panel is a contiguous row of B.
            for (q, column) in stride(from: range.lowerBound, to: range.upperBound, by: width).enumerated() {
                packTransposing(b + column * ldb + depth, ld: ldb, rows: min(width, range.upperBound - column),
                                count: count, into: panels + q * panelSize, width: width)
            }
            return
        }
        // Sixteen rows of B at a time: reads are 16 sequential streams, and each panel receives
        // 2 KiB at once (row by row, the stores of one row would all fall `panelSize` apart,
        // a multiple of 4 KiB: one L1 set).
        let full = range.count / width
        let rest = range.count - full * width
        let rowBlock = 16
        for p0 in stride(from: 0, to: count, by: rowBlock) {
            let rows = p0..<min(count, p0 + rowBlock)
            for q in 0..<full {
                var src = b + (depth + p0) * ldb + range.lowerBound + q * width
                var dst = panels + q * panelSize + p0 * width
                for _ in rows {
                    storeVector(loadVector(src), dst)
                    storeVector(loadVector(src + 16), dst + 16)
                    src += ldb
                    dst += width
                }
            }
            if rest > 0 {
                for p in rows {
                    let src = b + (depth + p) * ldb + range.lowerBound + full * width
                    let dst = panels + full * panelSize + p * width
                    for j in 0..<rest { dst[j] = src[j] }
                    for j in rest..<width { dst[j] = 0 }
                }
            }
        }
    }
}

/// One panel whose lanes are rows of the source: value p of row j (`src[j·ld + p]`, j < `rows`
/// ≤ `width`, p < `count`) goes to `panel[p·width + j]`, and lanes `rows..<width` are zero.
///
/// Blocks of 16 rows × 4 steps are transposed in registers (VectorTranspose.swift). Written
/// value by value instead, each store of a row fell on another cache line, `width` floats after
/// the one before. A depth that is not a multiple of 4 ends with a block that overlaps the one
/// before it and writes the same values again.
private func packTransposing(_ src: UnsafePointer<Float>, ld: Int, rows: Int, count: Int,
                             into panel: UnsafeMutablePointer<Float>, width: Int) {
    guard count >= 4 else {
        for p in 0..<count {
            let dst = panel + p * width
            for j in 0..<rows { dst[j] = src[j * ld + p] }
            for j in rows..<width { dst[j] = 0 }
        }
        return
    }
    // A panel narrower than 16 (A's 12 rows) is stored with overlapping 16-lane steps: each
    // spills zeros into the next step's first lanes, which that step's store overwrites; the
    // last step of a block stores only its `width` lanes, so nothing passes the panel's end.
    let lastLanes = min(width, 16)
    var p0 = 0
    while true {
        let p = min(p0, count - 4)
        for j0 in stride(from: 0, to: width, by: 16) {
            let (s0, s1, s2, s3) = transposed16x4(src + j0 &* ld + p, ld: ld, rows: max(0, min(16, rows - j0)))
            let dst = panel + p &* width + j0
            storeVector(s0, dst)
            storeVector(s1, dst + width)
            storeVector(s2, dst + 2 &* width)
            let last = dst + 3 &* width
            if lastLanes == 16 {
                storeVector(s3, last)
            } else {
                for lane in 0..<lastLanes { last[lane] = s3[lane] }
            }
        }
        if p0 + 4 >= count { break }
        p0 += 4
    }
}
