import Dispatch
import Foundation

/// Gradients of `conv2d`: nil for the ones not asked for.
public struct Conv2DGradients: Sendable {
    public var input: NDArray<Float>?
    public var weight: NDArray<Float>?
    /// Per filter: the output gradient summed over batch and space (whether or not the conv has a bias).
    public var bias: NDArray<Float>
}

/// The gradients of `conv2d(x, weight, bias, p)` given `gradOutput`, its output's gradient.
///
/// Per image and group, as in the forward: the weight gradient is dY·colsᵀ with `cols` the
/// im2col of the input (recomputed, not stored), accumulated over the batch; the data
/// gradient is col2im(Wᵀ·dY). Both products go through `gemm`. Groups of one input channel
/// (depthwise) skip the columns and loop over the kernel taps directly, since their
/// products are too thin for a GEMM to pay. Images are shared out among the cores, each
/// with its own weight-gradient partial sum.
public func conv2dBackward(_ x: NDArray<Float>, weight: NDArray<Float>, gradOutput dy: NDArray<Float>,
                           _ p: Conv2DParameters = Conv2DParameters(),
                           inputGradient: Bool = true, weightGradient: Bool = true) throws -> Conv2DGradients {
    let g = try Conv2DGeometry(input: x.shape, weight: weight.shape, p)
    guard dy.shape == g.outputShape else {
        throw KernelError.shape("Conv output gradient \(dy.shape) does not match the output \(g.outputShape)")
    }
    var dx = [Float](repeating: 0, count: inputGradient ? x.count : 0)
    var dw = [Float](repeating: 0, count: weightGradient ? weight.count : 0)
    var db = [Float](repeating: 0, count: g.filters)
    for n in 0..<g.batch {
        for m in 0..<g.filters {
            let base = (n * g.filters + m) * g.outPlane
            db[m] += dy.storage[base..<(base + g.outPlane)].reduce(0, +)
        }
    }
    if g.outPlane > 0, g.depth > 0, !x.storage.isEmpty, inputGradient || weightGradient {
        x.storage.withUnsafeBufferPointer { xs in
            weight.storage.withUnsafeBufferPointer { ws in
                dy.storage.withUnsafeBufferPointer { dys in
                    dx.withUnsafeMutableBufferPointer { dxs in
                        dw.withUnsafeMutableBufferPointer { dws in
                            ConvBackward(g: g, x: xs.baseAddress!, weight: ws.baseAddress!, dy: dys.baseAddress!,
                                         dx: inputGradient ? dxs.baseAddress! : nil,
                                         dw: weightGradient ? dws.baseAddress! : nil).run()
                        }
                    }
                }
            }
        }
    }
    return Conv2DGradients(
        input: inputGradient ? NDArray(uncheckedShape: x.shape, storage: dx) : nil,
        weight: weightGradient ? NDArray(uncheckedShape: weight.shape, storage: dw) : nil,
        bias: NDArray(uncheckedShape: [g.filters], storage: db))
}

/// One backward call over raw buffers. Each image writes only its own part of dX, so images
/// run concurrently; dW is summed per worker and the partial sums added at the end.
struct ConvBackward: @unchecked Sendable {
    /// Multiply-adds below which threads cost more than they save.
    static let parallelWork = 1 << 20

    let g: Conv2DGeometry
    let x: UnsafePointer<Float>
    let weight: UnsafePointer<Float>
    let dy: UnsafePointer<Float>
    let dx: UnsafeMutablePointer<Float>?
    let dw: UnsafeMutablePointer<Float>?

    /// Groups of one input channel and a few filters: too thin for GEMM.
    var depthwise: Bool { g.groupChannels == 1 && g.groupFilters <= 4 }

    /// Floats of per-worker scratch: the column matrix, or the depthwise planes.
    var scratchCount: Int {
        if depthwise { return g.h.stride == 1 && g.w.stride == 1 ? DepthwisePlanes(g).count : 0 }
        return g.direct ? 0 : g.depth * g.outPlane
    }

    func run() {
        let work = g.batch * g.filters * g.outPlane * g.depth
        let workers = work >= Self.parallelWork ? min(g.batch, ProcessInfo.processInfo.activeProcessorCount) : 1
        let weightCount = g.filters * g.depth
        // Worker 0 accumulates into dW itself; the others into zeroed scratch.
        let partials = Scratch(count: dw != nil && workers > 1 ? (workers - 1) * weightCount : 0)
        defer { partials.base.deallocate() }
        let body: @Sendable (Int) -> Void = { worker in
            let target = worker == 0 ? dw : dw.map { _ in partials.base + (worker - 1) * weightCount }
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
            defer { scratch.deallocate() }
            for n in stride(from: worker, to: g.batch, by: workers) {
                for group in 0..<g.group {
                    if depthwise {
                        depthwiseImage(n, group, dw: target, scratch: scratch)
                    } else {
                        image(n, group, dw: target, columns: scratch)
                    }
                }
            }
        }
        if workers > 1 {
            DispatchQueue.concurrentPerform(iterations: workers, execute: body)
        } else {
            body(0)
        }
        if let dw, workers > 1 {
            for w in 0..<(workers - 1) {
                let part = partials.base + w * weightCount
                for i in 0..<weightCount { dw[i] += part[i] }
            }
        }
    }

    /// Zeroed floats shared by the workers, each using its own slice.
    private struct Scratch: @unchecked Sendable {
        let base: UnsafeMutablePointer<Float>
        init(count: Int) {
            base = .allocate(capacity: count)
            base.initialize(repeating: 0, count: count)
        }
    }

    private func image(_ n: Int, _ group: Int, dw target: UnsafeMutablePointer<Float>?, columns: UnsafeMutablePointer<Float>) {
        let (depth, outPlane, direct) = (g.depth, g.outPlane, g.direct)
        let imageOffset = (n * g.channels + group * g.groupChannels) * g.inPlane
        let dyG = dy + (n * g.filters + group * g.groupFilters) * outPlane
        if let target {
            let matrix: UnsafePointer<Float>
            if direct {
                matrix = x + imageOffset
            } else {
                im2col(image: x + imageOffset, channels: g.groupChannels, h: g.h, w: g.w, columns: columns)
                matrix = UnsafePointer(columns)
            }
            gemm(transA: false, transB: true, m: g.groupFilters, n: depth, k: outPlane, alpha: 1, a: dyG, lda: outPlane,
                 b: matrix, ldb: outPlane, beta: 1, c: target + group * g.groupFilters * depth, ldc: depth)
        }
        if let dx {
            // A 1×1 conv's columns are the image itself, so its gradient accumulates in place.
            let image = dx + imageOffset
            gemm(transA: true, transB: false, m: depth, n: outPlane, k: g.groupFilters, alpha: 1,
                 a: weight + group * g.groupFilters * depth, lda: depth, b: dyG, ldb: outPlane,
                 beta: direct ? 1 : 0, c: direct ? image : columns, ldc: outPlane)
            if !direct { col2im(columns: columns, channels: g.groupChannels, h: g.h, w: g.w, image: image) }
        }
    }
}
