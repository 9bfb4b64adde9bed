import Foundation

/// The gradient of `softmax(x, axis:coerceTo2D:log:)` from its output `y` and the output's
/// gradient: over each normalized group, dx = y·(dy − Σ dy·y) for softmax and
/// dx = dy − e^y·Σ dy for log-softmax.
public func softmaxBackward(output y: NDArray<Float>, gradOutput dy: NDArray<Float>, axis: Int,
                            coerceTo2D: Bool = false, log: Bool = false) throws -> NDArray<Float> {
    guard dy.shape == y.shape else { throw KernelError.shape("softmax output gradient \(dy.shape) does not match \(y.shape)") }
    let a = axis < 0 ? axis + y.rank : axis
    guard (y.rank == 0 && a == 0) || (a >= 0 && a < y.rank) else {
        throw KernelError.attribute("softmax axis \(axis) out of range for shape \(y.shape)")
    }
    // The same groups as the forward: `length` values `inner` apart, `outer`×`inner` of them.
    let dims = y.rank == 0 ? [1] : y.shape
    let outer = dims[..<a].reduce(1, *)
    let length = coerceTo2D ? dims[a...].reduce(1, *) : dims[a]
    let inner = coerceTo2D ? 1 : dims[(a + 1)...].reduce(1, *)
    var dx = dy.storage
    for o in 0..<outer {
        for i in 0..<inner {
            let base = o * length * inner + i
            var total: Float = 0
            for t in 0..<length {
                let j = base + t * inner
                total += log ? dy.storage[j] : dy.storage[j] * y.storage[j]
            }
            for t in 0..<length {
                let j = base + t * inner
                dx[j] = log ? dy.storage[j] - Foundation.exp(y.storage[j]) * total : y.storage[j] * (dy.storage[j] - total)
            }
        }
    }
    return NDArray(uncheckedShape: y.shape, storage: dx)
}
