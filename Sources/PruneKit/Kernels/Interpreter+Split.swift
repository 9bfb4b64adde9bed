/// ONNX Split: the input cut along one axis into consecutive parts, one per output.
extension Interpreter {
    /// The sizes of Split's parts along its axis of length `dim`: explicit `split` sizes (the
    /// attribute before opset 13, the input from 13); else `num_outputs` parts (opset 18) of
    /// ⌈dim / n⌉, the last one smaller; else `outputs` equal parts.
    static func splitSizes(dim: Int, outputs: Int, split: [Int]?, numOutputs: Int?) throws -> [Int] {
        if let split, !split.isEmpty {
            guard split.count == outputs, split.allSatisfy({ $0 >= 0 }), split.reduce(0, +) == dim else {
                throw KernelError.attribute("Split sizes \(split) do not cut \(dim) into \(outputs) parts")
            }
            return split
        }
        if let n = numOutputs {
            guard n == outputs, n > 0 else { throw KernelError.attribute("Split num_outputs \(n) with \(outputs) outputs") }
            let chunk = (dim + n - 1) / n
            let last = dim - chunk * (n - 1)
            guard last >= 0 else { throw KernelError.attribute("Split num_outputs \(n) cannot cut \(dim)") }
            return Array(repeating: chunk, count: n - 1) + [last]
        }
        guard outputs > 0, dim % outputs == 0 else {
            throw KernelError.attribute("Split of \(dim) into \(outputs) equal parts")
        }
        return Array(repeating: dim / outputs, count: outputs)
    }

    static func split(_ c: OpContext) throws -> [Value] {
        let x = try c.value(0)
        let axis = try NDArray<Float>.resolveAxis(try c.int("axis", 0), rank: x.shape.count, name: "Split axis")
        let given = c.opset >= 13 ? try c.optionalInts(1) : try c.ints("split")
        let sizes = try splitSizes(dim: x.shape[axis], outputs: c.node.outputs.count, split: given,
                                   numOutputs: c.opset >= 18 ? c.node.int("num_outputs") : nil)
        var start = 0
        return try sizes.map { n in
            defer { start += n }
            let range = (starts: [start], ends: [start + n], axes: [axis])
            return try x.map({ try $0.sliced(starts: range.starts, ends: range.ends, axes: range.axes) },
                             { try $0.sliced(starts: range.starts, ends: range.ends, axes: range.axes) })
        }
    }
}
