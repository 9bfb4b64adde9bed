/// Ops that select or join values: Gather, Slice, Concat.
extension NDArray {
    /// ONNX Gather: picks `indices` (negative counts from the end) along `axis`; the result's
    /// shape is shape[..<axis] + indices.shape + shape[(axis+1)...].
    public func gathered(indices: NDArray<Int64>, axis: Int = 0) throws -> NDArray {
        let a = try Self.resolveAxis(axis, rank: rank, name: "Gather axis")
        let dim = shape[a]
        let picks = try indices.storage.map { i -> Int in
            let j = i < 0 ? Int(i) + dim : Int(i)
            guard j >= 0, j < dim else { throw KernelError.shape("Gather index \(i) out of range for axis \(a) of \(shape)") }
            return j
        }
        let outer = shape[..<a].reduce(1, *)
        let inner = shape[(a + 1)...].reduce(1, *)
        var out = [Element]()
        out.reserveCapacity(outer * picks.count * inner)
        for o in 0..<outer {
            for j in picks {
                let start = (o * dim + j) * inner
                out.append(contentsOf: storage[start..<(start + inner)])
            }
        }
        return NDArray(uncheckedShape: Array(shape[..<a]) + indices.shape + Array(shape[(a + 1)...]), storage: out)
    }

    /// ONNX Slice (opset ≥ 10): per listed axis, start..<end by step, negative positions count
    /// from the end and out-of-range ones are clamped; a negative step walks backwards.
    public func sliced(starts: [Int], ends: [Int], axes: [Int]? = nil, steps: [Int]? = nil) throws -> NDArray {
        let axisList = axes ?? Array(0..<starts.count)
        let stepList = steps ?? [Int](repeating: 1, count: starts.count)
        guard ends.count == starts.count, axisList.count == starts.count, stepList.count == starts.count else {
            throw KernelError.attribute("Slice starts \(starts), ends \(ends), axes \(axisList), steps \(stepList) differ in length")
        }
        var first = [Int](repeating: 0, count: rank)
        var step = [Int](repeating: 1, count: rank)
        var outShape = shape
        var seen = Set<Int>()
        for i in starts.indices {
            let a = try Self.resolveAxis(axisList[i], rank: rank, name: "Slice axis")
            guard seen.insert(a).inserted else { throw KernelError.attribute("Slice axis \(a) repeats") }
            guard let range = SliceRange(start: starts[i], end: ends[i], step: stepList[i], dim: shape[a]) else {
                throw KernelError.attribute("Slice step 0")
            }
            first[a] = range.first
            step[a] = range.step
            outShape[a] = range.count
        }
        let own = contiguousStrides(shape)
        guard !outShape.contains(0) else { return NDArray(uncheckedShape: outShape, storage: []) }
        let base = zip(first, own).map(*).reduce(0, +)
        let values = stridedCopy(storage, base: base, shape: outShape, strides: zip(step, own).map(*))
        return NDArray(uncheckedShape: outShape, storage: values)
    }

    /// ONNX Concat along `axis` (negative counts from the end); other dimensions must agree.
    public static func concatenated(_ parts: [NDArray], axis: Int) throws -> NDArray {
        guard let head = parts.first else { throw KernelError.shape("Concat of no inputs") }
        let a = try resolveAxis(axis, rank: head.rank, name: "Concat axis")
        for p in parts where p.rank != head.rank || zip(p.shape, head.shape).enumerated().contains(where: { $0.offset != a && $0.element.0 != $0.element.1 }) {
            throw KernelError.shape("Concat along axis \(a): \(p.shape) does not match \(head.shape)")
        }
        let outer = head.shape[..<a].reduce(1, *)
        let inner = head.shape[(a + 1)...].reduce(1, *)
        var shape = head.shape
        shape[a] = parts.map { $0.shape[a] }.reduce(0, +)
        var out = [Element]()
        out.reserveCapacity(parts.map(\.count).reduce(0, +))
        for o in 0..<outer {
            for p in parts {
                let block = p.shape[a] * inner
                out.append(contentsOf: p.storage[(o * block)..<((o + 1) * block)])
            }
        }
        return NDArray(uncheckedShape: shape, storage: out)
    }
}

extension NDArray where Element == Float {
    /// ReduceMean over `axes` (nil = all), keeping them as 1s when `keepDims`.
    public func reducedMean(axes: [Int]?, keepDims: Bool = true) throws -> NDArray {
        let (sums, count) = try reduced(axes: axes, keepDims: keepDims, name: "ReduceMean axis")
        let n = Float(count)
        return NDArray(uncheckedShape: sums.shape, storage: sums.storage.map { $0 / n })
    }

    /// ReduceSum over `axes` (nil = all), keeping them as 1s when `keepDims`.
    public func reducedSum(axes: [Int]?, keepDims: Bool = true) throws -> NDArray {
        try reduced(axes: axes, keepDims: keepDims, name: "ReduceSum axis").sums
    }

    /// Sums over `axes` and how many values each sum adds.
    private func reduced(axes: [Int]?, keepDims: Bool, name: String) throws -> (sums: NDArray, count: Int) {
        let reduce = Set(try (axes ?? Array(0..<rank)).map { try Self.resolveAxis($0, rank: rank, name: name) })
        let kept = shape.enumerated().map { reduce.contains($0.offset) ? 1 : $0.element }
        let keptStrides = contiguousStrides(kept).enumerated().map { reduce.contains($0.offset) ? 0 : $0.element }
        var sums = [Float](repeating: 0, count: kept.reduce(1, *))
        let walk = StridedRows(shape: shape, strides: [contiguousStrides(shape), keptStrides])
        let (stepIn, stepOut) = (walk.innerStrides[0], walk.innerStrides[1])
        walk.forEachRow { offsets in
            var (i, o) = (offsets[0], offsets[1])
            for _ in 0..<walk.rowLength {
                sums[o] += storage[i]
                i += stepIn
                o += stepOut
            }
        }
        let outShape = keepDims ? kept : shape.enumerated().filter { !reduce.contains($0.offset) }.map(\.element)
        return (NDArray(uncheckedShape: outShape, storage: sums), reduce.map { shape[$0] }.reduce(1, *))
    }
}
