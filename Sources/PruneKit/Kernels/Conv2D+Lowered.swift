import Foundation

/// Convolution as matrix products: per group, the group's filters (M/g × C/g·kH·kW, read in
/// place) times the im2col matrix (C/g·kH·kW × pixels), whose panels the GEMM packs straight
/// from the images (Im2ColMatrix.swift).
///
/// Images are lowered in blocks wide enough (`minimumColumns`) for the product to fill the
/// micro-kernel's 32-column tiles: a 7×7 output alone would leave a third of them empty. When
/// there are enough (block, group) items, each core takes whole items with a one-thread
/// product (the lowering, the packing and the scatter then all run in parallel, with one join
/// per conv); otherwise the items run one after the other with the product on every core.
extension ConvOperands {
    /// Output pixels per product below which further images join the block.
    static let minimumColumns = 256

    func runLowered() {
        let g = geometry
        let imagesPerBlock = min(g.batch, max(1, (Self.minimumColumns + g.outPlane - 1) / g.outPlane))
        let blocks = (g.batch + imagesPerBlock - 1) / imagesPerBlock
        let items = blocks * g.group
        let cores = KernelThreads.count
        let itemsInParallel = items >= 2 * cores
        parallelFor(items, threads: itemsInParallel ? cores : 1) { item in
            let (block, group) = item.quotientAndRemainder(dividingBy: g.group)
            let images = (block * imagesPerBlock)..<min(g.batch, (block + 1) * imagesPerBlock)
            multiply(images: images, group: group, threads: itemsInParallel ? 1 : cores)
        }
    }

    /// y[images, group's filters] = filters · im2col(x[images, group's channels]) + bias.
    private func multiply(images: Range<Int>, group: Int, threads: Int) {
        let g = geometry
        let width = images.count * g.outPlane
        let filters = weight + group * g.groupFilters * g.depth
        let first = x + (images.lowerBound * g.channels + group * g.groupChannels) * g.inPlane
        let pool = ScratchPool.shared
        var scratch: [ScratchBuffer] = []
        defer { scratch.forEach(pool.give) }
        // A pointwise conv of one image multiplies the image itself; anything else, the im2col
        // matrix of the block, packed panel by panel from the images, or from a zero-bordered
        // copy of them when there is padding: then every tap of an output row is one plain
        // copy (16 floats for a 16-wide image, one vector), with no bounds to work out.
        let columns: GEMMRightOperand
        if g.isPointwise && images.count == 1 {
            columns = .matrix(first, ld: g.inPlane, transposed: false)
        } else if g.h.padBegin + g.h.padEnd + g.w.padBegin + g.w.padEnd > 0 {
            let (h, w) = (g.h.withPaddingStored, g.w.withPaddingStored)
            let plane = h.input * w.input
            let padded = pool.take(images.count * g.groupChannels * plane)
            scratch.append(padded)
            padded.start.update(repeating: 0, count: images.count * g.groupChannels * plane)
            for t in 0..<images.count {
                for c in 0..<g.groupChannels {
                    let src = first + (t * g.channels + c) * g.inPlane
                    let dst = padded.start + (t * g.groupChannels + c) * plane + g.h.padBegin * w.input + g.w.padBegin
                    for r in 0..<g.h.input {
                        copyFloats(from: src + r * g.w.input, to: dst + r * w.input, count: g.w.input)
                    }
                }
            }
            columns = .im2col(Im2ColMatrix(images: padded.start, imageStride: g.groupChannels * plane,
                                           channels: g.groupChannels, h: h, w: w))
        } else {
            columns = .im2col(Im2ColMatrix(images: first, imageStride: g.channels * g.inPlane, channels: g.groupChannels,
                                           h: g.h, w: g.w))
        }
        let filterBias = bias.map { $0 + group * g.groupFilters }
        if images.count == 1 {
            // The product, plus the bias, lands in y directly.
            let out = y + (images.lowerBound * g.filters + group * g.groupFilters) * g.outPlane
            gemm(transA: false, m: g.groupFilters, n: g.outPlane, k: g.depth, alpha: 1, a: filters, lda: g.depth,
                 b: columns, beta: 0, c: out, ldc: g.outPlane, rowBias: filterBias, threads: threads)
            return
        }
        // Several images: the product's rows hold every image's pixels; scatter them to NCHW.
        let product = pool.take(g.groupFilters * width)
        scratch.append(product)
        gemm(transA: false, m: g.groupFilters, n: width, k: g.depth, alpha: 1, a: filters, lda: g.depth,
             b: columns, beta: 0, c: product.start, ldc: width, rowBias: filterBias, threads: threads)
        for (t, n) in images.enumerated() {
            for m in 0..<g.groupFilters {
                (y + (n * g.filters + group * g.groupFilters + m) * g.outPlane)
                    .update(from: product.start + m * width + t * g.outPlane, count: g.outPlane)
            }
        }
    }
}
