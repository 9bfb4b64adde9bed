import Foundation

extension Tensor {
    /// The tensors joined along `axis` (every other dimension and the dtype must agree),
    /// copying raw bytes, so the parts come out bit-identical.
    public static func concatenating(_ parts: [Tensor], axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "nothing to concatenate")
        let first = parts[0]
        precondition(parts.allSatisfy { p in
            p.dtype == first.dtype && p.rank == first.rank && p.shape.indices.allSatisfy { $0 == axis || p.shape[$0] == first.shape[$0] }
        }, "tensors to concatenate must agree off axis \(axis)")
        let outer = first.shape[..<axis].reduce(1, *)
        var shape = first.shape
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        var out = Data(capacity: outer * parts.reduce(0) { $0 + $1.data.count / max(1, outer) })
        for o in 0..<outer {
            for p in parts {
                let block = p.data.count / max(1, outer)
                let start = p.data.startIndex + o * block
                out.append(p.data[start..<(start + block)])
            }
        }
        return try! Tensor(dtype: first.dtype, shape: shape, data: out)
    }
}
