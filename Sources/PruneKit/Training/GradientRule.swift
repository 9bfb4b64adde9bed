/// How one op passes its output's gradient back to its inputs.
struct GradientRule: Sendable {
    /// Input slots a gradient flows into; nil for every slot (Concat). Shape, Size and
    /// constants list none: their outputs do not change with their inputs' values.
    let slots: [Int]?
    /// Whether every output is differentiable (Split), not output 0 alone.
    var allOutputs = false
    /// The gradient for each input slot (nil where not wanted or not defined), given the
    /// gradient of output 0 (of every output, for `allOutputs` rules).
    let compute: @Sendable (GradientContext) throws -> [NDArray<Float>?]

    func flows(into slot: Int) -> Bool { slots?.contains(slot) ?? true }

    static func rule(for node: Node) -> GradientRule? {
        guard node.domain.isEmpty || node.domain == "ai.onnx" else { return nil }
        return table[node.opType]
    }

    /// Every op the interpreter runs has an entry (a test keeps it so).
    static let table: [String: GradientRule] = {
        var table = neuralRules.merging(tensorRules) { first, _ in first }.merging(spatialRules) { first, _ in first }
        for op in BinaryOp.allCases {
            // Pow's exponent is part of the architecture (x², √x), not a weight: it is never
            // trained, and its gradient (ln of a negative base) would not be defined anyway.
            table[op.rawValue] = GradientRule(slots: op == .pow ? [0] : [0, 1]) { c in
                let g = try broadcastingBackward(op, c.op.floats(0), c.op.floats(1), gradOutput: c.gradOutput)
                return [g.a, op == .pow ? nil : g.b]
            }
        }
        for (name, make) in Interpreter.unaryOps {
            table[name] = GradientRule(slots: [0]) { c in [try c.op.floats(0).applyingBackward(try make(c.op), gradOutput: c.gradOutput)] }
        }
        for name in ["Shape", "Size", "Constant", "ConstantOfShape"] {
            table[name] = GradientRule(slots: []) { _ in [] }
        }
        return table
    }()
}

/// What a rule sees: the node with its forward inputs (attribute access as in the forward),
/// the kernel's results, the output's gradient, and which input gradients are wanted.
struct GradientContext {
    let op: Interpreter.OpContext
    let results: [Interpreter.Value]
    let gradOutput: NDArray<Float>
    /// Every output's gradient (zeros for an output no reader differentiated), for `allOutputs`
    /// rules; `[gradOutput]` otherwise.
    var gradOutputs: [NDArray<Float>] = []
    let wanted: [Bool]
    let mode: ForwardMode

    var node: Node { op.node }
    func wants(_ slot: Int) -> Bool { slot < wanted.count && wanted[slot] }
    /// Output 0 as the forward computed it.
    var output: NDArray<Float> { results[0].floats }
}
