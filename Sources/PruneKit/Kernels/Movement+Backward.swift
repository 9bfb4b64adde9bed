/// Backward of the ops that only move or copy elements (Gather, Slice, Transpose, Expand,
/// Concat): the forward op itself, run on the input's flat indices, says which input element
/// each output element came from, so no op's index arithmetic is written twice.

/// The gradient of `move` (an op that only moves or repeats elements of an array of
/// `inputShape`) given its output's gradient: each output gradient is added to its source,
/// so an element read several times (Expand, repeated Gather indices) receives the sum.
public func movementBackward(inputShape: [Int], gradOutput dy: NDArray<Float>,
                             _ move: (NDArray<Int64>) throws -> NDArray<Int64>) throws -> NDArray<Float> {
    let count = try resultCount(inputShape)
    let sources = try move(flatIndices(inputShape, from: 0))
    return NDArray(uncheckedShape: inputShape, storage: try scatterAdding(dy, at: sources, count: count))
}

/// The gradients of `NDArray.concatenated(parts, axis:)` for parts of `partShapes`: the
/// output gradient cut back into the parts.
public func concatBackward(partShapes: [[Int]], axis: Int, gradOutput dy: NDArray<Float>) throws -> [NDArray<Float>] {
    var offset = 0
    var maps: [NDArray<Int64>] = []
    for shape in partShapes {
        maps.append(try flatIndices(shape, from: offset))
        offset += shape.reduce(1, *)
    }
    let flat = try scatterAdding(dy, at: try .concatenated(maps, axis: axis), count: offset)
    var start = 0
    return partShapes.map { shape in
        let n = shape.reduce(1, *)
        defer { start += n }
        return NDArray(uncheckedShape: shape, storage: Array(flat[start..<(start + n)]))
    }
}

/// start, start+1, … in `shape`.
private func flatIndices(_ shape: [Int], from start: Int) throws -> NDArray<Int64> {
    let n = try resultCount(shape)
    return NDArray(uncheckedShape: shape, storage: (0..<n).map { Int64(start + $0) })
}

/// A zero array of `count` values plus each dy[j] at sources[j].
private func scatterAdding(_ dy: NDArray<Float>, at sources: NDArray<Int64>, count: Int) throws -> [Float] {
    guard sources.shape == dy.shape else {
        throw KernelError.shape("output gradient \(dy.shape) does not match the output \(sources.shape)")
    }
    var dx = [Float](repeating: 0, count: count)
    for (i, g) in zip(sources.storage, dy.storage) { dx[Int(i)] += g }
    return dx
}
