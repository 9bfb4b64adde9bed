/// Ops that only change how the same values are indexed: Reshape, Flatten, Squeeze,
/// Unsqueeze, Transpose. Generic, so shape tensors (Int64) go through them as well.
extension NDArray {
    /// Normalizes `axis` against `rank` (negative counts from the end), or throws.
    static func resolveAxis(_ axis: Int, rank: Int, name: String = "axis") throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a < rank else { throw KernelError.attribute("\(name) \(axis) out of range for rank \(rank)") }
        return a
    }

    /// ONNX Reshape: a 0 copies the input's dimension at that index (unless `allowZero`, where
    /// it means an empty dimension), a single −1 is inferred from the element count.
    public func reshaped(to spec: [Int], allowZero: Bool = false) throws -> NDArray {
        var out = spec
        var inferred: Int?
        for (i, d) in spec.enumerated() {
            switch d {
            case -1:
                guard inferred == nil else { throw KernelError.shape("Reshape to \(spec) has more than one -1") }
                inferred = i
            case 0 where !allowZero:
                guard i < shape.count else { throw KernelError.shape("Reshape to \(spec): 0 at index \(i) copies no input dimension of \(shape)") }
                out[i] = shape[i]
            case ..<0:
                throw KernelError.shape("Reshape to \(spec): invalid dimension \(d)")
            default:
                break
            }
        }
        if let i = inferred {
            if allowZero, spec.contains(0) { throw KernelError.shape("Reshape to \(spec): -1 with allowzero and a 0") }
            let known = out.enumerated().filter { $0.offset != i }.map(\.element)
            guard let rest = Tensor.elementCount(known), rest > 0, count % rest == 0 else {
                throw KernelError.shape("cannot reshape \(shape) (\(count) values) to \(spec)")
            }
            out[i] = count / rest
        }
        guard Tensor.elementCount(out) == count else {
            throw KernelError.shape("cannot reshape \(shape) (\(count) values) to \(out)")
        }
        return reshaped(uncheckedTo: out)
    }

    /// ONNX Flatten: [∏ shape[..<axis], ∏ shape[axis...]]; `axis` in −rank...rank.
    public func flattened(axis: Int = 1) throws -> NDArray {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a <= rank else { throw KernelError.attribute("Flatten axis \(axis) out of range for shape \(shape)") }
        return reshaped(uncheckedTo: [shape[..<a].reduce(1, *), shape[a...].reduce(1, *)])
    }

    /// Removes the listed axes (each must be 1), or every 1 when `axes` is nil.
    public func squeezed(axes: [Int]? = nil) throws -> NDArray {
        guard let axes else { return reshaped(uncheckedTo: shape.filter { $0 != 1 }) }
        let drop = Set(try axes.map { try Self.resolveAxis($0, rank: rank, name: "Squeeze axis") })
        for a in drop where shape[a] != 1 {
            throw KernelError.shape("Squeeze axis \(a) of \(shape) is not 1")
        }
        return reshaped(uncheckedTo: shape.enumerated().filter { !drop.contains($0.offset) }.map(\.element))
    }

    /// Inserts 1s so that they sit at `axes` of the result (negative counts from the result's end).
    public func unsqueezed(axes: [Int]) throws -> NDArray {
        let outRank = rank + axes.count
        let insert = try axes.map { try Self.resolveAxis($0, rank: outRank, name: "Unsqueeze axis") }
        guard Set(insert).count == insert.count else { throw KernelError.attribute("Unsqueeze axes \(axes) repeat") }
        var out = [Int]()
        var source = shape.makeIterator()
        for i in 0..<outRank { out.append(insert.contains(i) ? 1 : source.next()!) }
        return reshaped(uncheckedTo: out)
    }

    /// Axes permuted: result axis i is input axis `perm[i]`; nil reverses them.
    public func transposed(_ perm: [Int]? = nil) throws -> NDArray {
        let p = perm ?? Array((0..<rank).reversed())
        guard p.count == rank, Set(p) == Set(0..<rank) else {
            throw KernelError.attribute("Transpose perm \(p) is not a permutation of \(rank) axes")
        }
        let own = contiguousStrides(shape)
        let outShape = p.map { shape[$0] }
        return NDArray(uncheckedShape: outShape, storage: stridedCopy(storage, base: 0, shape: outShape, strides: p.map { own[$0] }))
    }
}
