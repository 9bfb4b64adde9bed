/// Blocks of 16 rows × 4 columns transposed into 4 vectors of 16, for the GEMM's packing of
/// operands whose rows run along k (a transposed B, a row-major A): per block 16 loads of 4
/// floats, 12 lane inserts, 8 in-lane shuffles and 4 vector stores, instead of 64 scalar
/// stores that each land on another cache line.
///
/// Why 4 columns and not a 16×16 block: the loads themselves put row j's 4 values into 128-bit
/// lane j / 4 of vector j % 4 (a 4-float load inserted into a lane is one instruction), so one
/// 4×4 transpose inside each lane finishes the job, with 8 live vectors. A 16×16 transpose
/// written with SIMD16's element-wise initializers was merged by LLVM across its four shuffle
/// rounds into chains of up to 15 two-source permutes per output vector, with spills, and
/// packed blocks in L1 hardly faster than scalar code; this form compiles to the loads,
/// inserts and in-lane unpacks it names.

/// Four floats from `p` (any alignment).
@inline(__always) private func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
}

/// The vector whose 128-bit lanes are `a`, `b`, `c`, `d`.
@inline(__always) private func lanes(_ a: SIMD4<Float>, _ b: SIMD4<Float>, _ c: SIMD4<Float>,
                                     _ d: SIMD4<Float>) -> FloatVector {
    unsafeBitCast((a, b, c, d), to: FloatVector.self)
}

/// Rows j < `rows` (at most 16) of 4 floats, row j at `src + j·ld`, transposed: lane j of
/// vector t is `src[j·ld + t]`, zero for j ≥ `rows` (the padding a panel needs).
@inline(__always) func transposed16x4(_ src: UnsafePointer<Float>, ld: Int, rows: Int)
    -> (FloatVector, FloatVector, FloatVector, FloatVector) {
    // x_i holds rows i, 4 + i, 8 + i, 12 + i in its lanes 0...3.
    let x0, x1, x2, x3: FloatVector
    if rows >= 16 {
        @inline(__always) func row(_ j: Int) -> SIMD4<Float> { load4(src + j &* ld) }
        x0 = lanes(row(0), row(4), row(8), row(12)); x1 = lanes(row(1), row(5), row(9), row(13))
        x2 = lanes(row(2), row(6), row(10), row(14)); x3 = lanes(row(3), row(7), row(11), row(15))
    } else {
        @inline(__always) func row(_ j: Int) -> SIMD4<Float> { j < rows ? load4(src + j &* ld) : SIMD4() }
        x0 = lanes(row(0), row(4), row(8), row(12)); x1 = lanes(row(1), row(5), row(9), row(13))
        x2 = lanes(row(2), row(6), row(10), row(14)); x3 = lanes(row(3), row(7), row(11), row(15))
    }
    // The 4×4 transpose in each lane: interleave singles of row pairs, then pairs of those.
    let t0 = interleaveLowSingles(x0, x1), t1 = interleaveHighSingles(x0, x1)
    let t2 = interleaveLowSingles(x2, x3), t3 = interleaveHighSingles(x2, x3)
    return (interleaveLowPairs(t0, t2), interleaveHighPairs(t0, t2),
            interleaveLowPairs(t1, t3), interleaveHighPairs(t1, t3))
}

/// In each 128-bit lane: a0 b0 a1 b1 (vunpcklps).
@inline(__always) private func interleaveLowSingles(_ a: FloatVector, _ b: FloatVector) -> FloatVector {
    FloatVector(a[0], b[0], a[1], b[1], a[4], b[4], a[5], b[5], a[8], b[8], a[9], b[9], a[12], b[12], a[13], b[13])
}

/// In each 128-bit lane: a2 b2 a3 b3 (vunpckhps).
@inline(__always) private func interleaveHighSingles(_ a: FloatVector, _ b: FloatVector) -> FloatVector {
    FloatVector(a[2], b[2], a[3], b[3], a[6], b[6], a[7], b[7], a[10], b[10], a[11], b[11], a[14], b[14], a[15], b[15])
}

/// In each 128-bit lane: the first pair of `a`, then of `b` (vunpcklpd: pairs as doubles).
@inline(__always) private func interleaveLowPairs(_ x: FloatVector, _ y: FloatVector) -> FloatVector {
    let a = unsafeBitCast(x, to: SIMD8<Double>.self), b = unsafeBitCast(y, to: SIMD8<Double>.self)
    return unsafeBitCast(SIMD8<Double>(a[0], b[0], a[2], b[2], a[4], b[4], a[6], b[6]), to: FloatVector.self)
}

/// In each 128-bit lane: the second pair of `a`, then of `b` (vunpckhpd).
@inline(__always) private func interleaveHighPairs(_ x: FloatVector, _ y: FloatVector) -> FloatVector {
    let a = unsafeBitCast(x, to: SIMD8<Double>.self), b = unsafeBitCast(y, to: SIMD8<Double>.self)
    return unsafeBitCast(SIMD8<Double>(a[1], b[1], a[3], b[3], a[5], b[5], a[7], b[7]), to: FloatVector.self)
}
