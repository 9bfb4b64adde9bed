import Foundation

/// Softmax of `x` along `axis` (negative counts from the end).
///
/// ONNX changed the meaning in opset 13: before, the input is coerced to 2-D
/// [∏ shape[..<axis], ∏ shape[axis...]] and normalized over the whole second factor
/// (`coerceTo2D`); from 13 on, over the single axis.
public func softmax(_ x: NDArray<Float>, axis: Int, coerceTo2D: Bool = false, log: Bool = false) throws -> NDArray<Float> {
    let a = axis < 0 ? axis + x.rank : axis
    guard (x.rank == 0 && a == 0) || (a >= 0 && a < x.rank) else {
        throw KernelError.attribute("softmax axis \(axis) out of range for shape \(x.shape)")
    }
    let dims = x.rank == 0 ? [1] : x.shape
    let outer = dims[..<a].reduce(1, *)
    let length = coerceTo2D ? dims[a...].reduce(1, *) : dims[a]
    let inner = coerceTo2D ? 1 : dims[(a + 1)...].reduce(1, *)
    var out = x.storage
    for o in 0..<outer {
        for i in 0..<inner {
            let base = o * length * inner + i
            var peak = -Float.infinity
            for t in 0..<length { peak = max(peak, out[base + t * inner]) }
            var total: Float = 0
            for t in 0..<length {
                let e = Foundation.exp(out[base + t * inner] - peak)
                out[base + t * inner] = e
                total += e
            }
            for t in 0..<length {
                let j = base + t * inner
                out[j] = log ? Foundation.log(out[j] / total) : out[j] / total
            }
        }
    }
    return NDArray(uncheckedShape: x.shape, storage: out)
}
