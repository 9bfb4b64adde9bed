import Testing
@testable import PruneKit

/// Each op's gradient rule, through a one-node graph whose float operands are all parameters:
/// the rule's attribute handling and wiring against finite differences of the whole forward.
@Suite struct TrainingOpGradientTests {
    struct OpCase: Sendable, CustomTestStringConvertible {
        let name: String
        let opType: String
        var attributes: [Attribute] = []
        /// In slot order; float ones of rank ≥ 1 at differentiable slots become parameters.
        let operands: [Tensor]
        var opset = 17
        var mode = ForwardMode.training
        /// Outputs of the node; the loss reads the first (the others go unread).
        var outputs = 1
        var testDescription: String { name }

        var graph: Graph {
            var g = Graph(name: name, nodes: [Node(name: name, opType: opType, inputs: operands.indices.map { "in\($0)" },
                                                   outputs: ["y"] + (1..<outputs).map { "y\($0)" }, attributes: attributes)],
                          initializers: operands.enumerated().map { ("in\($0.offset)", $0.element) },
                          outputs: [ValueInfo(name: "y", shape: nil)])
            g.model.opsets = [Opset(domain: "", version: opset)]
            return g
        }
    }

    static func f(_ shape: [Int], _ seed: UInt64, avoiding kinks: [Float] = [], in range: ClosedRange<Float> = -1...1) -> Tensor {
        Tensor(GradientCheck.random(shape, seed: seed, avoiding: kinks, in: range))
    }
    static func distinct(_ shape: [Int], _ seed: UInt64) -> Tensor { Tensor(GradientCheck.distinct(shape, seed: seed)) }
    static func i(_ values: [Int64]) -> Tensor { Tensor(shape: [values.count], int64s: values) }
    static func scalar(_ v: Float) -> Tensor { Tensor(shape: [], floats: [v]) }
    static func ints(_ name: String, _ v: [Int]) -> Attribute { Attribute(name, .ints(v)) }

    static let neural: [OpCase] = [
        OpCase(name: "Conv 1-D", opType: "Conv", attributes: [ints("pads", [1, 0]), ints("strides", [2]), ints("kernel_shape", [3])],
               operands: [f([1, 2, 7], 1), f([3, 2, 3], 2), f([3], 3)]),
        OpCase(name: "Conv grouped SAME_UPPER", opType: "Conv",
               attributes: [Attribute("group", .int(2)), Attribute("auto_pad", .string("SAME_UPPER")), ints("strides", [2, 1])],
               operands: [f([1, 4, 5, 5], 4), f([4, 2, 2, 3], 5)]),
        OpCase(name: "Conv depthwise dilated", opType: "Conv",
               attributes: [Attribute("group", .int(3)), ints("dilations", [2, 2]), ints("pads", [2, 2, 2, 2])],
               operands: [f([2, 3, 6, 6], 6), f([3, 1, 3, 3], 7), f([3], 8)]),
        OpCase(name: "BatchNormalization training", opType: "BatchNormalization", attributes: [Attribute("epsilon", .float(1e-3))],
               operands: [f([3, 2, 2, 2], 9), f([2], 10, in: 0.5...1.5), f([2], 11), f([2], 12), f([2], 13, in: 0.5...1.5)]),
        OpCase(name: "BatchNormalization inference", opType: "BatchNormalization",
               operands: [f([3, 2, 2, 2], 9), f([2], 10, in: 0.5...1.5), f([2], 11), f([2], 12), f([2], 13, in: 0.5...1.5)],
               mode: .inference),
        OpCase(name: "MaxPool", opType: "MaxPool", attributes: [ints("kernel_shape", [2, 2]), ints("strides", [2, 2])],
               operands: [distinct([1, 2, 4, 4], 14)]),
        OpCase(name: "MaxPool column-major indices, pads", opType: "MaxPool",
               attributes: [ints("kernel_shape", [3, 3]), ints("strides", [2, 2]), ints("pads", [1, 1, 1, 1]), Attribute("storage_order", .int(1))],
               operands: [distinct([1, 1, 5, 5], 15)]),
        OpCase(name: "MaxPool 1-D", opType: "MaxPool", attributes: [ints("kernel_shape", [2]), ints("strides", [2])],
               operands: [distinct([1, 2, 6], 16)]),
        OpCase(name: "AveragePool count_include_pad ceil_mode", opType: "AveragePool",
               attributes: [ints("kernel_shape", [3, 3]), ints("strides", [2, 2]), ints("pads", [1, 1, 1, 1]),
                            Attribute("count_include_pad", .int(1)), Attribute("ceil_mode", .int(1))],
               operands: [f([1, 2, 6, 6], 17)]),
        OpCase(name: "GlobalAveragePool", opType: "GlobalAveragePool", operands: [f([2, 3, 2, 2], 18)]),
        OpCase(name: "GlobalMaxPool", opType: "GlobalMaxPool", operands: [distinct([2, 3, 2, 2], 19)]),
        OpCase(name: "Gemm transposed", opType: "Gemm",
               attributes: [Attribute("transA", .int(1)), Attribute("transB", .int(1)), Attribute("alpha", .float(0.5)), Attribute("beta", .float(2))],
               operands: [f([4, 3], 20), f([5, 4], 21), f([5], 22)]),
        OpCase(name: "MatMul batched", opType: "MatMul", operands: [f([2, 3, 4], 23), f([4, 2], 24)]),
        OpCase(name: "Softmax", opType: "Softmax", attributes: [Attribute("axis", .int(1))], operands: [f([2, 3, 4], 25)]),
        OpCase(name: "Softmax opset 11", opType: "Softmax", operands: [f([2, 3, 4], 26)], opset: 11),
        OpCase(name: "LogSoftmax", opType: "LogSoftmax", operands: [f([2, 3, 4], 27)]),
        OpCase(name: "Clip", opType: "Clip", operands: [f([2, 5], 28, avoiding: [-0.5, 0.5]), scalar(-0.5), scalar(0.5)]),
    ]

