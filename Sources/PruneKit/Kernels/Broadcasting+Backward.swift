import Foundation

extension NDArray where Element == Float {
    /// The gradient of broadcasting a value of shape `source` to this array's shape: the sum
    /// over every axis the broadcast added or stretched, in the shape of `source`.
    public func summed(toBroadcastSource source: [Int]) throws -> NDArray {
        guard broadcastShape(source, shape) == shape else {
            throw KernelError.shape("\(source) does not broadcast to \(shape)")
        }
        if source == shape { return self }
        let lead = rank - source.count
        let axes = (0..<rank).filter { $0 < lead || (source[$0 - lead] == 1 && shape[$0] != 1) }
        return try reducedSum(axes: axes, keepDims: true).reshaped(uncheckedTo: source)
    }
}

/// Gradients of `broadcasting(op, a, b)` with respect to `a` and `b`, given the output's
/// gradient (each summed back to its operand's shape).
public func broadcastingBackward(_ op: BinaryOp, _ a: NDArray<Float>, _ b: NDArray<Float>,
                                 gradOutput dy: NDArray<Float>) throws -> (a: NDArray<Float>, b: NDArray<Float>) {
    guard let shape = broadcastShape(a.shape, b.shape) else {
        throw KernelError.shape("cannot broadcast \(a.shape) with \(b.shape)")
    }
    guard dy.shape == shape else { throw KernelError.shape("output gradient \(dy.shape) does not match the output \(shape)") }
    let g = dy.storage
    let indices = g.indices
    func operands() throws -> ([Float], [Float]) { (try a.broadcast(to: shape).storage, try b.broadcast(to: shape).storage) }
    let da: [Float], db: [Float]
    switch op {
    case .add:
        (da, db) = (g, g)
    case .sub:
        (da, db) = (g, g.map { -$0 })
    case .mul:
        let (x, y) = try operands()
        da = indices.map { g[$0] * y[$0] }
        db = indices.map { g[$0] * x[$0] }
    case .div:
        let (x, y) = try operands()
        da = indices.map { g[$0] / y[$0] }
        db = indices.map { -g[$0] * x[$0] / (y[$0] * y[$0]) }
    case .pow:
        // d/da = b·a^(b−1); d/db = a^b·ln a, taken as 0 at a = 0 with b ≥ 0 (as PyTorch does).
        let (x, y) = try operands()
        da = indices.map { g[$0] * y[$0] * Foundation.pow(x[$0], y[$0] - 1) }
        db = indices.map { i in x[i] == 0 && y[i] >= 0 ? 0 : g[i] * Foundation.pow(x[i], y[i]) * Foundation.log(x[i]) }
    }
    return (try NDArray(uncheckedShape: shape, storage: da).summed(toBroadcastSource: a.shape),
            try NDArray(uncheckedShape: shape, storage: db).summed(toBroadcastSource: b.shape))
}
