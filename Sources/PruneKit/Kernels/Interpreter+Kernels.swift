extension Interpreter {
    typealias Kernel = @Sendable (OpContext) throws -> [Value]

    /// ONNX op types (default domain) the forward pass runs.
    public static var supportedOps: Set<String> { Set(kernels.keys) }

    static let kernels: [String: Kernel] = {
        var table: [String: Kernel] = [
            "Conv": conv,
            "BatchNormalization": batchNorm,
            "MaxPool": maxPool,
            "AveragePool": averagePool,
            "GlobalAveragePool": { [.float(try globalPool($0.floats(0)))] },
            "GlobalMaxPool": { [.float(try globalPool($0.floats(0), max: true))] },
            "Gemm": gemmNode,
            "MatMul": { [.float(try matmul($0.floats(0), $0.floats(1)))] },
            "Softmax": { try softmaxNode($0, log: false) },
            "LogSoftmax": { try softmaxNode($0, log: true) },
            "Clip": clip,
            "Dropout": dropout,
            "Identity": { [try $0.value(0)] },
            "Constant": constant,
            "Shape": shapeNode,
            "Size": { [.integer(NDArray(scalar: Int64(try $0.value(0).shape.reduce(1, *))), .i64)] },
            "Gather": gather,
            "Unsqueeze": unsqueeze,
            "Squeeze": squeeze,
            "Concat": concat,
            "Slice": slice,
            "Split": split,
            "Cast": cast,
            "ConstantOfShape": constantOfShape,
            "Transpose": transpose,
            "Reshape": reshape,
            "Flatten": flatten,
            "Expand": expand,
            "ReduceMean": reduceMean,
            "Resize": resizeNode,
            "Upsample": resizeNode,
            "Pad": padNode,
            "InstanceNormalization": { c in
                [.float(try instanceNormalization(try c.floats(0), scale: try c.floats(1), bias: try c.floats(2),
                                                  epsilon: try c.float("epsilon", 1e-5)))]
            },
            "LayerNormalization": { c in
                let r = try layerNormalization(try c.floats(0), scale: try c.floats(1), bias: c.optionalFloats(2),
                                               axis: try c.int("axis", -1), epsilon: try c.float("epsilon", 1e-5))
                return [.float(r.output), .float(r.mean), .float(r.invStdDev)]
            },
        ]
        for op in BinaryOp.allCases { table[op.rawValue] = { try binary(op, $0) } }
        for (name, make) in unaryOps { table[name] = { [.float(try $0.floats(0).applying(make($0)))] } }
        return table
    }()

    /// The elementwise activations and math ops, each with how its node's attributes (ONNX
    /// defaults where absent) make the function; the backward pass differentiates the same.
    static let unaryOps: [String: @Sendable (OpContext) throws -> UnaryOp] = {
        var table: [String: @Sendable (OpContext) throws -> UnaryOp] = [
            "LeakyRelu": { .leakyRelu(alpha: try $0.float("alpha", UnaryOp.defaultLeakyReluAlpha)) },
            "HardSigmoid": {
                .hardSigmoid(alpha: try $0.float("alpha", UnaryOp.defaultHardSigmoid.alpha),
                             beta: try $0.float("beta", UnaryOp.defaultHardSigmoid.beta))
            },
            "Elu": { .elu(alpha: try $0.float("alpha", 1)) },
            "Selu": {
                .selu(alpha: try $0.float("alpha", UnaryOp.defaultSelu.alpha),
                      gamma: try $0.float("gamma", UnaryOp.defaultSelu.gamma))
            },
            "Gelu": { c in
                switch try c.string("approximate", "none") {
                case "none": return .gelu(tanhApproximation: false)
                case "tanh": return .gelu(tanhApproximation: true)
                case let other: throw KernelError.attribute("Gelu approximate \"\(other)\"")
                }
            },
        ]
        let fixed: [String: UnaryOp] = [
            "Relu": .relu, "Sigmoid": .sigmoid, "Tanh": .tanh, "HardSwish": .hardSwish,
            "Erf": .erf, "Exp": .exp, "Log": .log, "Sqrt": .sqrt, "Reciprocal": .reciprocal,
            "Neg": .neg, "Abs": .abs, "Floor": .floor, "Ceil": .ceil,
            "Softplus": .softplus, "Mish": .mish, "Softsign": .softsign,
        ]
        for (name, op) in fixed { table[name] = { _ in op } }
        return table
    }()
}
