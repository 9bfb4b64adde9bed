import Dispatch
import Foundation

/// Cache blocking and threads of the SGEMM (Goto's scheme, with the roles of A and B swapped
/// because C is row-major and the kernel's vectors run along its rows).
///
/// C is cut into work items, blocks of row panels × column panels that the threads take one
/// after the other; an item runs over all of k by itself, so a product has no barrier but its
/// end (a thread slowed by another process then only delays its own items). Per block of
/// `depth` steps of k, an item packs its B panels a group at a time (`groupBytes`, a quarter
/// of a core's 2 MiB L2) and runs each of its row panels over the group: one row panel of A
/// (12 × depth, 18 KiB at 384 steps, read in place or packed) stays in the 48 KiB L1 while the
/// group's panels stream from L2, and C is written along its rows. An item's rows are bounded
/// so that their A block (rows × depth) stays in L2 too (`rowBlockBytes`).
///
/// Items split the columns (each column group reads A again) and the rows (each row group packs
/// B again) in the proportion that costs least, and the rows further when an item's A block
/// would not fit in L2. One thread takes the whole width: nothing is read or packed twice.
struct GEMMBlocking: Sendable {
    /// Largest number of k steps packed at once (k is split into equal blocks up to this).
    var depth = 384
    /// Largest A block of one item (rows × depth floats), in bytes: half of L2.
    var rowBlockBytes = 1 << 20
    /// Bytes of B panels an item packs at once. Measured against one panel at a time (which
    /// keeps B in L1 but writes C down its columns): 116 → 138 GFLOP/s on 576×3136×64, no
    /// loss elsewhere.
    var groupBytes = 256 << 10
    /// Multiply-adds below which a second thread costs more than it saves.
    var parallelWork = 1 << 21
    /// Work items per thread, so a thread slowed by a neighbour on the shared machine leaves
    /// its share to the others.
    var itemsPerThread = 4

    /// The sizes above, for this machine's caches (tests shrink them to reach every edge).
    static let standard = GEMMBlocking()
}

extension GEMMOperands {
    /// Runs the whole product on `threads` threads (1: on the caller's only).
    func run(threads requested: Int, blocking: GEMMBlocking = .standard) {
        guard m > 0, n > 0 else { return }
        let work = Double(m) * Double(n) * Double(k)
        let threads = work < Double(blocking.parallelWork) ? 1 : max(1, requested)
        let depthBlocks = (k + blocking.depth - 1) / blocking.depth
        let depthStep = (k + depthBlocks - 1) / depthBlocks
        let rowPanels = (m + GEMMTile.rows - 1) / GEMMTile.rows
        let columnPanels = (n + GEMMTile.columns - 1) / GEMMTile.columns

        // Each column group reads all of A again, each row group packs all of B again: with
        // R × C = W items, C·|A| + R·2|B| is least at C = √(W·2|B| / |A|).
        let panelsInL2 = max(1, blocking.rowBlockBytes / (GEMMTile.rows * depthStep * MemoryLayout<Float>.size))
        let wanted = threads == 1 ? 1 : threads * blocking.itemsPerThread
        let rowGroupsForL2 = (rowPanels + panelsInL2 - 1) / panelsInL2
        let balanced = (Double(wanted) * 2 * Double(n) / Double(m)).squareRoot().rounded()
        let columnGroups = min(columnPanels, wanted, max(1, Int(balanced)))
        let rowGroups = min(rowPanels, max(rowGroupsForL2, (wanted + columnGroups - 1) / columnGroups))

        parallelFor(rowGroups * columnGroups, threads: threads) { item in
            let (rg, cg) = item.quotientAndRemainder(dividingBy: columnGroups)
            let (r0, r1) = (rg * rowPanels / rowGroups, (rg + 1) * rowPanels / rowGroups)
            let (c0, c1) = (cg * columnPanels / columnGroups, (cg + 1) * columnPanels / columnGroups)
            GEMMBlock(operands: self, blocking: blocking, depthStep: depthStep,
                      rows: (r0 * GEMMTile.rows)..<min(m, r1 * GEMMTile.rows),
                      columns: (c0 * GEMMTile.columns)..<min(n, c1 * GEMMTile.columns))
                .compute()
        }
    }
}

