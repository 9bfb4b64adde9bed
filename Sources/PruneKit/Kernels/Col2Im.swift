/// The adjoint of `im2col`: adds each entry of a (channels·kh·kw) × (oh·ow) column matrix
/// back onto the image pixel it was read from (taps in the padding are dropped). Pixels that
/// several windows read receive the sum, which is what the data gradient of a convolution is.
/// `image` is accumulated into, not overwritten.
func col2im(columns: UnsafePointer<Float>, channels: Int, h: WindowAxis, w: WindowAxis,
            image: UnsafeMutablePointer<Float>) {
    let plane = h.input * w.input
    let outPlane = h.output * w.output
    var row = columns
    for c in 0..<channels {
        let dst = image + c * plane
        for ki in 0..<h.kernel {
            for kj in 0..<w.kernel {
                // The same in-image range of output columns as im2col computes.
                let shift = kj * w.dilation - w.padBegin
                let first = min(w.output, shift >= 0 ? 0 : (-shift + w.stride - 1) / w.stride)
                let last = min(w.output, w.input - shift <= 0 ? 0 : (w.input - shift + w.stride - 1) / w.stride)
                if last > first {
                    for oh in 0..<h.output {
                        let ih = h.source(out: oh, tap: ki)
                        guard ih >= 0, ih < h.input else { continue }
                        let src = row + oh * w.output
                        let line = dst + ih * w.input
                        for ow in first..<last { line[ow * w.stride + shift] += src[ow] }
                    }
                }
                row += outPlane
            }
        }
    }
}
