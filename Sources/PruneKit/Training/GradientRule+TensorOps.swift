/// Gradient rules for the ops that move, copy or reduce values.
extension GradientRule {
    static let tensorRules: [String: GradientRule] = {
        var table: [String: GradientRule] = [
            "Concat": GradientRule(slots: nil) { c in
                guard let axis = try c.op.ints("axis")?.first else { throw KernelError.attribute("Concat needs axis") }
                let present = c.op.inputs.indices.filter(c.op.has)
                let parts = try concatBackward(partShapes: try present.map { try c.op.value($0).shape }, axis: axis,
                                               gradOutput: c.gradOutput)
                var out = [NDArray<Float>?](repeating: nil, count: c.op.inputs.count)
                for (slot, part) in zip(present, parts) { out[slot] = part }
                return out
            },
            "ReduceMean": GradientRule(slots: [0], compute: reduceMean),
            // The parts' gradients side by side along the split axis.
            "Split": GradientRule(slots: [0], allOutputs: true) { c in
                let axis = try c.op.int("axis", 0)
                return [try .concatenated(c.gradOutputs, axis: axis)]
            },
        ]
        // Same values in another shape (Cast between float types included): the gradient is
        // the output's, in the input's shape.
        for name in ["Identity", "Dropout", "Cast", "Reshape", "Flatten", "Squeeze", "Unsqueeze"] {
            table[name] = GradientRule(slots: [0]) { c in [c.gradOutput.reshaped(uncheckedTo: try c.op.value(0).shape)] }
        }
        for name in ["Transpose", "Gather", "Slice", "Expand"] {
            table[name] = GradientRule(slots: [0], compute: movement)
        }
        return table
    }()

    /// Runs the node's own forward kernel on the input's flat indices: where each output
    /// element came from, whatever the op's attributes and index inputs say.
    private static func movement(_ c: GradientContext) throws -> [NDArray<Float>?] {
        let shape = try c.op.value(0).shape
        let dx = try movementBackward(inputShape: shape, gradOutput: c.gradOutput) { indices in
            var inputs = c.op.inputs
            inputs[0] = .integer(indices, .i64)
            guard let kernel = Interpreter.kernels[c.node.opType] else { throw KernelError.unsupported(c.node.opType) }
            return try kernel(Interpreter.OpContext(node: c.node, inputs: inputs, opset: c.op.opset))[0].integers
        }
        return [dx]
    }

    /// Each input element receives its group's output gradient divided by the group size.
    private static func reduceMean(_ c: GradientContext) throws -> [NDArray<Float>?] {
        let x = try c.op.floats(0)
        var axes = try c.op.axes(input: 1, attribute: "axes")
        if axes?.isEmpty == true {
            if try c.op.bool("noop_with_empty_axes") { return [c.gradOutput] }
            axes = nil
        }
        let reduced = Set(try (axes ?? Array(0..<x.rank)).map { try NDArray<Float>.resolveAxis($0, rank: x.rank, name: "ReduceMean axis") })
        let kept = x.shape.enumerated().map { reduced.contains($0.offset) ? 1 : $0.element }
        let n = Float(reduced.map { x.shape[$0] }.reduce(1, *))
        let spread = try c.gradOutput.reshaped(uncheckedTo: kept).broadcast(to: x.shape)
        return [NDArray(uncheckedShape: x.shape, storage: spread.storage.map { $0 / n })]
    }
}
