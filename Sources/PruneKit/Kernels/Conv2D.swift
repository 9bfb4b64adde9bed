/// ONNX Conv attributes for two spatial axes. `pads` is ONNX's order:
/// [top, left, bottom, right] (every axis's begin, then every axis's end).
public struct Conv2DParameters: Sendable, Equatable {
    public var strides: [Int]
    public var pads: [Int]
    public var dilations: [Int]
    public var group: Int
    public var autoPad: AutoPad

    public init(strides: [Int] = [1, 1], pads: [Int] = [0, 0, 0, 0], dilations: [Int] = [1, 1],
                group: Int = 1, autoPad: AutoPad = .notSet) {
        self.strides = strides
        self.pads = pads
        self.dilations = dilations
        self.group = group
        self.autoPad = autoPad
    }
}

/// Convolution of `x` (N×C×H×W) with `weight` (M×C/group×kH×kW) plus optional `bias` (M):
/// per image and group, im2col then one `gemm` of the group's filters with the columns.
/// Grouped and depthwise (group = C, M = C·multiplier) convs take the same path.
public func conv2d(_ x: NDArray<Float>, weight: NDArray<Float>, bias: NDArray<Float>? = nil,
                   _ p: Conv2DParameters = Conv2DParameters()) throws -> NDArray<Float> {
    guard x.rank == 4 else { throw KernelError.shape("Conv input \(x.shape) is not N×C×H×W") }
    guard weight.rank == 4 else { throw KernelError.shape("Conv weight \(weight.shape) is not M×C×kH×kW") }
    try requireCount(p.strides, 2, "strides")
    try requireCount(p.pads, 4, "pads")
    try requireCount(p.dilations, 2, "dilations")
    let (batch, channels) = (x.shape[0], x.shape[1])
    let (filters, groupChannels) = (weight.shape[0], weight.shape[1])
    guard p.group >= 1, channels % p.group == 0, filters % p.group == 0 else {
        throw KernelError.shape("group \(p.group) does not divide input channels \(channels) and filters \(filters)")
    }
    guard groupChannels == channels / p.group else {
        throw KernelError.shape("weight \(weight.shape) expects \(groupChannels) channels per group; input \(x.shape) with group \(p.group) has \(channels / p.group)")
    }
    if let bias, bias.count != filters || bias.rank != 1 {
        throw KernelError.shape("bias \(bias.shape) does not match \(filters) filters")
    }
    let h = try WindowAxis(input: x.shape[2], kernel: weight.shape[2], stride: p.strides[0], dilation: p.dilations[0],
                           padBegin: p.pads[0], padEnd: p.pads[2], autoPad: p.autoPad)
    let w = try WindowAxis(input: x.shape[3], kernel: weight.shape[3], stride: p.strides[1], dilation: p.dilations[1],
                           padBegin: p.pads[1], padEnd: p.pads[3], autoPad: p.autoPad)

    let outPlane = h.output * w.output
    let groupFilters = filters / p.group
    let depth = groupChannels * h.kernel * w.kernel
    var out = [Float](repeating: 0, count: try resultCount([batch, filters, h.output, w.output]))
    guard !out.isEmpty, depth > 0, !x.storage.isEmpty else {
        // Nothing to convolve (no channels, or an empty image under padding): only the bias remains.
        return try NDArray(shape: [batch, filters, h.output, w.output], storage: out).adding(bias: bias)
    }
    if let bias {
        for n in 0..<batch {
            for m in 0..<filters {
                let base = (n * filters + m) * outPlane
                for i in base..<(base + outPlane) { out[i] = bias.storage[m] }
            }
        }
    }
    // A 1×1 kernel with unit stride and no padding reads the image itself as the column matrix.
    let direct = h.kernel == 1 && w.kernel == 1 && h.stride == 1 && w.stride == 1
        && h.padBegin == 0 && w.padBegin == 0 && h.output == h.input && w.output == w.input
    var columns = [Float](repeating: 0, count: direct ? 0 : depth * outPlane)
    let inPlane = h.input * w.input
    x.storage.withUnsafeBufferPointer { xs in
        weight.storage.withUnsafeBufferPointer { ws in
            out.withUnsafeMutableBufferPointer { ys in
                columns.withUnsafeMutableBufferPointer { cols in
                    for n in 0..<batch {
                        for g in 0..<p.group {
                            let image = xs.baseAddress! + (n * channels + g * groupChannels) * inPlane
                            let matrix: UnsafePointer<Float>
                            if direct {
                                matrix = image
                            } else {
                                im2col(image: image, channels: groupChannels, h: h, w: w, columns: cols.baseAddress!)
                                matrix = UnsafePointer(cols.baseAddress!)
                            }
                            gemm(transA: false, transB: false, m: groupFilters, n: outPlane, k: depth,
                                 alpha: 1, a: ws.baseAddress! + g * groupFilters * depth, lda: depth,
                                 b: matrix, ldb: outPlane,
                                 beta: bias == nil ? 0 : 1,
                                 c: ys.baseAddress! + (n * filters + g * groupFilters) * outPlane, ldc: outPlane)
                        }
                    }
                }
            }
        }
    }
    return NDArray(uncheckedShape: [batch, filters, h.output, w.output], storage: out)
}

extension NDArray where Element == Float {
    /// Adds a per-channel bias along axis 1 (nothing when nil).
    func adding(bias: NDArray<Float>?) -> NDArray {
        guard let bias, rank >= 2 else { return self }
        var copy = self
        let channels = shape[1]
        let inner = shape[2...].reduce(1, *)
        for i in copy.storage.indices { copy.storage[i] += bias.storage[(i / inner) % channels] }
        return copy
    }
}
