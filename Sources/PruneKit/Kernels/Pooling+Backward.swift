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
    let windows = AverageWindows(h: h, w: w, countIncludePad: p.countIncludePad)
    let planes = x.shape[0] * x.shape[1]
    let inPlane = h.input * w.input
    var dx = [Float](repeating: 0, count: x.count)
    for plane in 0..<planes {
        let base = plane * inPlane
        for o in 0..<windows.count where windows.divisors[o] > 0 {
            let share = dy.storage[plane * windows.count + o] / Float(windows.divisors[o])
            for offset in windows.taps[o] { dx[base + offset] += share }
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
