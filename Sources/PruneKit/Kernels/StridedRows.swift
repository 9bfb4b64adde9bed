/// Row-major strides of a contiguous array of `shape`.
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[d] = s
        s *= shape[d]
    }
    return strides
}

/// Visits every index of `shape` in row-major order one innermost row at a time, tracking an
/// offset into each of several operands laid out with their own strides (0 for a broadcast
/// dimension). Broadcasting, transposes, slices and reductions all walk this way, so the
/// per-element work stays a tight loop over one row.
struct StridedRows {
    let shape: [Int]
    /// One stride vector per operand, each of `shape.count` entries.
    let strides: [[Int]]

    init(shape: [Int], strides: [[Int]]) {
        precondition(strides.allSatisfy { $0.count == shape.count })
        if shape.isEmpty {
            self.shape = [1]
            self.strides = strides.map { _ in [0] }
        } else {
            self.shape = shape
            self.strides = strides
        }
    }

    var rowLength: Int { shape[shape.count - 1] }
    /// Each operand's step between consecutive elements of a row.
    var innerStrides: [Int] { strides.map { $0[$0.count - 1] } }

    /// Calls `body` with each operand's offset of the first element of every row.
    func forEachRow(_ body: (_ offsets: [Int]) -> Void) {
        guard !shape.contains(0) else { return }
        let outer = shape.count - 1
        var index = [Int](repeating: 0, count: outer)
        var offsets = [Int](repeating: 0, count: strides.count)
        while true {
            body(offsets)
            var d = outer - 1
            while d >= 0 {
                index[d] += 1
                for k in 0..<offsets.count { offsets[k] += strides[k][d] }
                if index[d] < shape[d] { break }
                for k in 0..<offsets.count { offsets[k] -= strides[k][d] * shape[d] }
                index[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }
}

/// Copies the elements of `source` at `base + Σ index·strides` for every index of `shape`,
/// in row-major order: the body of transpose, slice and expand.
func stridedCopy<T>(_ source: [T], base: Int, shape: [Int], strides: [Int]) -> [T] {
    let walk = StridedRows(shape: shape, strides: [strides])
    let n = shape.reduce(1, *)
    var out = [T]()
    out.reserveCapacity(n)
    let length = walk.rowLength
    let step = walk.innerStrides[0]
    source.withUnsafeBufferPointer { src in
        walk.forEachRow { offsets in
            var o = base + offsets[0]
            for _ in 0..<length {
                out.append(src[o])
                o += step
            }
        }
    }
    return out
}

/// The numpy broadcast of two shapes, or nil when a pair of dimensions differs and neither is 1.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = max(a.count, b.count)
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        if da == db || db == 1 {
            out[i] = da
        } else if da == 1 {
            out[i] = db
        } else {
            return nil
        }
    }
    return out
}

/// Strides that read an array of `shape` as if it had `target` shape (which it must broadcast
/// to): missing leading dimensions and stretched 1-dimensions get stride 0.
func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let own = contiguousStrides(shape)
    let lead = target.count - shape.count
    return (0..<target.count).map { i in
        guard i >= lead else { return 0 }
        return shape[i - lead] == 1 && target[i] != 1 ? 0 : own[i - lead]
    }
}
