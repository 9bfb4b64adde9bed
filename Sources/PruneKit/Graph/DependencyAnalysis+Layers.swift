/// The ops that read or reshape channels as weights see them: convs (producers, consumers,
/// groups), concat, flatten and reshape (the map repeated or laid out anew), and Gemm.
extension DependencyAnalysis {
    mutating func conv(_ node: Node, index: Int, x: [Int]?) {
        guard let w = initializer(node, 1), w.rank >= 3 else {
            return unknown(node, why: "Conv '\(node.label)' has a weight that is not a constant")
        }
        let wName = node.inputs[1]
        let groups = node.int("group") ?? 1
        let inPerGroup = w.shape[1], outChannels = w.shape[0]
        let x = x ?? fresh(inPerGroup * groups, name: "input of \(node.label)", blockedBecause: "input of '\(node.label)' has unknown channels")
        guard groups >= 1, x.count == inPerGroup * groups, outChannels % groups == 0 else {
            block(x, "Conv '\(node.label)': input has \(x.count) channels, weight \(w.shape) with group \(groups)")
            maps[node.outputs[0]] = fresh(outChannels, name: node.label, blockedBecause: "Conv '\(node.label)' has inconsistent shapes")
            return
        }
        let bias = node.inputs.count > 2 && !node.inputs[2].isEmpty ? node.inputs[2] : nil
        var outMap: [Int]
        if groups == 1 {
            addSite(wName, axis: 1, x, .consumer, node)
            outMap = fresh(outChannels, name: node.label)
        } else if inPerGroup == 1 {
            // Depthwise: output channel o reads input channel o / m only, so it is the same filter.
            let m = outChannels / groups
            outMap = (0..<outChannels).map { x[$0 / m] }
            depthwise.append((index, x))
        } else {
            // Grouped: groups must stay equal in size, so in-group index j goes in every group at once.
            let outPerGroup = outChannels / groups
            for j in 0..<inPerGroup { for g in 1..<groups { union(x[j], x[g * inPerGroup + j]) } }
            addSite(wName, axis: 1, Array(x[0..<inPerGroup]), .consumer, node)
            outMap = fresh(outChannels, name: node.label)
            for k in 0..<outPerGroup { for g in 1..<groups { union(outMap[k], outMap[g * outPerGroup + k]) } }
        }
        addSite(wName, axis: 0, outMap, .producer, node)
        if let bias {
            if graph.initializers[bias] != nil { addSite(bias, axis: 0, outMap, .perChannel, node) }
            else { block(outMap, "bias of '\(node.label)' is computed, not a constant") }
        }
        maps[node.outputs[0]] = outMap
    }

    mutating func concat(_ node: Node) {
        guard let rank = shapes.shape(node.outputs[0])?.count, var axis = node.int("axis") else {
            return unknown(node, why: "Concat '\(node.label)' has an unknown output shape")
        }
        if axis < 0 { axis += rank }
        let parts = node.inputs.map { v -> [Int]? in maps[v] }
        if axis == 1 {
            var out: [Int] = []
            for (v, part) in zip(node.inputs, parts) {
                if let part { out += part; continue }
                guard let s = shapes.shape(v), s.count == rank else { return unknown(node, why: "Concat '\(node.label)': input '\(v)' has no known channels") }
                out += fresh(s[1], name: v, blockedBecause: "constant channels concatenated in '\(node.label)'")
            }
            maps[node.outputs[0]] = out
        } else {
            // Concatenated along another axis: channel i of every input is channel i of the output.
            let present = parts.compactMap { $0 }
            guard present.count == parts.count, let first = present.first, present.allSatisfy({ $0.count == first.count }) else {
                return unknown(node, why: "Concat '\(node.label)' along axis \(axis) of inputs with unknown channels")
            }
            for p in present.dropFirst() { for (a, b) in zip(first, p) { union(a, b) } }
            maps[node.outputs[0]] = first
        }
    }

    mutating func flatten(_ node: Node, x: [Int]?, axis: Int) {
        guard let x else { return }
        guard let inShape = shapes.shape(node.inputs[0]) else {
            if axis == 1 { pendingFlatten[node.outputs[0]] = x } else { block(x, "Flatten '\(node.label)' of unknown shape") }
            return
        }
        let a = axis < 0 ? axis + inShape.count : axis
        guard a == 1 else { return block(x, "Flatten '\(node.label)' at axis \(axis) mixes channels with other axes") }
        let spatial = inShape.dropFirst(2).reduce(1, *)
        maps[node.outputs[0]] = x.flatMap { Array(repeating: $0, count: spatial) }
    }

    mutating func reshape(_ node: Node, index: Int, x: [Int]?) {
        guard let x else { return }
        guard let inShape = shapes.shape(node.inputs[0]), let outShape = shapes.shape(node.outputs[0]) else {
            return unknown(node, why: "Reshape '\(node.label)' has a shape computed at run time that the analysis cannot follow")
        }
        if inShape == outShape { maps[node.outputs[0]] = x; return }
        if outShape.count == 1, identityGather(index, x: x, from: inShape) { return }
        if outShape.count == inShape.count + 1, channelShuffle(node, index: index, x: x, from: inShape, to: outShape) { return }
        guard inShape.count >= 2, outShape.count == 2, outShape[0] == inShape[0] else {
            return unknown(node, why: "Reshape '\(node.label)' from \(inShape) to \(outShape) is not a flatten [N, -1]")
        }
        flatten(node, x: x, axis: 1)
        if let t = initializer(node, 1), t.count == 2, t.int64s()[1] != -1, let f = maps[node.outputs[0]] {
            reshapes.append((index, node.inputs[1], f))
        }
    }

    /// The consumer's input map, resolving a flatten whose h·w was unknown by the weight's width.
    mutating func features(_ value: String, width: Int) -> [Int]? {
        if let m = maps[value] { return m.count == width ? m : nil }
        guard let p = pendingFlatten[value], !p.isEmpty, width % p.count == 0 else { return nil }
        let m = p.flatMap { Array(repeating: $0, count: width / p.count) }
        maps[value] = m
        return m
    }

    mutating func gemm(_ node: Node) {
        guard let w = initializer(node, 1), w.rank == 2, node.int("transA") != 1 else {
            return unknown(node, why: "Gemm '\(node.label)' has no constant weight (or transA)")
        }
        let transB = node.int("transB") == 1
        let inAxis = transB ? 1 : 0, outAxis = transB ? 0 : 1
        let width = w.shape[inAxis]
        if let x = features(node.inputs[0], width: width) {
            addSite(node.inputs[1], axis: inAxis, x, .consumer, node)
        } else if let m = maps[node.inputs[0]] ?? pendingFlatten[node.inputs[0]] {
            block(m, "Gemm '\(node.label)' expects \(width) input features")
        }
        let outMap = fresh(w.shape[outAxis], name: node.label)
        addSite(node.inputs[1], axis: outAxis, outMap, .producer, node)
        if node.inputs.count > 2, let c = initializer(node, 2), c.count > 1 {
            if c.shape.last == outMap.count { addSite(node.inputs[2], axis: c.rank - 1, outMap, .perChannel, node) }
            else { block(outMap, "bias of '\(node.label)' has shape \(c.shape)") }
        }
        maps[node.outputs[0]] = outMap
    }
}
