/// Output shapes of the ops that resize or pad the spatial axes, from their constant scales,
/// sizes and pads, read through the same attribute types the interpreter uses.
extension ShapeInference {
    func spatialOutputShape(_ node: Node, input x: [Int]?, graph: Graph) -> [Int]? {
        guard let x else { return nil }
        let opset = graph.model.defaultOpset
        switch node.opType {
        case "Resize", "Upsample":
            let attributes = try? ResizeAttributes(node, opset: opset)
            return try? Self.resizeTarget(node, input: x, graph: graph, shapes: self, attributes: attributes)?.outputShape
        case "Pad":
            return try? Self.padParameters(node, rank: x.count, graph: graph, shapes: self)?.outputShape(x)
        default:
            return nil
        }
    }

    /// A float input's value when it is an initializer; [] for an absent or empty one.
    static func floatConstant(_ node: Node, slot: Int, graph: Graph) -> [Float]? {
        guard slot < node.inputs.count, !node.inputs[slot].isEmpty else { return [] }
        return graph.initializers[node.inputs[slot]]?.floats()
    }

    /// The node's constant scales and sizes resolved for `input`; nil when they are computed.
    /// Without `attributes` (a mode not run), the resize is taken as nearest/asymmetric: only
    /// the output shape is then meaningful.
    static func resizeTarget(_ node: Node, input: [Int], graph: Graph, shapes: ShapeInference,
                             attributes: ResizeAttributes?) throws -> ResizeParameters? {
        let opset = graph.model.defaultOpset
        var probe = node
        if attributes == nil { probe.attributes.removeAll { ["mode", "coordinate_transformation_mode", "nearest_mode"].contains($0.name) } }
        let a = try attributes ?? ResizeAttributes(probe, opset: opset)
        if node.opType == "Upsample" {
            if case let .floats(v)? = node[attribute: "scales"] { return try a.parameters(inputShape: input, scales: v, sizes: nil) }
            guard let scales = floatConstant(node, slot: 1, graph: graph) else { return nil }
            return try a.parameters(inputShape: input, scales: scales, sizes: nil)
        }
        guard let scales = floatConstant(node, slot: opset < 11 ? 1 : 2, graph: graph) else { return nil }
        if !scales.isEmpty || opset < 11 { return try a.parameters(inputShape: input, scales: scales, sizes: nil) }
        guard node.inputs.count > 3, let sizes = shapes.constants[node.inputs[3]] else { return nil }
        return try a.parameters(inputShape: input, scales: nil, sizes: sizes.map(Int.init))
    }

    /// The node's pads when they are constants (attributes, initializers or folded shape
    /// arithmetic); nil when computed from values not known before run time.
    static func padParameters(_ node: Node, rank: Int, graph: Graph, shapes: ShapeInference) throws -> PadParameters? {
        let mode = try PadMode(node)
        if graph.model.defaultOpset < 11 {
            guard let pads = node.ints("pads") ?? node.ints("paddings") else { return nil }
            return try PadParameters(mode: mode, pads: pads, axes: nil, rank: rank, value: node.float("value") ?? 0)
        }
        guard node.inputs.count > 1, let pads = shapes.constants[node.inputs[1]] else { return nil }
        var axes: [Int]?
        if node.inputs.count > 3, !node.inputs[3].isEmpty {
            guard let a = shapes.constants[node.inputs[3]] else { return nil }
            axes = a.map(Int.init)
        }
        return try PadParameters(mode: mode, pads: pads.map(Int.init), axes: axes, rank: rank)
    }
}
