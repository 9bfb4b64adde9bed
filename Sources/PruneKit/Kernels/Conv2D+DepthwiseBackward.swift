/// The backward of depthwise convolutions (one input channel per group), by direct loops
/// over the kernel taps: a GEMM of one channel's nine taps does not pay for itself.
extension ConvBackward {
    func depthwiseImage(_ n: Int, _ group: Int, dw target: UnsafeMutablePointer<Float>?, scratch: UnsafeMutablePointer<Float>) {
        if g.h.stride == 1 && g.w.stride == 1 {
            unitStrideDepthwise(n, group, dw: target, planes: DepthwisePlanes(g), scratch: scratch)
        } else {
            stridedDepthwise(n, group, dw: target)
        }
    }

    /// At unit stride, with the input and its gradient zero-padded to rows of width W′ and the
    /// output gradient widened to W′ (zeros past its last column), output position o reads
    /// input position o + tap offset for every o at once: each tap is one long loop instead of
    /// one short loop per row.
    private func unitStrideDepthwise(_ n: Int, _ group: Int, dw target: UnsafeMutablePointer<Float>?,
                                     planes p: DepthwisePlanes, scratch: UnsafeMutablePointer<Float>) {
        let (h, w) = (g.h, g.w)
        let (input, grad, wide) = (scratch, scratch + p.padded, scratch + 2 * p.padded)
        let plane = x + (n * g.channels + group) * g.inPlane
        input.update(repeating: 0, count: p.padded)
        for r in 0..<h.input {
            (input + (r + h.padBegin) * p.width + w.padBegin).update(from: plane + r * w.input, count: w.input)
        }
        if dx != nil { grad.update(repeating: 0, count: p.padded) }
        let length = h.output * p.width
        for f in (group * g.groupFilters)..<((group + 1) * g.groupFilters) {
            wide.update(repeating: 0, count: length)
            let dyPlane = dy + (n * g.filters + f) * g.outPlane
            for r in 0..<h.output { (wide + r * p.width).update(from: dyPlane + r * w.output, count: w.output) }
            for ki in 0..<h.kernel {
                for kj in 0..<w.kernel {
                    let tap = (f * h.kernel + ki) * w.kernel + kj
                    let offset = ki * h.dilation * p.width + kj * w.dilation
                    if let target { target[tap] += dot(wide, UnsafePointer(input + offset), length) }
                    if dx != nil { addScaled(weight[tap], wide, to: grad + offset, length) }
                }
            }
        }
        if let dx {
            let out = dx + (n * g.channels + group) * g.inPlane
            for r in 0..<h.input {
                let row = grad + (r + h.padBegin) * p.width + w.padBegin
                for c in 0..<w.input { out[r * w.input + c] += row[c] }
            }
        }
    }

    /// Any stride: for each filter, tap and output row, the in-image columns as im2col finds them.
    private func stridedDepthwise(_ n: Int, _ group: Int, dw target: UnsafeMutablePointer<Float>?) {
        let (h, w) = (g.h, g.w)
        let plane = x + (n * g.channels + group) * g.inPlane
        let gradPlane = dx.map { $0 + (n * g.channels + group) * g.inPlane }
        for f in (group * g.groupFilters)..<((group + 1) * g.groupFilters) {
            let dyPlane = dy + (n * g.filters + f) * g.outPlane
            for ki in 0..<h.kernel {
                for kj in 0..<w.kernel {
                    let tap = (f * h.kernel + ki) * w.kernel + kj
                    let shift = kj * w.dilation - w.padBegin
                    let first = min(w.output, shift >= 0 ? 0 : (-shift + w.stride - 1) / w.stride)
                    let last = min(w.output, w.input - shift <= 0 ? 0 : (w.input - shift + w.stride - 1) / w.stride)
                    guard last > first else { continue }
                    let wv = weight[tap]
                    var sum: Float = 0
                    for oh in 0..<h.output {
                        let ih = h.source(out: oh, tap: ki)
                        guard ih >= 0, ih < h.input else { continue }
                        let row = dyPlane + oh * w.output
                        let line = ih * w.input + shift
                        if target != nil {
                            for ow in first..<last { sum += row[ow] * plane[line + ow * w.stride] }
                        }
                        if let gradPlane {
                            for ow in first..<last { gradPlane[line + ow * w.stride] += wv * row[ow] }
                        }
                    }
                    target?[tap] += sum
                }
            }
        }
    }
}

/// Sizes of the unit-stride depthwise scratch: padded input and gradient planes (W′ wide,
/// plus a tail the last taps of the widened rows reach into) and the widened output gradient.
struct DepthwisePlanes {
    let width: Int
    let padded: Int
    let wide: Int
    var count: Int { 2 * padded + wide }

    init(_ g: Conv2DGeometry) {
        width = g.w.input + g.w.padBegin + g.w.padEnd
        padded = (g.h.input + g.h.padBegin + g.h.padEnd) * width + (g.w.kernel - 1) * g.w.dilation
        wide = g.h.output * width
    }
}

/// Σ a[i]·b[i] in eight lanes (a scalar loop's sum cannot be reordered, so would not vectorize).
private func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var lanes = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        lanes += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
        i += 8
    }
    var sum = lanes.sum()
    while i < n {
        sum += a[i] * b[i]
        i += 1
    }
    return sum
}

/// y[i] += s·x[i].
private func addScaled(_ s: Float, _ x: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
        let v = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self) + s * UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: v, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n {
        y[i] += s * x[i]
        i += 1
    }
}
