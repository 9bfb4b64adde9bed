/// Channels on an axis other than 1: after a Transpose to channels last (ConvNeXt's permute
/// [0, 2, 3, 1]), a value's map lies on its last axis. Pointwise ops, Add/Sub/Mul/Div (with
/// per-channel parameters broadcast on that axis), LayerNormalization over that axis alone,
/// MatMul contracting it (a linear layer on the last axis) and the Transpose back follow it;
/// any other op reading such a value pins its channels, naming the axis.
extension DependencyAnalysis {
    /// Ops that compute each element from the same element of their input: the channel map
    /// passes on whichever axis it lies (the pools of `passThrough` work on axes 2… of NCHW).
    static let pointwise = passThrough.subtracting(["MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool"])

    func axis(of value: String) -> Int { channelAxis[value] ?? 1 }

    mutating func setAxis(_ value: String, _ axis: Int) {
        if axis == 1 { channelAxis[value] = nil } else { channelAxis[value] = axis }
    }

    /// A node with an input whose channels are not on axis 1.
    mutating func channelsLast(_ node: Node, op: String, x: [Int]?) {
        switch op {
        case _ where Self.pointwise.contains(op):
            if let x, let o = node.outputs.first, !o.isEmpty { maps[o] = x; setAxis(o, axis(of: node.inputs[0])) }
        case "Add", "Sub", "Mul", "Div":
            elementwise(node)
        case "LayerNormalization":
            if let x { layerNorm(node, x: x) } else { unknown(node, why: "LayerNormalization '\(node.label)' has channels in its scale or bias only") }
        case "MatMul":
            matmul(node)
        case "Transpose":
            if let x { transpose(node, x: x) } else { unknown(node, why: "Transpose '\(node.label)' of channels it cannot place") }
        default:
            let where_ = node.inputs.first { maps[$0] != nil && axis(of: $0) != 1 }.map { "'\($0)' has its channels on axis \(axis(of: $0))" } ?? ""
            unknown(node, why: "\(op) '\(node.label)' reads channels laid out last (\(where_)); the analysis follows them only through " +
                "pointwise ops, Add/Sub/Mul/Div, LayerNormalization, MatMul and Transpose")
        }
    }

    /// Add / Sub / Mul / Div: inputs carrying channels on the same axis (counted from the end,
    /// as broadcasting aligns them) are one channel set; a constant with one value per channel
    /// on that axis is a per-channel site. With no input carrying channels, the axis is 1.
    mutating func elementwise(_ node: Node) {
        guard let outShape = shapes.shape(node.outputs[0]), outShape.count >= 2 else {
            // No channel axis we can see: whatever channels flow in are pinned.
            for v in node.inputs { if let m = maps[v] { block(m, "'\(node.label)' has an unknown output shape") } }
            return
        }
        var candidates = Set<Int>()
        for v in node.inputs where !v.isEmpty {
            guard let m = maps[v], let s = shapes.shape(v), axis(of: v) < s.count, s[axis(of: v)] == m.count else { continue }
            let a = axis(of: v) + outShape.count - s.count
            if outShape[a] == m.count { candidates.insert(a) }
        }
        guard candidates.count <= 1 else {
            return unknown(node, why: "'\(node.label)' combines values whose channels lie on different axes \(candidates.sorted())")
        }
        let outAxis = candidates.first ?? 1
        let channels = outShape[outAxis]
        var result: [Int]?
        var parameters: [(slot: Int, axis: Int)] = []
        for (slot, v) in node.inputs.enumerated() where !v.isEmpty {
            let inShape = shapes.shape(v)
            let axis = inShape.map { outAxis - (outShape.count - $0.count) }
            let width = (axis.flatMap { a in a >= 0 ? inShape?[a] : nil }) ?? 1
            if let m = maps[v] {
                guard width == channels, m.count == channels, axis == self.axis(of: v) else { continue }  // broadcast along channels
                if let r = result { for (a, b) in zip(r, m) { union(a, b) } } else { result = m }
            } else if graph.initializers[v] != nil {
                if width == channels && channels > 1, let axis { parameters.append((slot, axis)) }
            } else if width == channels && channels > 1 {
                // A computed tensor without a channel map (e.g. from shape ops): cannot follow it.
                result = result ?? fresh(channels, name: node.label, blockedBecause: "'\(node.label)' mixes in '\(v)', whose channels are unknown")
            }
        }
        let map = result ?? fresh(channels, name: node.label, blockedBecause: "'\(node.label)' combines constants only")
        for p in parameters { addSite(node.inputs[p.slot], axis: p.axis, map, .perChannel, node) }
        maps[node.outputs[0]] = map
        setAxis(node.outputs[0], outAxis)
    }

    /// LayerNormalization over the axes from `axis` on. Over the channel axis alone (the last),
    /// its scale and bias hold one value per channel and are sliced; the statistics then cover
    /// the kept channels only, so pruning changes them (Torch-Pruning prunes LayerNorm so too).
    /// Over axes after the channels it is per channel; over the channels and more it is pinned.
    mutating func layerNorm(_ node: Node, x: [Int]) {
        let label = "LayerNormalization '\(node.label)'"
        guard let rank = shapes.shape(node.inputs[0])?.count else { return unknown(node, why: "\(label) has an input of unknown rank") }
        var a = node.int("axis") ?? -1
        if a < 0 { a += rank }
        let c = axis(of: node.inputs[0])
        if a == c && c == rank - 1 {
            for slot in [1, 2] { perChannelParameter(node, slot: slot, map: x, role: .perChannel) }
        } else if a <= c {
            return unknown(node, why: "\(label) normalizes over axes \(a)..<\(rank), the channels (axis \(c)) together with others")
        }
        maps[node.outputs[0]] = x
        setAxis(node.outputs[0], c)
    }

    /// MatMul by a constant [K, M]: a linear layer on the last axis. The input's channels must
    /// lie on that axis (always so for [N, K]); the output's last axis is a new channel set.
    mutating func matmul(_ node: Node) {
        let rank = shapes.shape(node.inputs[0])?.count ?? 2
        guard let w = initializer(node, 1), w.rank == 2, rank >= 2 else {
            return unknown(node, why: "MatMul '\(node.label)' is not [N, K] (or [..., K]) × constant [K, M]")
        }
        if rank > 2 {
            guard let m = maps[node.inputs[0]] else { return unknown(node, why: "MatMul '\(node.label)' reads a value of unknown channels") }
            guard axis(of: node.inputs[0]) == rank - 1 else {
                return unknown(node, why: "MatMul '\(node.label)' contracts axis \(rank - 1), but the channels are on axis \(axis(of: node.inputs[0]))")
            }
            guard m.count == w.shape[0] else { return unknown(node, why: "MatMul '\(node.label)' expects \(w.shape[0]) input features") }
        }
        if let x = features(node.inputs[0], width: w.shape[0]) {
            addSite(node.inputs[1], axis: 0, x, .consumer, node)
        } else if let m = maps[node.inputs[0]] {
            block(m, "MatMul '\(node.label)' expects \(w.shape[0]) input features")
        }
        let outMap = fresh(w.shape[1], name: node.label)
        addSite(node.inputs[1], axis: 1, outMap, .producer, node)
        maps[node.outputs[0]] = outMap
        setAxis(node.outputs[0], rank - 1)
    }
}
