import Dispatch
import Foundation

/// Cache blocking of the SGEMM (Goto's scheme, with the roles of A and B swapped because C is
/// row-major and the kernel's vectors run along its rows).
///
/// A pass covers `depth` steps of k for a chunk of rows (up to `rowChunk`) and of columns (up
/// to `columnChunk`). B's panels are packed in one of two ways:
/// - shared: the whole chunk of B is packed first into a buffer all threads read (it lives in
///   the last-level cache); tiles are then computed in work items of row panels × a column
///   range whose packed B fits in half a core's 2 MiB L2 (`itemBytes`), and within an item
///   one A panel (12 × depth, 18 KiB at depth 384) stays in the 48 KiB L1 while the item's B
///   panels stream from L2. For large products, where each packed B panel serves many rows.
/// - per item: when the rows' A block fits in L2 (`inPlaceABytes`), a work item packs its B
///   panels a group at a time (`groupBytes`) into its own buffer, which stays in L2, and runs
///   every row panel over the group, so packed B never goes out to memory and back. For the
///   few-row, many-column products of convolutions (64 filters × 3136 pixels).
struct GEMMBlocking: Sendable {
    /// Largest number of k steps packed at once (k is split into equal blocks up to this).
    var depth = 384
    /// Rows of A per pass (a multiple of `GEMMTile.rows`).
    var rowChunk = 1536
    /// Columns of B per pass (a multiple of `GEMMTile.columns`).
    var columnChunk = 4096
    /// Bytes of packed B one work item reuses from L2.
    var itemBytes = 1 << 20
    /// Largest A block (rows × depth floats, in bytes) for packing B per work item.
    var inPlaceABytes = 1 << 20
    /// Bytes of B panels a work item packs at once when packing per item (a quarter of L2):
    /// then every row panel runs over the group, so that C is written along its rows a
    /// group's width at a time (measured: 116 → 138 GFLOP/s on 576×3136×64, no loss elsewhere).
    var groupBytes = 256 << 10
    /// Multiply-adds below which a second thread costs more than it saves.
    var parallelWork = 1 << 21
    /// Work items per thread in a parallel pass, so a thread slowed by a neighbour on the
    /// shared machine leaves its share to the others.
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
        let rowStep = min(m, blocking.rowChunk)
        let columnStep = min(n, blocking.columnChunk)
        let columnPanels = (columnStep + GEMMTile.columns - 1) / GEMMTile.columns
        let bPerItem = roundUp(m, GEMMTile.rows) * depthStep * MemoryLayout<Float>.size <= blocking.inPlaceABytes
            && (threads == 1 || columnPanels >= threads * blocking.itemsPerThread)
        let pool = ScratchPool.shared
        let aBuffer = pool.take((transA ? roundUp(rowStep, GEMMTile.rows) : GEMMTile.rows) * depthStep)
        let bBuffer = bPerItem ? nil : pool.take(roundUp(columnStep, GEMMTile.columns) * depthStep)
        defer {
            pool.give(aBuffer)
            if let bBuffer { pool.give(bBuffer) }
        }
        for j0 in stride(from: 0, to: n, by: columnStep) {
            for p0 in stride(from: 0, to: k, by: depthStep) {
                for i0 in stride(from: 0, to: m, by: rowStep) {
                    let pass = GEMMPass(
                        operands: self, rows: i0..<min(m, i0 + rowStep), columns: j0..<min(n, j0 + columnStep),
                        depth: p0..<min(k, p0 + depthStep), beta: p0 == 0 ? beta : 1, blocking: blocking,
                        packedA: aBuffer.start, packedB: bBuffer?.start)
                    pass.pack(includingB: bBuffer != nil && i0 == 0, threads: threads)
                    if bBuffer != nil {
                        pass.multiplySharedB(threads: threads)
                    } else {
                        pass.multiplyPackingB(threads: threads)
                    }
                }
            }
        }
    }
}

/// One block of depth for one chunk of rows and columns: pack, then multiply tiles.
private struct GEMMPass: @unchecked Sendable {
    let operands: GEMMOperands
    let rows: Range<Int>
    let columns: Range<Int>
    let depth: Range<Int>
    let beta: Float
    let blocking: GEMMBlocking
    let packedA: UnsafeMutablePointer<Float>
    /// The chunk's packed B, when it is packed for all threads at once.
    let packedB: UnsafeMutablePointer<Float>?

    var rowPanels: Int { (rows.count + GEMMTile.rows - 1) / GEMMTile.rows }
    var columnPanels: Int { (columns.count + GEMMTile.columns - 1) / GEMMTile.columns }

    /// Row panels of A that are packed: all of a transposed A (its rows are strided), else
    /// only a last panel of fewer than 12 rows, which the kernel must not read past.
    var packedRowPanels: Range<Int> {
        if operands.transA { return 0..<rowPanels }
        return rows.count % GEMMTile.rows == 0 ? rowPanels..<rowPanels : (rowPanels - 1)..<rowPanels
    }

