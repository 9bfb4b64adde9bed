/// The elements one axis of an ONNX Slice takes: negative positions count from the end,
/// out-of-range ones are clamped, a negative step walks backwards. Shared by the kernel,
/// shape inference and the dependency analysis, so all three agree on what a Slice keeps.
struct SliceRange: Equatable {
    /// The first index taken.
    var first: Int
    /// The step between taken indices (clamped to ±dim, so offsets cannot overflow).
    var step: Int
    /// How many indices are taken.
    var count: Int

    /// nil for a step of 0, which ONNX forbids.
    init?(start: Int, end: Int, step: Int, dim: Int) {
        guard step != 0 else { return nil }
        // A step of at least the dimension takes one element at most, whatever its size.
        let s = step > 0 ? min(step, max(dim, 1)) : max(step, -max(dim, 1))
        var start = start < 0 ? start &+ dim : start
        var end = end < 0 ? end &+ dim : end
        if s > 0 {
            start = min(max(start, 0), dim)
            end = min(max(end, 0), dim)
            count = end > start ? 1 + (end - start - 1) / s : 0
        } else {
            start = min(max(start, 0), dim - 1)
            end = min(max(end, -1), dim - 1)
            count = start > end ? 1 + (start - end - 1) / -s : 0
        }
        first = start
        self.step = s
    }

    /// The input indices taken, in output order.
    var indices: [Int] { (0..<count).map { first + $0 * step } }
}
