import Foundation

/// The elementwise binary ops with numpy broadcasting (ONNX Add, Sub, Mul, Div, Pow).
public enum BinaryOp: String, Sendable, CaseIterable {
    case add = "Add"
    case sub = "Sub"
    case mul = "Mul"
    case div = "Div"
    case pow = "Pow"
}

/// `a op b` with numpy broadcasting.
public func broadcasting(_ op: BinaryOp, _ a: NDArray<Float>, _ b: NDArray<Float>) throws -> NDArray<Float> {
    switch op {
    case .add: return try broadcastMap(a, b, +)
    case .sub: return try broadcastMap(a, b, -)
    case .mul: return try broadcastMap(a, b, *)
    case .div: return try broadcastMap(a, b, /)
    case .pow: return try broadcastMap(a, b) { Foundation.pow($0, $1) }
    }
}

/// Integer arithmetic for shape computations: wraps like C on overflow, Div truncates toward
/// zero; division by zero and integer Pow throw.
public func broadcasting(_ op: BinaryOp, _ a: NDArray<Int64>, _ b: NDArray<Int64>) throws -> NDArray<Int64> {
    switch op {
    case .add: return try broadcastMap(a, b, &+)
    case .sub: return try broadcastMap(a, b, &-)
    case .mul: return try broadcastMap(a, b, &*)
    case .div:
        guard !b.storage.contains(0) else { throw KernelError.shape("integer division by zero") }
        return try broadcastMap(a, b) { $0.dividedReportingOverflow(by: $1).partialValue }
    case .pow: throw KernelError.unsupported("Pow on integers")
    }
}

/// Applies `f` pairwise over the broadcast of `a` and `b`.
func broadcastMap<T>(_ a: NDArray<T>, _ b: NDArray<T>, _ f: (T, T) -> T) throws -> NDArray<T> {
    if a.shape == b.shape {
        return NDArray(uncheckedShape: a.shape, storage: zip(a.storage, b.storage).map(f))
    }
    guard let shape = broadcastShape(a.shape, b.shape) else {
        throw KernelError.shape("cannot broadcast \(a.shape) with \(b.shape)")
    }
    let walk = StridedRows(shape: shape, strides: [broadcastStrides(a.shape, to: shape), broadcastStrides(b.shape, to: shape)])
    var out = [T]()
    out.reserveCapacity(try resultCount(shape))
    let length = walk.rowLength
    let steps = walk.innerStrides
    let (sa, sb) = (steps[0], steps[1])
    a.storage.withUnsafeBufferPointer { pa in
        b.storage.withUnsafeBufferPointer { pb in
            walk.forEachRow { offsets in
                var (oa, ob) = (offsets[0], offsets[1])
                for _ in 0..<length {
                    out.append(f(pa[oa], pb[ob]))
                    oa += sa
                    ob += sb
                }
            }
        }
    }
    return NDArray(uncheckedShape: shape, storage: out)
}

extension NDArray {
    /// The values repeated to `target`, which the array's shape must broadcast to (ONNX Expand
    /// and Gemm's C input).
    public func broadcast(to target: [Int]) throws -> NDArray {
        guard broadcastShape(shape, target) == target else {
            throw KernelError.shape("cannot broadcast \(shape) to \(target)")
        }
        if shape == target { return self }
        _ = try resultCount(target)
        let values = stridedCopy(storage, base: 0, shape: target, strides: broadcastStrides(shape, to: target))
        return NDArray(uncheckedShape: target, storage: values)
    }
}
