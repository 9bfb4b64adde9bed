/// Unfolds the receptive fields of `channels` planes (each `h.input`×`w.input`, contiguous,
/// starting at `image`) into a (channels·kh·kw) × (oh·ow) matrix at `columns`, zero where a tap
/// falls in the padding, so that convolution becomes one matrix product.
func im2col(image: UnsafePointer<Float>, channels: Int, h: WindowAxis, w: WindowAxis,
            columns: UnsafeMutablePointer<Float>) {
    let plane = h.input * w.input
    let outPlane = h.output * w.output
    var row = columns
    for c in 0..<channels {
        let src = image + c * plane
        for ki in 0..<h.kernel {
            for kj in 0..<w.kernel {
                // Output columns whose tap kj lands inside the image: iw = ow·s − pad + kj·d ∈ [0, W).
                let shift = kj * w.dilation - w.padBegin
                let first = min(w.output, shift >= 0 ? 0 : (-shift + w.stride - 1) / w.stride)
                let last = min(w.output, w.input - shift <= 0 ? 0 : (w.input - shift + w.stride - 1) / w.stride)
                for oh in 0..<h.output {
                    let dst = row + oh * w.output
                    let ih = h.source(out: oh, tap: ki)
                    guard ih >= 0, ih < h.input else {
                        dst.update(repeating: 0, count: w.output)
                        continue
                    }
                    let line = src + ih * w.input
                    if first > 0 { dst.update(repeating: 0, count: first) }
                    if last > first {
                        for ow in first..<last { dst[ow] = line[ow * w.stride + shift] }
                    }
                    let tail = max(first, last)
                    if tail < w.output { (dst + tail).update(repeating: 0, count: w.output - tail) }
                }
                row += outPlane
            }
        }
    }
}