/// One work item: a block of C over all of k.
private struct GEMMBlock {
    let operands: GEMMOperands
    let blocking: GEMMBlocking
    let depthStep: Int
    let rows: Range<Int>
    let columns: Range<Int>

    var rowPanels: Int { (rows.count + GEMMTile.rows - 1) / GEMMTile.rows }
    var columnPanels: Int { (columns.count + GEMMTile.columns - 1) / GEMMTile.columns }

    /// Row panels of A that are packed: all of a transposed A (its rows are strided), else
    /// only a last panel of fewer than 12 rows, which the kernel must not read past.
    var packedRowPanels: Range<Int> {
        if operands.transA { return 0..<rowPanels }
        return rows.count % GEMMTile.rows == 0 ? rowPanels..<rowPanels : (rowPanels - 1)..<rowPanels
    }

    func compute() {
        let pool = ScratchPool.shared
        let panelSize = GEMMTile.columns * depthStep
        let group = max(1, min(columnPanels, blocking.groupBytes / (panelSize * MemoryLayout<Float>.size)))
        let packedA = packedRowPanels
        let aBuffer = pool.take(max(1, packedA.count) * GEMMTile.rows * depthStep)
        let bBuffer = pool.take(group * panelSize)
        defer {
            pool.give(aBuffer)
            pool.give(bBuffer)
        }
        for p0 in stride(from: 0, to: operands.k, by: depthStep) {
            let depth = p0..<min(operands.k, p0 + depthStep)
            for rp in packedA {
                let i = rp * GEMMTile.rows
                operands.packA(row: rows.lowerBound + i, rows: min(GEMMTile.rows, rows.count - i),
                               depth: depth.lowerBound, count: depth.count,
                               into: aBuffer.start + (rp - packedA.lowerBound) * GEMMTile.rows * depth.count)
            }
            // The first depth block overwrites C (beta) and adds the bias; the others accumulate.
            let first = p0 == 0
            for g0 in stride(from: 0, to: columnPanels, by: group) {
                let g1 = min(columnPanels, g0 + group)
                let j0 = columns.lowerBound + g0 * GEMMTile.columns
                operands.packB(columns: j0..<min(columns.upperBound, columns.lowerBound + g1 * GEMMTile.columns),
                               depth: depth.lowerBound, count: depth.count, into: bBuffer.start)
                for rp in 0..<rowPanels {
                    let i = rp * GEMMTile.rows
                    let a = packedA.contains(rp)
                        ? APanel.packed(aBuffer.start + (rp - packedA.lowerBound) * GEMMTile.rows * depth.count)
                        : APanel(start: operands.a + (rows.lowerBound + i) * operands.lda + depth.lowerBound,
                                 rowStride: operands.lda, stepStride: 1)
                    for cp in g0..<g1 {
                        let j = cp * GEMMTile.columns
                        gemmMicroKernel(
                            depth: depth.count, a: a, b: bBuffer.start + (cp - g0) * depth.count * GEMMTile.columns,
                            c: operands.c + (rows.lowerBound + i) * operands.ldc + columns.lowerBound + j, ldc: operands.ldc,
                            alpha: operands.alpha, beta: first ? operands.beta : 1,
                            rowBias: first ? operands.rowBias.map { $0 + rows.lowerBound + i } : nil,
                            rows: min(GEMMTile.rows, rows.count - i), columns: min(GEMMTile.columns, columns.count - j))
                    }
                }
            }
        }
    }
}

/// Runs `body(0..<count)` on up to `threads` threads; serially when one is enough. Each
/// thread takes the next item when done with one, so a thread slowed by another process
/// leaves its share to the others.
func parallelFor(_ count: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
    if threads <= 1 || count <= 1 {
        for i in 0..<count { body(i) }
        return
    }
    let next = ItemCounter()
    DispatchQueue.concurrentPerform(iterations: min(threads, count)) { _ in
        while let i = next.take(below: count) { body(i) }
    }
}

/// The next unclaimed item of a `parallelFor` (items take microseconds at least; a lock is
/// cheap beside them).
private final class ItemCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func take(below count: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < count else { return nil }
        value += 1
        return value - 1
    }
}
