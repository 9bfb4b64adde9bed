import Foundation

/// Depthwise convolution (each filter reads one input channel) computed directly: as a matrix
/// product it would have a single row of depth kH·kW, all packing and no arithmetic.
///
/// Each input plane is copied once into a zero-bordered buffer, so that every tap of every
/// output row reads inside it without bounds checks; at unit horizontal stride, 16 outputs of
/// a row accumulate their kH·kW taps in one vector register.
extension ConvOperands {
    func runDepthwise() {
        let g = geometry
        let planes = g.batch * g.filters
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let items = min(planes, cores * 8)
        let paddedWidth = g.w.input + g.w.padBegin + g.w.padEnd
        let paddedHeight = g.h.input + g.h.padBegin + g.h.padEnd
        parallelFor(items, threads: cores) { item in
            let pool = ScratchPool.shared
            let padded = pool.take(paddedHeight * paddedWidth)
            defer { pool.give(padded) }
            padded.start.update(repeating: 0, count: paddedHeight * paddedWidth)
            var loaded = -1  // the (image, channel) plane now in `padded`
            for plane in (item * planes / items)..<((item + 1) * planes / items) {
                let (n, filter) = plane.quotientAndRemainder(dividingBy: g.filters)
                let channel = filter / g.groupFilters
                let source = n * g.channels + channel
                if source != loaded {
                    // Only the interior changes from plane to plane; the border stays zero.
                    let src = x + source * g.inPlane
                    for r in 0..<g.h.input {
                        (padded.start + (r + g.h.padBegin) * paddedWidth + g.w.padBegin)
                            .update(from: src + r * g.w.input, count: g.w.input)
                    }
                    loaded = source
                }
                convolvePlane(padded.start, width: paddedWidth, taps: weight + filter * g.h.kernel * g.w.kernel,
                              bias: bias?[filter] ?? 0, into: y + plane * g.outPlane)
            }
        }
    }

    /// One output plane from one zero-bordered input plane.
    private func convolvePlane(_ input: UnsafePointer<Float>, width: Int, taps: UnsafePointer<Float>,
                               bias: Float, into out: UnsafeMutablePointer<Float>) {
        let (h, w) = (geometry.h, geometry.w)
        for oh in 0..<h.output {
            let top = input + oh * h.stride * width
            let row = out + oh * w.output
            var ow = 0
            if w.stride == 1 {
                while ow + 16 <= w.output {
                    var sum = FloatVector(repeating: bias)
                    for ki in 0..<h.kernel {
                        let line = top + ki * h.dilation * width + ow
                        for kj in 0..<w.kernel {
                            sum.addProduct(taps[ki * w.kernel + kj], loadVector(line + kj * w.dilation))
                        }
                    }
                    storeVector(sum, row + ow)
                    ow += 16
                }
            }
            while ow < w.output {
                var sum = bias
                for ki in 0..<h.kernel {
                    let line = top + ki * h.dilation * width + ow * w.stride
                    for kj in 0..<w.kernel { sum += taps[ki * w.kernel + kj] * line[kj * w.dilation] }
                }
                row[ow] = sum
                ow += 1
            }
        }
    }
}
