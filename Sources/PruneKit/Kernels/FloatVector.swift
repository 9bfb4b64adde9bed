/// The kernels' vector: 16 floats, one AVX-512 register (PruneKit is built for x86-64-v4).
typealias FloatVector = SIMD16<Float>

@inline(__always) func loadVector(_ p: UnsafePointer<Float>) -> FloatVector {
    UnsafeRawPointer(p).loadUnaligned(as: FloatVector.self)
}

@inline(__always) func storeVector(_ v: FloatVector, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: FloatVector.self)
}

/// Copies `count` floats between non-overlapping ranges: whole vectors, the last one
/// overlapping the one before when `count` is not a multiple of 16. For the short rows of
/// im2col and depthwise planes, where a memmove call costs as much as the copy.
@inline(__always) func copyFloats(from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
    guard count >= 16 else {
        for i in 0..<count { dst[i] = src[i] }
        return
    }
    var i = 0
    while i &+ 16 <= count {
        storeVector(loadVector(src + i), dst + i)
        i &+= 16
    }
    if i < count {
        storeVector(loadVector(src + (count &- 16)), dst + (count &- 16))
    }
}
