import Foundation

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

/// Convolution of `x` (N×C×H×W) with `weight` (M×C/group×kH×kW) plus optional `bias` (M).
/// Depthwise convs (one input channel per filter) run a direct kernel (Conv2D+Depthwise.swift);
/// all others, grouped included, become matrix products (Conv2D+Lowered.swift).
public func conv2d(_ x: NDArray<Float>, weight: NDArray<Float>, bias: NDArray<Float>? = nil,
                   _ p: Conv2DParameters = Conv2DParameters()) throws -> NDArray<Float> {
    let g = try ConvGeometry(input: x.shape, weight: weight.shape, bias: bias?.shape, p)
    let shape = [g.batch, g.filters, g.h.output, g.w.output]
    let count = try resultCount(shape)
    guard count > 0, g.depth > 0, !x.storage.isEmpty else {
        // Nothing to convolve (no channels, or an empty image under padding): only the bias remains.
        return try NDArray(shape: shape, storage: [Float](repeating: 0, count: count)).adding(bias: bias)
    }
    // Not zeroed first: every path writes every output value (8 MB of memset saved on a
    // 64×128×16×16 result).
    var out = [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    x.storage.withUnsafeBufferPointer { xs in
        weight.storage.withUnsafeBufferPointer { ws in
            (bias?.storage ?? []).withUnsafeBufferPointer { bs in
                out.withUnsafeMutableBufferPointer { ys in
                    let conv = ConvOperands(geometry: g, x: xs.baseAddress!, weight: ws.baseAddress!,
                                            bias: bias == nil ? nil : bs.baseAddress!, y: ys.baseAddress!)
                    if g.isDepthwise { conv.runDepthwise() } else { conv.runLowered() }
                }
            }
        }
    }
    return NDArray(uncheckedShape: shape, storage: out)
}

/// The sizes of one convolution, checked.
struct ConvGeometry: Sendable {
    let batch: Int, channels: Int, filters: Int, group: Int
    let h: WindowAxis, w: WindowAxis

    init(input: [Int], weight: [Int], bias: [Int]?, _ p: Conv2DParameters) throws {
        guard input.count == 4 else { throw KernelError.shape("Conv input \(input) is not N×C×H×W") }
        guard weight.count == 4 else { throw KernelError.shape("Conv weight \(weight) is not M×C×kH×kW") }
        try requireCount(p.strides, 2, "strides")
        try requireCount(p.pads, 4, "pads")
        try requireCount(p.dilations, 2, "dilations")
        (batch, channels, filters, group) = (input[0], input[1], weight[0], p.group)
        guard group >= 1, channels % group == 0, filters % group == 0 else {
            throw KernelError.shape("group \(group) does not divide input channels \(channels) and filters \(filters)")
        }
        guard weight[1] == channels / group else {
            throw KernelError.shape("weight \(weight) expects \(weight[1]) channels per group; input \(input) with group \(group) has \(channels / group)")
        }
        if let bias, bias != [filters] {
            throw KernelError.shape("bias \(bias) does not match \(filters) filters")
        }
        h = try WindowAxis(input: input[2], kernel: weight[2], stride: p.strides[0], dilation: p.dilations[0],
                           padBegin: p.pads[0], padEnd: p.pads[2], autoPad: p.autoPad)
        w = try WindowAxis(input: input[3], kernel: weight[3], stride: p.strides[1], dilation: p.dilations[1],
                           padBegin: p.pads[1], padEnd: p.pads[3], autoPad: p.autoPad)
    }

    var groupChannels: Int { channels / group }
    var groupFilters: Int { filters / group }
    /// Taps per output value: the inner dimension of the matrix product.
    var depth: Int { groupChannels * h.kernel * w.kernel }
    var inPlane: Int { h.input * w.input }
    var outPlane: Int { h.output * w.output }
    /// Each filter sees one input channel (group = C, M = C·multiplier).
    var isDepthwise: Bool { groupChannels == 1 && group > 1 }
    /// A 1×1 kernel with unit stride and no padding: the image itself is the column matrix.
    var isPointwise: Bool {
        h.kernel == 1 && w.kernel == 1 && h.stride == 1 && w.stride == 1
            && h.padBegin == 0 && w.padBegin == 0 && h.output == h.input && w.output == w.input
    }
}

/// One convolution's storage: x, weight, bias (or nil), y, all NCHW / MCkk and contiguous.
/// Work items write disjoint planes of y, which is why sharing the pointers is safe.
struct ConvOperands: @unchecked Sendable {
    let geometry: ConvGeometry
    let x: UnsafePointer<Float>
    let weight: UnsafePointer<Float>
    let bias: UnsafePointer<Float>?
    let y: UnsafeMutablePointer<Float>
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
