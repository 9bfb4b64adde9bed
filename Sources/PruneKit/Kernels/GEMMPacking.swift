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
        if rows < width {
            panel.update(repeating: 0, count: count * width)
        }
        if transA {
            // op(A)(i, p) = A[p, i]: each step is `rows` contiguous values.
            for p in 0..<count {
                let src = a + (depth + p) * lda + row
                let dst = panel + p * width
                for i in 0..<rows { dst[i] = src[i] }
            }
        } else {
            // Each row of A is contiguous along k: walk it, writing every `width`-th value.
            for i in 0..<rows {
                let src = a + (row + i) * lda + depth
                var dst = panel + i
                for p in 0..<count { dst.pointee = src[p]; dst += width }
            }
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
                let panel = panels + q * panelSize
                let columns = min(width, range.upperBound - column)
                if columns < width { panel.update(repeating: 0, count: panelSize) }
                for j in 0..<columns {
                    let src = b + (column + j) * ldb + depth
                    var dst = panel + j
                    for p in 0..<count { dst.pointee = src[p]; dst += width }
                }
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
