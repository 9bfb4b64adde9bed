/// 16×16 blocks of floats transposed in registers, for the GEMM's packing of operands whose
/// rows run along k (a transposed B, a row-major A): read with 16 vector loads and written
/// with 16 vector stores, instead of 256 scalar stores that each land on another cache line.

/// Sixteen vectors as one value, so that a block lives in the 32 zmm registers, not in memory.
typealias VectorBlock16 = (FloatVector, FloatVector, FloatVector, FloatVector, FloatVector, FloatVector,
                           FloatVector, FloatVector, FloatVector, FloatVector, FloatVector, FloatVector,
                           FloatVector, FloatVector, FloatVector, FloatVector)

/// Rows `src`, `src + ld`, … of 16 floats each: `rows` of them (at most 16) read, zeros after.
/// The transpose of such a block holds zeros in lanes `rows...`: the padding a panel needs.
@inline(__always) func loadBlock16(_ src: UnsafePointer<Float>, ld: Int, rows: Int) -> VectorBlock16 {
    @inline(__always) func row(_ j: Int) -> FloatVector { j < rows ? loadVector(src + j * ld) : FloatVector() }
    return (row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7),
            row(8), row(9), row(10), row(11), row(12), row(13), row(14), row(15))
}

/// Vector t to `dst + t·stride`; the last one only its first `lastLanes` values (a stride
/// below 16 makes each store spill into the next row, which the next store overwrites, but the
/// last one must stop at the end of its row).
@inline(__always) func storeBlock16(_ v: VectorBlock16, _ dst: UnsafeMutablePointer<Float>, stride: Int,
                                    lastLanes: Int = 16) {
    storeVector(v.0, dst); storeVector(v.1, dst + stride); storeVector(v.2, dst + 2 * stride)
    storeVector(v.3, dst + 3 * stride); storeVector(v.4, dst + 4 * stride); storeVector(v.5, dst + 5 * stride)
    storeVector(v.6, dst + 6 * stride); storeVector(v.7, dst + 7 * stride); storeVector(v.8, dst + 8 * stride)
    storeVector(v.9, dst + 9 * stride); storeVector(v.10, dst + 10 * stride); storeVector(v.11, dst + 11 * stride)
    storeVector(v.12, dst + 12 * stride); storeVector(v.13, dst + 13 * stride); storeVector(v.14, dst + 14 * stride)
    let last = dst + 15 * stride
    if lastLanes == 16 {
        storeVector(v.15, last)
    } else {
        for lane in 0..<lastLanes { last[lane] = v.15[lane] }
    }
}

/// The transpose: lane j of vector t becomes lane t of vector j.
@inline(__always) func transposed(_ v: VectorBlock16) -> VectorBlock16 {
    perfectShuffle(perfectShuffle(perfectShuffle(perfectShuffle(v))))
}

/// Vectors 2i and 2i + 1 become vectors i and i + 8 interleaved. Addressing the block's 256
/// values by 8 bits, 4 of the vector's index above 4 of the lane, one round rotates the address
/// left by one bit (the vector's top bit becomes the lane's lowest); after four rounds vector
/// and lane bits have swapped places. Each interleave is one two-source permute (vpermt2ps).
@inline(__always) private func perfectShuffle(_ v: VectorBlock16) -> VectorBlock16 {
    (interleaveLow(v.0, v.8), interleaveHigh(v.0, v.8), interleaveLow(v.1, v.9), interleaveHigh(v.1, v.9),
     interleaveLow(v.2, v.10), interleaveHigh(v.2, v.10), interleaveLow(v.3, v.11), interleaveHigh(v.3, v.11),
     interleaveLow(v.4, v.12), interleaveHigh(v.4, v.12), interleaveLow(v.5, v.13), interleaveHigh(v.5, v.13),
     interleaveLow(v.6, v.14), interleaveHigh(v.6, v.14), interleaveLow(v.7, v.15), interleaveHigh(v.7, v.15))
}

/// a0 b0 a1 b1 … a7 b7.
@inline(__always) private func interleaveLow(_ a: FloatVector, _ b: FloatVector) -> FloatVector {
    FloatVector(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
}

/// a8 b8 a9 b9 … a15 b15.
@inline(__always) private func interleaveHigh(_ a: FloatVector, _ b: FloatVector) -> FloatVector {
    FloatVector(a[8], b[8], a[9], b[9], a[10], b[10], a[11], b[11], a[12], b[12], a[13], b[13], a[14], b[14], a[15], b[15])
}
