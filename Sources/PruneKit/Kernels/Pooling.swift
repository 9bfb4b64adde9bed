/// ONNX MaxPool / AveragePool attributes for two spatial axes; `pads` as in `Conv2DParameters`.
public struct Pool2DParameters: Sendable, Equatable {
    public var kernel: [Int]
    public var strides: [Int]
    public var pads: [Int]
    public var dilations: [Int]
    public var ceilMode: Bool
    /// AveragePool: divide by the whole window (padding included) instead of the taps inside the image.
    public var countIncludePad: Bool
    public var autoPad: AutoPad

    public init(kernel: [Int], strides: [Int] = [1, 1], pads: [Int] = [0, 0, 0, 0], dilations: [Int] = [1, 1],
                ceilMode: Bool = false, countIncludePad: Bool = false, autoPad: AutoPad = .notSet) {
        self.kernel = kernel
        self.strides = strides
        self.pads = pads
        self.dilations = dilations
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
        self.autoPad = autoPad
    }

    func axes(_ x: NDArray<Float>) throws -> (h: WindowAxis, w: WindowAxis) {
        guard x.rank == 4 else { throw KernelError.shape("pool input \(x.shape) is not N×C×H×W") }
        try requireCount(kernel, 2, "kernel_shape")
        try requireCount(strides, 2, "strides")
        try requireCount(pads, 4, "pads")
        try requireCount(dilations, 2, "dilations")
        let h = try WindowAxis(input: x.shape[2], kernel: kernel[0], stride: strides[0], dilation: dilations[0],
                               padBegin: pads[0], padEnd: pads[2], autoPad: autoPad, ceilMode: ceilMode)
        let w = try WindowAxis(input: x.shape[3], kernel: kernel[1], stride: strides[1], dilation: dilations[1],
                               padBegin: pads[1], padEnd: pads[3], autoPad: autoPad, ceilMode: ceilMode)
        _ = try resultCount([x.shape[0], x.shape[1], h.output, w.output])
        return (h, w)
    }
}

/// Max over each window (padding never wins). `indices` are ONNX MaxPool's second output:
/// each maximum's flat offset in `x`, row-major, or with H and W swapped when
/// `columnMajorIndices` (storage_order = 1).
public func maxPool2d(_ x: NDArray<Float>, _ p: Pool2DParameters, columnMajorIndices: Bool = false)
    throws -> (values: NDArray<Float>, indices: NDArray<Int64>) {
    let (h, w) = try p.axes(x)
    let planes = x.shape[0] * x.shape[1]
    let inPlane = h.input * w.input
    var values = [Float](repeating: 0, count: planes * h.output * w.output)
    var indices = [Int64](repeating: 0, count: values.count)
    var o = 0
    for plane in 0..<planes {
        let base = plane * inPlane
        for oh in 0..<h.output {
            for ow in 0..<w.output {
                var best = -Float.infinity
                var at = -1
                for ki in 0..<h.kernel {
                    let ih = h.source(out: oh, tap: ki)
                    guard ih >= 0, ih < h.input else { continue }
                    for kj in 0..<w.kernel {
                        let iw = w.source(out: ow, tap: kj)
                        guard iw >= 0, iw < w.input else { continue }
                        let v = x.storage[base + ih * w.input + iw]
                        if v > best || at < 0 {
                            best = v
                            at = columnMajorIndices ? iw * h.input + ih : ih * w.input + iw
                        }
                    }
                }
                values[o] = best
                indices[o] = Int64(at < 0 ? -1 : base + at)
                o += 1
            }
        }
    }
    let shape = [x.shape[0], x.shape[1], h.output, w.output]
    return (NDArray(uncheckedShape: shape, storage: values), NDArray(uncheckedShape: shape, storage: indices))
}

/// Mean over each window. The divisor counts the taps inside the image, or with
/// `countIncludePad` also those in the declared padding (never those past it, which only
/// `ceilMode` can create), as PyTorch does.
public func averagePool2d(_ x: NDArray<Float>, _ p: Pool2DParameters) throws -> NDArray<Float> {
    let (h, w) = try p.axes(x)
    let windows = AverageWindows(h: h, w: w, countIncludePad: p.countIncludePad)
    let planes = x.shape[0] * x.shape[1]
    let inPlane = h.input * w.input
    var values = [Float](repeating: 0, count: planes * windows.count)
    for plane in 0..<planes {
        let base = plane * inPlane
        for o in 0..<windows.count where windows.divisors[o] > 0 {
            var sum: Float = 0
            for offset in windows.taps[o] { sum += x.storage[base + offset] }
            values[plane * windows.count + o] = sum / Float(windows.divisors[o])
        }
    }
    return NDArray(uncheckedShape: [x.shape[0], x.shape[1], h.output, w.output], storage: values)
}

/// The windows of average pooling over one plane, which every plane (and the backward) shares:
/// per output position, the in-image offsets it reads (row-major, in tap order) and its divisor.
struct AverageWindows {
    let taps: [[Int]]
    let divisors: [Int]
    var count: Int { taps.count }

    init(h: WindowAxis, w: WindowAxis, countIncludePad: Bool) {
        var taps: [[Int]] = []
        var divisors: [Int] = []
        taps.reserveCapacity(h.output * w.output)
        for oh in 0..<h.output {
            for ow in 0..<w.output {
                var inside: [Int] = []
                var padded = 0
                for ki in 0..<h.kernel {
                    let ih = h.source(out: oh, tap: ki)
                    guard ih >= -h.padBegin, ih < h.input + h.padEnd else { continue }
                    for kj in 0..<w.kernel {
                        let iw = w.source(out: ow, tap: kj)
                        guard iw >= -w.padBegin, iw < w.input + w.padEnd else { continue }
                        padded += 1
                        if ih >= 0, ih < h.input, iw >= 0, iw < w.input { inside.append(ih * w.input + iw) }
                    }
                }
                taps.append(inside)
                divisors.append(countIncludePad ? padded : inside.count)
            }
        }
        self.taps = taps
        self.divisors = divisors
    }
}

/// GlobalAveragePool / GlobalMaxPool: one value per (n, c) over all spatial axes, which are kept as 1s.
public func globalPool(_ x: NDArray<Float>, max useMax: Bool = false) throws -> NDArray<Float> {
    guard x.rank >= 2 else { throw KernelError.shape("global pool input \(x.shape) needs rank ≥ 2") }
    let planes = x.shape[0] * x.shape[1]
    let size = x.shape[2...].reduce(1, *)
    guard size > 0 || planes == 0 else { throw KernelError.shape("global pool over empty spatial shape \(x.shape)") }
    var values = [Float](repeating: 0, count: planes)
    for plane in 0..<planes {
        let slice = x.storage[(plane * size)..<((plane + 1) * size)]
        if useMax {
            values[plane] = slice.max()!
        } else {
            values[plane] = slice.reduce(0, +) / Float(size)
        }
    }
    return NDArray(uncheckedShape: [x.shape[0], x.shape[1]] + [Int](repeating: 1, count: x.rank - 2), storage: values)
}
