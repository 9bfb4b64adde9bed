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
        let plane = h.output * w.output
        var j = columns.lowerBound
        // A panel's columns span one or a few output rows; each row segment is one copy per tap.
        while j < columns.upperBound {
            let (t, pixel) = j.quotientAndRemainder(dividingBy: plane)
            let (oh, ow0) = pixel.quotientAndRemainder(dividingBy: w.output)
            let ow1 = min(w.output, ow0 + columns.upperBound - j)
            packSegment(image: images + t * imageStride, row: oh, outputs: ow0..<ow1, depth: depth, count: count,
                        into: panel + (j - columns.lowerBound))
            j += ow1 - ow0
        }
    }

    /// Output row `row`, columns `outputs`, taps [depth, depth + count), at `dst` (row stride
    /// `GEMMTile.columns`).
    private func packSegment(image: UnsafePointer<Float>, row oh: Int, outputs: Range<Int>, depth: Int, count: Int,
                             into start: UnsafeMutablePointer<Float>) {
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
            var dst = start - outputs.lowerBound  // dst[ow] for ow in outputs
            for _ in 0..<count {
                let ih = h.source(out: oh, tap: ki)
                if ih < 0 || ih >= h.input {
                    for ow in outputs { dst[ow] = 0 }
                } else {
                    let valid = inside[kj]
                    // The input value of output ow is line[ow·s]; `line` may point before the row.
                    let rowStart = (c * h.input + ih) * w.input + kj * w.dilation - w.padBegin
                    for ow in outputs.lowerBound..<valid.lowerBound { dst[ow] = 0 }
                    if w.stride == 1 {
                        for ow in valid { dst[ow] = image[rowStart + ow] }
                    } else {
                        for ow in valid { dst[ow] = image[rowStart + ow * w.stride] }
                    }
                    for ow in valid.upperBound..<outputs.upperBound { dst[ow] = 0 }
                }
                dst += GEMMTile.columns
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
