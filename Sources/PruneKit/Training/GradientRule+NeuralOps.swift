/// Gradient rules for the float ops with kernels of their own: each reads the node's
/// attributes as the interpreter's adapter does and calls the matching backward kernel.
extension GradientRule {
    static let neuralRules: [String: GradientRule] = [
        "Conv": GradientRule(slots: [0, 1, 2], compute: conv),
        "BatchNormalization": GradientRule(slots: [0, 1, 2], compute: batchNorm),
        "MaxPool": GradientRule(slots: [0], compute: maxPool),
        "AveragePool": GradientRule(slots: [0]) { c in
            let x = try c.op.floats(0)
            let p = try Interpreter.poolParameters(c.op, rank: x.rank)
            let dx = try averagePool2dBackward(gradOutput: try Interpreter.as2D(c.gradOutput, "AveragePool gradient"),
                                               input: try Interpreter.as2D(x, "AveragePool input"), p)
            return [dx.reshaped(uncheckedTo: x.shape)]
        },
        "GlobalAveragePool": GradientRule(slots: [0]) { c in [try globalPoolBackward(gradOutput: c.gradOutput, input: c.op.floats(0))] },
        "GlobalMaxPool": GradientRule(slots: [0]) { c in [try globalPoolBackward(gradOutput: c.gradOutput, input: c.op.floats(0), max: true)] },
        "Gemm": GradientRule(slots: [0, 1, 2]) { c in
            let g = try gemmBackward(c.op.floats(0), c.op.floats(1), c: c.op.optionalFloats(2),
                                     alpha: try c.op.float("alpha", 1), beta: try c.op.float("beta", 1),
                                     transA: try c.op.bool("transA"), transB: try c.op.bool("transB"), gradOutput: c.gradOutput)
            return [g.a, g.b, g.c]
        },
        "MatMul": GradientRule(slots: [0, 1]) { c in
            let g = try matmulBackward(c.op.floats(0), c.op.floats(1), gradOutput: c.gradOutput)
            return [g.a, g.b]
        },
        "Softmax": GradientRule(slots: [0]) { c in [try softmax(c, log: false)] },
        "LogSoftmax": GradientRule(slots: [0]) { c in [try softmax(c, log: true)] },
        // Gradient passes where the value was not clipped (output equals input), bounds included,
        // as PyTorch's clamp; the bounds themselves are not differentiated.
        "Clip": GradientRule(slots: [0]) { c in
            let (x, y) = (try c.op.floats(0), c.output)
            return [NDArray(uncheckedShape: x.shape, storage: c.gradOutput.storage.indices.map {
                x.storage[$0] == y.storage[$0] ? c.gradOutput.storage[$0] : 0
            })]
        },
    ]

    private static func conv(_ c: GradientContext) throws -> [NDArray<Float>?] {
        let x = try c.op.floats(0)
        let w = try c.op.floats(1)
        let win = try Interpreter.window(c.op, spatialRank: x.rank - 2)
        let p = Conv2DParameters(strides: win.strides, pads: win.pads, dilations: win.dilations,
                                 group: try c.op.int("group", 1), autoPad: try c.op.autoPad())
        let g = try conv2dBackward(try Interpreter.as2D(x, "Conv input"), weight: try Interpreter.as2D(w, "Conv weight"),
                                   gradOutput: try Interpreter.as2D(c.gradOutput, "Conv output gradient"), p,
                                   inputGradient: c.wants(0), weightGradient: c.wants(1))
        return [g.input?.reshaped(uncheckedTo: x.shape), g.weight?.reshaped(uncheckedTo: w.shape), c.op.has(2) ? g.bias : nil]
    }

    /// In training mode the forward recorded the batch statistics as results 1 and 2.
    private static func batchNorm(_ c: GradientContext) throws -> [NDArray<Float>?] {
        let training = c.mode == .training
        let g = try batchNormalizationBackward(
            c.op.floats(0), scale: c.op.floats(1),
            mean: training ? c.results[1].floats : c.op.floats(3),
            variance: training ? c.results[2].floats : c.op.floats(4),
            epsilon: try c.op.float("epsilon", 1e-5), gradOutput: c.gradOutput, batchStatistics: training)
        return [g.input, g.scale, g.bias]
    }

    /// Routes through the forward's indices (result 1) unless they were stored column-major.
    private static func maxPool(_ c: GradientContext) throws -> [NDArray<Float>?] {
        let x = try c.op.floats(0)
        var indices = c.results[1].integers
        if try c.op.int("storage_order", 0) == 1 {
            indices = try maxPool2d(try Interpreter.as2D(x, "MaxPool input"), try Interpreter.poolParameters(c.op, rank: x.rank)).indices
        }
        let dy = c.gradOutput
        return [try maxPoolBackward(gradOutput: dy, indices: indices.reshaped(uncheckedTo: dy.shape), inputShape: x.shape)]
    }

    /// The same axis rule as the forward adapter: opset < 13 flattens from `axis` (default 1).
    private static func softmax(_ c: GradientContext, log: Bool) throws -> NDArray<Float> {
        let legacy = c.op.opset < 13
        return try softmaxBackward(output: c.output, gradOutput: c.gradOutput, axis: try c.op.int("axis", legacy ? 1 : -1),
                                   coerceTo2D: legacy, log: log)
    }
}
