/// The im2col matrix of a block of images, never stored: the GEMM packs its panels straight
/// from the images (a stored column matrix, 9× the input for a 3×3 kernel, would go out to
/// memory and come back for packing).
///
/// The layout is `im2col`'s: row p is the tap p = (c·kH + ki)·kW + kj, column j the output
/// pixel j = (t·oH + oh)·oW + ow of image t; the value is image t's channel c at
/// (oh·sH − padTop + ki·dH, ow·sW − padLeft + kj·dW), zero in the padding.
struct Im2ColMatrix: @unchecked Sendable {
    /// The first image's first channel (of the group).
    let images: UnsafePointer<Float>
    /// Floats from one image to the next.
    let imageStride: Int
    let channels: Int
    let h: WindowAxis
    let w: WindowAxis

    /// Rows [depth, depth + count) × `columns` (at most `GEMMTile.columns`) as one GEMM panel:
    /// `count` steps of `GEMMTile.columns` values, zero past the last column.
    func packPanel(columns: Range<Int>, depth: Int, count: Int, into panel: UnsafeMutablePointer<Float>) {
        if columns.count < GEMMTile.columns {
            panel.update(repeating: 0, count: count * GEMMTile.columns)
        }
        copy(columns: columns, depth: depth, count: count, into: panel, rowStride: GEMMTile.columns)
    }

    /// Rows [depth, depth + count) × `columns` at `dst`, rows `rowStride` apart.
    func copy(columns: Range<Int>, depth: Int, count: Int, into dst: UnsafeMutablePointer<Float>, rowStride: Int) {
        let plane = h.output * w.output
        var j = columns.lowerBound
        // A panel's columns span one or a few output rows; each row segment is one copy per tap.
        while j < columns.upperBound {
            let (t, pixel) = j.quotientAndRemainder(dividingBy: plane)
            let (oh, ow0) = pixel.quotientAndRemainder(dividingBy: w.output)
            let ow1 = min(w.output, ow0 + columns.upperBound - j)
            copySegment(image: images + t * imageStride, row: oh, outputs: ow0..<ow1, depth: depth, count: count,
                        into: dst + (j - columns.lowerBound), rowStride: rowStride)
            j += ow1 - ow0
        }
    }

    /// Output row `row`, columns `outputs`, taps [depth, depth + count), at `start`.
    private func copySegment(image: UnsafePointer<Float>, row oh: Int, outputs: Range<Int>, depth: Int, count: Int,
                             into start: UnsafeMutablePointer<Float>, rowStride: Int) {
        withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: w.kernel) { inside in
            // Per horizontal tap kj, the outputs whose input column ow·s − pad + kj·d is inside the image.
            for kj in 0..<w.kernel {
                let shift = kj * w.dilation - w.padBegin
                let lo = shift >= 0 ? 0 : (-shift + w.stride - 1) / w.stride
                let hi = w.input - shift <= 0 ? 0 : (w.input - shift + w.stride - 1) / w.stride
                let first = min(max(lo, outputs.lowerBound), outputs.upperBound)
                inside[kj] = first..<max(first, min(hi, outputs.upperBound))
            }
            let taps = h.kernel * w.kernel
            var (c, tap) = depth.quotientAndRemainder(dividingBy: taps)
            var (ki, kj) = tap.quotientAndRemainder(dividingBy: w.kernel)
            let first = outputs.lowerBound
            var dst = start  // dst[ow − first] for ow in outputs
            for _ in 0..<count {
                let ih = h.source(out: oh, tap: ki)
                if ih < 0 || ih >= h.input {
                    dst.update(repeating: 0, count: outputs.count)
                } else {
                    let valid = inside[kj]
                    for i in 0..<(valid.lowerBound - first) { dst[i] = 0 }
                    if !valid.isEmpty {
                        // Input column of output ow: ow·s − pad + kj·d, inside the row for ow in `valid`.
                        let src = image + (c * h.input + ih) * w.input + valid.lowerBound * w.stride + kj * w.dilation - w.padBegin
                        let out = dst + (valid.lowerBound - first)
                        if w.stride == 1 {
                            copyFloats(from: src, to: out, count: valid.count)
                        } else {
                            for i in 0..<valid.count { out[i] = src[i &* w.stride] }
                        }
                    }
                    for i in (valid.upperBound - first)..<outputs.count { dst[i] = 0 }
                }
                dst += rowStride
                kj += 1
                if kj == w.kernel {
                    kj = 0
                    ki += 1
                    if ki == h.kernel {
                        ki = 0
                        c += 1
                    }
                }
            }
        }
    }
}