    static let unaryAttributes: [String: [Attribute]] = [
        "LeakyRelu": [Attribute("alpha", .float(0.3))], "HardSigmoid": [Attribute("alpha", .float(0.4)), Attribute("beta", .float(0.3))],
        "Elu": [Attribute("alpha", .float(0.5))], "Gelu": [Attribute("approximate", .string("tanh"))],
    ]

    static let elementwise: [OpCase] = Interpreter.unaryOps.keys.sorted().map { op in
        let positive = ["Log", "Sqrt", "Reciprocal"].contains(op)
        let x = positive ? f([2, 5], 30, in: 0.3...1.7) : f([2, 5], 30, avoiding: [-1, 0, 1, -0.75, 1.75], in: -2...2)
        return OpCase(name: op, opType: op, attributes: unaryAttributes[op] ?? [], operands: [x])
    } + BinaryOp.allCases.map { op in
        let range: ClosedRange<Float> = op == .div || op == .pow ? 0.5...1.5 : -1...1
        return OpCase(name: op.rawValue, opType: op.rawValue, operands: [f([2, 3], 31, in: range), f([3], 32, in: range)])
    }

    static let tensor: [OpCase] = [
        OpCase(name: "Dropout", opType: "Dropout", operands: [f([2, 3], 40)]),
        OpCase(name: "Identity", opType: "Identity", operands: [f([2, 3], 41)]),
        OpCase(name: "Cast to float", opType: "Cast", attributes: [Attribute("to", .int(1))], operands: [f([2, 3], 42)]),
        OpCase(name: "Reshape", opType: "Reshape", operands: [f([2, 3, 2], 43), i([3, -1])]),
        OpCase(name: "Flatten", opType: "Flatten", attributes: [Attribute("axis", .int(2))], operands: [f([2, 3, 2, 2], 44)]),
        OpCase(name: "Squeeze", opType: "Squeeze", operands: [f([2, 1, 3], 45), i([1])]),
        OpCase(name: "Unsqueeze", opType: "Unsqueeze", operands: [f([2, 3], 46), i([0])]),
        OpCase(name: "Transpose", opType: "Transpose", attributes: [ints("perm", [1, 2, 0])], operands: [f([2, 3, 4], 47)]),
        OpCase(name: "Gather repeated", opType: "Gather", attributes: [Attribute("axis", .int(1))], operands: [f([2, 3, 2], 48), i([2, 0, 2])]),
        OpCase(name: "Slice backwards", opType: "Slice", operands: [f([2, 3, 5], 49), i([-1]), i([-10]), i([2]), i([-2])]),
        OpCase(name: "Expand", opType: "Expand", operands: [f([3, 1], 50), i([2, 3, 4])]),
        OpCase(name: "Split", opType: "Split", attributes: [Attribute("axis", .int(-2))], operands: [f([2, 5, 3], 53), i([3, 2])],
               outputs: 2),
        OpCase(name: "Concat", opType: "Concat", attributes: [Attribute("axis", .int(1))], operands: [f([2, 1, 3], 51), f([2, 2, 3], 52)]),
        OpCase(name: "ReduceMean", opType: "ReduceMean", attributes: [ints("axes", [1, 2]), Attribute("keepdims", .int(0))],
               operands: [f([2, 3, 2, 2], 53)]),
    ]

