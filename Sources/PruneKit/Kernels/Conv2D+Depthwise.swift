import Foundation

/// Depthwise convolution (each filter reads one input channel) computed directly: as a matrix
/// product it would have a single row of depth kH·kW, all packing and no arithmetic.
///
/// Each input plane is copied once into a zero-bordered buffer, so that every tap of every
/// output row reads inside it without bounds checks; at unit horizontal stride, 16 outputs of
/// four rows accumulate their kH·kW taps in four vector registers.
extension ConvOperands {
    func runDepthwise() {
        let g = geometry
        let planes = g.batch * g.filters
        let cores = KernelThreads.count
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
                        copyFloats(from: src + r * g.w.input, to: padded.start + (r + g.h.padBegin) * paddedWidth + g.w.padBegin,
                                   count: g.w.input)
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
        var oh = 0
        if w.stride == 1 && w.output >= 16 {
            let count = h.kernel * w.kernel
            withUnsafeTemporaryAllocation(of: FloatVector.self, capacity: count) { tapVectors in
                for t in 0..<count { tapVectors[t] = FloatVector(repeating: taps[t]) }
                let rows = DepthwiseRows(input: input, width: width, taps: tapVectors.baseAddress!, bias: bias,
                                         out: out, h: h, w: w)
                // Four rows at a time: four independent FMA chains, each tap vector loaded once.
                while oh + 4 <= h.output {
                    rows.compute(oh, count: 4)
                    oh += 4
                }
                while oh < h.output {
                    rows.compute(oh, count: 1)
                    oh += 1
                }
            }
            return
        }
        for oh in oh..<h.output {
            let top = input + oh * h.stride * width
            let row = out + oh * w.output
            for ow in 0..<w.output {
                var sum = bias
                for ki in 0..<h.kernel {
                    let line = top + ki * h.dilation * width + ow * w.stride
                    for kj in 0..<w.kernel { sum += taps[ki * w.kernel + kj] * line[kj * w.dilation] }
                }
                row[ow] = sum
            }
        }
    }
}

/// The unit-stride depthwise loop: rows of 16-wide output vectors, the last one overlapping
/// the one before when the width is not a multiple of 16 (it recomputes the same values).
private struct DepthwiseRows {
    let input: UnsafePointer<Float>
    let width: Int
    let taps: UnsafePointer<FloatVector>
    let bias: Float
    let out: UnsafeMutablePointer<Float>
    let h: WindowAxis
    let w: WindowAxis

    @inline(__always) func compute(_ oh: Int, count: Int) {
        var ow = 0
        while ow < w.output {
            let column = min(ow, w.output &- 16)
            if count == 4 {
                var s0 = FloatVector(repeating: bias), s1 = s0, s2 = s0, s3 = s0
                let step = h.stride &* width
                for ki in 0..<h.kernel {
                    let offset: Int = (oh &* h.stride &+ ki &* h.dilation) &* width &+ column
                    let line = input + offset
                    for kj in 0..<w.kernel {
                        let t = taps[ki &* w.kernel &+ kj]
                        let p = line + (kj &* w.dilation)
                        s0.addProduct(t, loadVector(p))
                        s1.addProduct(t, loadVector(p + step))
                        s2.addProduct(t, loadVector(p + (2 &* step)))
                        s3.addProduct(t, loadVector(p + (3 &* step)))
                    }
                }
                let dst = out + (oh &* w.output &+ column)
                storeVector(s0, dst)
                storeVector(s1, dst + w.output)
                storeVector(s2, dst + (2 &* w.output))
                storeVector(s3, dst + (3 &* w.output))
            } else {
                var s0 = FloatVector(repeating: bias)
                for ki in 0..<h.kernel {
                    let offset: Int = (oh &* h.stride &+ ki &* h.dilation) &* width &+ column
                    let line = input + offset
                    for kj in 0..<w.kernel {
                        s0.addProduct(taps[ki &* w.kernel &+ kj], loadVector(line + (kj &* w.dilation)))
                    }
                }
                storeVector(s0, out + (oh &* w.output &+ column))
            }
            ow += 16
        }
    }
}
