/// Output shapes of the ops that move values without computing on them: Transpose, Split,
/// and Slice of an activation (the constant Slices of shape arithmetic are folded elsewhere).
extension ShapeInference {
    /// Transpose by `perm`, reversing the axes when it is absent; nil for a perm that is not
    /// a permutation of the input's axes.
    static func transposed(_ x: [Int], perm: [Int]?) -> [Int]? {
        let perm = perm ?? Array(x.indices.reversed())
        guard perm.count == x.count, Set(perm) == Set(x.indices) else { return nil }
        return perm.map { x[$0] }
    }

    /// The normalized axis of a Split and its parts' sizes along it, from the attribute
    /// (opset < 13) or constant input (13 on) `split`, `num_outputs` (18 on) or the output
    /// count; nil when the sizes are computed at run time or do not fit the input.
    func splitParts(_ node: Node, input x: [Int], opset: Int) -> (axis: Int, sizes: [Int])? {
        var axis = node.int("axis") ?? 0
        if axis < 0 { axis += x.count }
        guard axis >= 0, axis < x.count else { return nil }
        var given: [Int]?
        if opset >= 13 {
            if node.inputs.count > 1, !node.inputs[1].isEmpty {
                guard let c = constants[node.inputs[1]] else { return nil }
                given = c.map(Int.init)
            }
        } else {
            given = node.ints("split")
        }
        guard let sizes = try? Interpreter.splitSizes(dim: x[axis], outputs: node.outputs.count, split: given,
                                                      numOutputs: opset >= 18 ? node.int("num_outputs") : nil) else { return nil }
        return (axis, sizes)
    }

    /// Per sliced axis (normalized), the range it keeps, from attributes (opset < 10) or
    /// constant inputs; nil when they are computed at run time or malformed.
    func sliceRanges(_ node: Node, input x: [Int], opset: Int) -> [(axis: Int, range: SliceRange)]? {
        func input(_ slot: Int) -> [Int]?? {
            guard slot < node.inputs.count, !node.inputs[slot].isEmpty else { return .some(nil) }
            return constants[node.inputs[slot]].map { $0.map(Int.init) }
        }
        let starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
        if opset < 10 {
            guard let s = node.ints("starts"), let e = node.ints("ends") else { return nil }
            (starts, ends, axes, steps) = (s, e, node.ints("axes"), nil)
        } else {
            guard let s = input(1) ?? nil, let e = input(2) ?? nil, let a = input(3), let t = input(4) else { return nil }
            (starts, ends, axes, steps) = (s, e, a, t)
        }
        let axisList = (axes ?? Array(starts.indices)).map { $0 < 0 ? $0 + x.count : $0 }
        let stepList = steps ?? Array(repeating: 1, count: starts.count)
        guard ends.count == starts.count, axisList.count == starts.count, stepList.count == starts.count,
              axisList.allSatisfy({ $0 >= 0 && $0 < x.count }), Set(axisList).count == axisList.count else { return nil }
        var out: [(axis: Int, range: SliceRange)] = []
        for i in starts.indices {
            guard let r = SliceRange(start: starts[i], end: ends[i], step: stepList[i], dim: x[axisList[i]]) else { return nil }
            out.append((axisList[i], r))
        }
        return out
    }

    /// The shapes a Transpose, Split or Slice of `x` gives, one per output slot.
    func movementShapes(_ node: Node, input x: [Int]?, opset: Int) -> [[Int]?] {
        guard let x else { return [] }
        switch node.opType {
        case "Transpose":
            return [Self.transposed(x, perm: node.ints("perm"))]
        case "Split":
            guard let parts = splitParts(node, input: x, opset: opset) else { return [] }
            return parts.sizes.map { n in
                var s = x
                s[parts.axis] = n
                return s
            }
        case "Slice":
            guard let ranges = sliceRanges(node, input: x, opset: opset) else { return [] }
            var s = x
            for r in ranges { s[r.axis] = r.range.count }
            return [s]
        default:
            return []
        }
    }
}
