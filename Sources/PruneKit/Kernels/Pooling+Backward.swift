/// Max pooling's gradient: each output gradient goes to the input element its window's
/// maximum came from. `indices` are `maxPool2d`'s (row-major flat offsets into the input,
/// −1 for a window entirely in the padding, which passes nothing back).
public func maxPoolBackward(gradOutput dy: NDArray<Float>, indices: NDArray<Int64>, inputShape: [Int]) throws -> NDArray<Float> {
    guard indices.shape == dy.shape else {
        throw KernelError.shape("MaxPool indices \(indices.shape) do not match the output gradient \(dy.shape)")
    }
    var dx = [Float](repeating: 0, count: try resultCount(inputShape))
    for (i, g) in zip(indices.storage, dy.storage) where i >= 0 {
        guard i < dx.count else { throw KernelError.shape("MaxPool index \(i) outside the input \(inputShape)") }
        dx[Int(i)] += g
    }
    return NDArray(uncheckedShape: inputShape, storage: dx)
}

/// Average pooling's gradient: each output gradient is spread over its window's taps inside
/// the image, divided by the same divisor as `averagePool2d` (taps inside, or with
/// `countIncludePad` those in the declared padding too).
public func averagePool2dBackward(gradOutput dy: NDArray<Float>, input x: NDArray<Float>, _ p: Pool2DParameters) throws -> NDArray<Float> {
    let (h, w) = try p.axes(x)
    let outShape = [x.shape[0], x.shape[1], h.output, w.output]
    guard dy.shape == outShape else {
        throw KernelError.shape("AveragePool output gradient \(dy.shape) does not match the output \(outShape)")
    }
    let planes = x.shape[0] * x.shape[1]
    let inPlane = h.input * w.input
    var dx = [Float](repeating: 0, count: x.count)
    var o = 0
    for plane in 0..<planes {
        let base = plane * inPlane
        for oh in 0..<h.output {
            for ow in 0..<w.output {
                var inside = 0
                var padded = 0
                for ki in 0..<h.kernel {
                    let ih = h.source(out: oh, tap: ki)
                    guard ih >= -h.padBegin, ih < h.input + h.padEnd else { continue }
                    for kj in 0..<w.kernel {
                        let iw = w.source(out: ow, tap: kj)
                        guard iw >= -w.padBegin, iw < w.input + w.padEnd else { continue }
                        padded += 1
                        if ih >= 0, ih < h.input, iw >= 0, iw < w.input { inside += 1 }
                    }
                }
                let divisor = p.countIncludePad ? padded : inside
                if divisor > 0 {
                    let share = dy.storage[o] / Float(divisor)
                    for ki in 0..<h.kernel {
                        let ih = h.source(out: oh, tap: ki)
                        guard ih >= 0, ih < h.input else { continue }
                        for kj in 0..<w.kernel {
                            let iw = w.source(out: ow, tap: kj)
                            guard iw >= 0, iw < w.input else { continue }
                            dx[base + ih * w.input + iw] += share
                        }
                    }
                }
                o += 1
            }
        }
    }
    return NDArray(uncheckedShape: x.shape, storage: dx)
}

/// GlobalAveragePool / GlobalMaxPool gradient: the mean spreads evenly over each plane, the
/// maximum goes to the first element that attains it (the one `globalPool` reports).
public func globalPoolBackward(gradOutput dy: NDArray<Float>, input x: NDArray<Float>, max useMax: Bool = false) throws -> NDArray<Float> {
    guard x.rank >= 2 else { throw KernelError.shape("global pool input \(x.shape) needs rank ≥ 2") }
    let planes = x.shape[0] * x.shape[1]
    guard dy.count == planes, dy.rank == x.rank, Array(dy.shape.prefix(2)) == Array(x.shape.prefix(2)) else {
        throw KernelError.shape("global pool output gradient \(dy.shape) does not match the input \(x.shape)")
    }
    let size = x.shape[2...].reduce(1, *)
    var dx = [Float](repeating: 0, count: x.count)
    guard size > 0 else { return NDArray(uncheckedShape: x.shape, storage: dx) }
    for plane in 0..<planes {
        let range = (plane * size)..<((plane + 1) * size)
        if useMax {
            let slice = x.storage[range]
            // A NaN plane has no element equal to its max: nothing to route to.
            if let at = slice.max().flatMap({ slice.firstIndex(of: $0) }) { dx[at] = dy.storage[plane] }
        } else {
            let share = dy.storage[plane] / Float(size)
            for i in range { dx[i] = share }
        }
    }
    return NDArray(uncheckedShape: x.shape, storage: dx)
}
