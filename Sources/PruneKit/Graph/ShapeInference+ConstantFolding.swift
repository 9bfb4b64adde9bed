/// Small integer values computed from constants only, evaluated with the interpreter's own
/// kernels: PyTorch's exporter builds a Pad's pads as ConstantOfShape → Concat → Reshape →
/// Slice (reversed) → Transpose → Reshape → Cast, which the analysis must read as a constant.
extension ShapeInference {
    static let foldedOps: Set<String> = [
        "ConstantOfShape", "Reshape", "Slice", "Transpose", "Cast", "Concat", "Squeeze", "Unsqueeze", "Gather", "Identity",
    ]

    mutating func foldIntegerConstant(_ node: Node, opset: Int) {
        guard node.domain.isEmpty, Self.foldedOps.contains(node.opType), node.outputs.count == 1,
              constants[node.outputs[0]] == nil, let kernel = Interpreter.kernels[node.opType] else { return }
        var args: [Interpreter.Value?] = []
        for name in node.inputs {
            if name.isEmpty { args.append(nil); continue }
            guard let values = constants[name], let shape = shapes[name], shape.reduce(1, *) == values.count else { return }
            args.append(.integer(NDArray(uncheckedShape: shape, storage: values), .i64))
        }
        guard let results = try? kernel(Interpreter.OpContext(node: node, inputs: args, opset: opset)),
              case let .integer(value, _)? = results.first, value.count <= 64 else { return }
        constants[node.outputs[0]] = value.storage
        shapes[node.outputs[0]] = value.shape
    }
}