    static func s(_ name: String, _ v: String) -> Attribute { Attribute(name, .string(v)) }
    static func floats(_ v: [Float]) -> Tensor { Tensor(shape: [v.count], floats: v) }

    /// Channel-wise ops that resize, pad or normalize per sample.
    static let spatial: [OpCase] = [
        OpCase(name: "Resize linear half_pixel", opType: "Resize", attributes: [s("mode", "linear")],
               operands: [f([1, 2, 3, 3], 60), floats([]), floats([1, 1, 1.5, 2])]),
        OpCase(name: "Resize linear align_corners shrinking", opType: "Resize",
               attributes: [s("mode", "linear"), s("coordinate_transformation_mode", "align_corners")],
               operands: [f([1, 2, 5, 4], 61), floats([]), floats([]), i([1, 2, 3, 3])]),
        OpCase(name: "Resize nearest asymmetric", opType: "Resize",
               attributes: [s("mode", "nearest"), s("coordinate_transformation_mode", "asymmetric")],
               operands: [f([1, 2, 2, 3], 62), floats([]), floats([1, 1, 2, 1.5])]),
        OpCase(name: "Upsample opset 9", opType: "Upsample", operands: [f([1, 2, 2, 2], 63), floats([1, 1, 2, 3])], opset: 9),
        OpCase(name: "Pad reflect", opType: "Pad", attributes: [s("mode", "reflect")], operands: [f([1, 2, 3, 3], 64), i([0, 0, 2, 1, 0, 0, 1, 2])]),
        OpCase(name: "Pad edge cropping", opType: "Pad", attributes: [s("mode", "edge")], operands: [f([1, 2, 3, 3], 65), i([0, 0, -1, 2, 0, 0, 1, 0])]),
        OpCase(name: "Pad constant", opType: "Pad", operands: [f([1, 2, 2, 2], 66), i([0, 0, 1, 1, 0, 0, 1, 1]), scalar(0.5)]),
        OpCase(name: "InstanceNormalization", opType: "InstanceNormalization", attributes: [Attribute("epsilon", .float(1e-3))],
               operands: [f([2, 3, 2, 3], 67), f([3], 68, in: 0.5...1.5), f([3], 69)]),
        OpCase(name: "LayerNormalization last axis", opType: "LayerNormalization", attributes: [Attribute("epsilon", .float(1e-3))],
               operands: [f([2, 3, 4], 70), f([4], 71, in: 0.5...1.5), f([4], 72)]),
        OpCase(name: "LayerNormalization axis 1 without bias", opType: "LayerNormalization", attributes: [Attribute("axis", .int(1))],
               operands: [f([2, 3, 2], 73), f([3, 2], 74, in: 0.5...1.5)]),
    ]

    /// Input slots that are buffers or architecture, never parameters: BN's running statistics,
    /// Pow's exponent, Resize's roi/scales/sizes, Pad's pads and fill value.
    static let notParameters: [String: Set<Int>] = [
        "BatchNormalization": [3, 4], "Pow": [1], "Resize": [1, 2, 3], "Upsample": [1], "Pad": [1, 2, 3],
    ]

    @Test(arguments: neural + elementwise + tensor + spatial)
    func gradientsMatchFiniteDifferences(c: OpCase) throws {
        let trainable = try TrainableGraph(c.graph)
        let skipped = Self.notParameters[c.opType] ?? []
        let expected = c.operands.indices.filter {
            c.operands[$0].dtype == .f32 && c.operands[$0].rank >= 1 && c.operands[$0].count > 0 && !skipped.contains($0)
        }.map { "in\($0)" }
        #expect(trainable.parameterNames == expected)
        let errors = try GraphGradientCheck.errors(trainable, inputs: [:], mode: c.mode, loss: GraphGradientCheck.projection())
        #expect(errors.values.allSatisfy { $0 <= 1 }, "\(errors)")
    }

    /// Backward for every op the forward supports: each has a rule, and each rule with a
    /// gradient to pass is exercised above.
    @Test func everyForwardOpHasAGradientRule() {
        #expect(Interpreter.supportedOps.subtracting(GradientRule.table.keys).isEmpty)
        let covered = Set((Self.neural + Self.elementwise + Self.tensor + Self.spatial).map(\.opType))
        let differentiable = GradientRule.table.filter { $0.value.slots?.isEmpty != true }.keys
        #expect(Set(differentiable).subtracting(covered).isEmpty, "untested: \(Set(differentiable).subtracting(covered))")
    }
}