    /// Where the kernel reads row panel `rp` of A.
    func aPanel(_ rp: Int) -> APanel {
        let packed = packedRowPanels
        if packed.contains(rp) {
            return .packed(packedA + (rp - packed.lowerBound) * GEMMTile.rows * depth.count)
        }
        let row = rows.lowerBound + rp * GEMMTile.rows
        return APanel(start: operands.a + row * operands.lda + depth.lowerBound, rowStride: operands.lda, stepStride: 1)
    }

    /// Packs A's panels that need it, and B's when this is the first row chunk of its column
    /// chunk (later row chunks reuse them). A task packs a run of consecutive panels.
    func pack(includingB: Bool, threads: Int) {
        let aPanels = packedRowPanels
        let bPanels = includingB ? columnPanels : 0
        let aTasks = min(aPanels.count, threads * blocking.itemsPerThread)
        let bTasks = min(bPanels, threads * blocking.itemsPerThread)
        parallelFor(aTasks + bTasks, threads: threads) { task in
            if task < aTasks {
                for rp in (aPanels.lowerBound + task * aPanels.count / aTasks)..<(aPanels.lowerBound + (task + 1) * aPanels.count / aTasks) {
                    let i = rp * GEMMTile.rows
                    operands.packA(row: rows.lowerBound + i, rows: min(GEMMTile.rows, rows.count - i),
                                   depth: depth.lowerBound, count: depth.count,
                                   into: packedA + (rp - aPanels.lowerBound) * GEMMTile.rows * depth.count)
                }
            } else {
                let t = task - aTasks
                let (q0, q1) = (t * bPanels / bTasks, (t + 1) * bPanels / bTasks)
                let start = columns.lowerBound + q0 * GEMMTile.columns
                operands.packB(columns: start..<min(columns.upperBound, columns.lowerBound + q1 * GEMMTile.columns),
                               depth: depth.lowerBound, count: depth.count,
                               into: packedB! + q0 * GEMMTile.columns * depth.count)
            }
        }
    }

    /// Computes every tile of C in the chunk from the shared packed B, in items of row
    /// panels × column panels.
    func multiplySharedB(threads: Int) {
        let panelBytes = GEMMTile.columns * depth.count * MemoryLayout<Float>.size
        let columnsPerItem = max(1, blocking.itemBytes / panelBytes)
        let columnGroups = (columnPanels + columnsPerItem - 1) / columnsPerItem
        let wanted = threads == 1 ? 1 : threads * blocking.itemsPerThread
        let rowGroups = min(rowPanels, max(1, (wanted + columnGroups - 1) / columnGroups))
        parallelFor(rowGroups * columnGroups, threads: threads) { item in
            let (rg, cg) = item.quotientAndRemainder(dividingBy: columnGroups)
            let rowRange = (rg * rowPanels / rowGroups)..<((rg + 1) * rowPanels / rowGroups)
            let columnRange = (cg * columnPanels / columnGroups)..<((cg + 1) * columnPanels / columnGroups)
            for rp in rowRange {
                for cp in columnRange {
                    tile(rp, cp, b: packedB! + cp * GEMMTile.columns * depth.count)
                }
            }
        }
    }

    /// Computes every tile of C in the chunk, each item packing its own B panels a group at a
    /// time and running all row panels over each group.
    func multiplyPackingB(threads: Int) {
        let panelSize = GEMMTile.columns * depth.count
        let group = max(1, blocking.groupBytes / (panelSize * MemoryLayout<Float>.size))
        let items = threads == 1 ? 1 : min(columnPanels, threads * blocking.itemsPerThread)
        parallelFor(items, threads: threads) { item in
            let pool = ScratchPool.shared
            let buffer = pool.take(panelSize * min(group, columnPanels))
            defer { pool.give(buffer) }
            let last = (item + 1) * columnPanels / items
            for g0 in stride(from: item * columnPanels / items, to: last, by: group) {
                let g1 = min(last, g0 + group)
                let j0 = columns.lowerBound + g0 * GEMMTile.columns
                operands.packB(columns: j0..<min(columns.upperBound, columns.lowerBound + g1 * GEMMTile.columns),
                               depth: depth.lowerBound, count: depth.count, into: buffer.start)
                // Row panels outer: C is written along its rows, a group's width at a time.
                for rp in 0..<rowPanels {
                    for cp in g0..<g1 {
                        tile(rp, cp, b: buffer.start + (cp - g0) * panelSize)
                    }
                }
            }
        }
    }

    /// One micro-kernel call: the tile of row panel `rp` and column panel `cp`.
    @inline(__always) func tile(_ rp: Int, _ cp: Int, b: UnsafePointer<Float>) {
        let i = rp * GEMMTile.rows
        let j = cp * GEMMTile.columns
        gemmMicroKernel(depth: depth.count, a: aPanel(rp), b: b,
                        c: operands.c + (rows.lowerBound + i) * operands.ldc + columns.lowerBound + j,
                        ldc: operands.ldc, alpha: operands.alpha, beta: beta,
                        rowBias: depth.lowerBound == 0 ? operands.rowBias.map { $0 + rows.lowerBound + i } : nil,
                        rows: min(GEMMTile.rows, rows.count - i), columns: min(GEMMTile.columns, columns.count - j))
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

@inline(__always) func roundUp(_ value: Int, _ multiple: Int) -> Int {
    (value + multiple - 1) / multiple * multiple
}
