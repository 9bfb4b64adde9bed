/// Channel-wise ops that change the spatial axes (Resize, Upsample, Pad) and Pow: they pass
/// channels through unchanged as long as their attributes leave the batch and channel axes
/// alone, and pin them (naming the node and the attribute) when they do not.
extension DependencyAnalysis {
    /// The channel count must stay as it is: scales 1 on axes 0 and 1, and sizes that spell
    /// the channel count out either as a constant surgery rewrites, or from the input's own
    /// Shape at run time.
    mutating func resize(_ node: Node, index: Int, x: [Int]) {
        let label = "\(node.opType) '\(node.label)'"
        let opset = graph.model.defaultOpset
        guard let rank = shapes.shape(node.inputs[0])?.count, rank >= 2 else {
            return unknown(node, why: "\(label) has an input of unknown rank")
        }
        if node.string("coordinate_transformation_mode") == "tf_crop_and_resize" {
            return unknown(node, why: "\(label) has coordinate_transformation_mode tf_crop_and_resize, whose roi may crop channels")
        }
        let axes = node.ints("axes")?.map { $0 < 0 ? $0 + rank : $0 }
        if let axes, axes.contains(1) { return unknown(node, why: "\(label) lists the channel axis in its axes \(axes)") }
        if (node.string("keep_aspect_ratio_policy") ?? "stretch") != "stretch", axes == nil {
            return unknown(node, why: "\(label) keeps an aspect ratio over every axis, channels included")
        }
        let listed = axes ?? Array(0..<rank)
        var scales: [Float]?
        if node.opType == "Upsample", case let .floats(v)? = node[attribute: "scales"] {
            scales = v
        } else {
            let slot = node.opType == "Upsample" || opset < 11 ? 1 : 2
            scales = ShapeInference.floatConstant(node, slot: slot, graph: graph)
            guard scales != nil else { return unknown(node, why: "\(label) takes its scales from a value computed at run time") }
        }
        if let scales, !scales.isEmpty {
            guard scales.count == listed.count else { return unknown(node, why: "\(label) has \(scales.count) scales for rank \(rank)") }
            for (axis, s) in zip(listed, scales) where axis < 2 && s != 1 {
                return unknown(node, why: "\(label) scales the \(axis == 0 ? "batch" : "channel") axis by \(s)")
            }
        } else if node.inputs.count > 3, !node.inputs[3].isEmpty, let channelAt = listed.firstIndex(of: 1) {
            let sizes = node.inputs[3]
            if let t = graph.initializers[sizes] {
                let values = t.int64s()
                guard channelAt < values.count, values[channelAt] == Int64(x.count) else {
                    return unknown(node, why: "\(label) resizes the channel axis to sizes \(values)")
                }
                // Surgery writes the kept channel count, into a copy of its own where the
                // exporter shares the constant with another node.
                countFixes.append(CountFix(node: index, target: .input(3), values: values,
                                           entries: [CountFix.Entry(index: channelAt, channels: x)]))
            } else if !followsShape(sizes, position: channelAt, of: x, depth: 0) {
                return unknown(node, why: "\(label) takes its sizes from '\(sizes)', whose channel count the analysis cannot follow")
            }
        } else if node.inputs.count <= 3 || node.inputs[3].isEmpty {
            return unknown(node, why: "\(label) has neither scales nor sizes")
        }
        maps[node.outputs[0]] = x
    }

    /// Whether entry `position` of the 1-D integer value `value` is, at run time, the channel
    /// count of a tensor carrying channels `x` (read by Shape), through the Slice, Gather,
    /// Concat, Cast, (Un)Squeeze chains exporters build sizes with.
    mutating func followsShape(_ value: String, position: Int, of x: [Int], depth: Int) -> Bool {
        guard depth < 16, let p = graph.producers()[value] else { return false }
        let node = graph.nodes[p]
        let source = node.inputs.first ?? ""
        func constant(_ slot: Int) -> [Int]? {
            slot < node.inputs.count ? shapes.constants[node.inputs[slot]].map { $0.map(Int.init) } : nil
        }
        switch node.opType {
        case "Shape":
            guard let m = maps[source], m.count == x.count, position + (node.int("start") ?? 0) == 1 else { return false }
            return zip(m, x).allSatisfy { find($0) == find($1) }
        case "Identity", "Cast", "Unsqueeze", "Squeeze":
            return followsShape(source, position: position, of: x, depth: depth + 1)
        case "Gather":
            guard (node.int("axis") ?? 0) == 0, let indices = constant(1), position < indices.count, indices[position] >= 0 else { return false }
            return followsShape(source, position: indices[position], of: x, depth: depth + 1)
        case "Slice":
            guard let starts = constant(1), starts.count == 1, starts[0] >= 0, (constant(4) ?? [1]) == [1], (constant(3) ?? [0]) == [0] else {
                return false
            }
            return followsShape(source, position: position + starts[0], of: x, depth: depth + 1)
        case "Concat":
            var offset = 0
            for part in node.inputs {
                guard let n = shapes.shape(part)?.first, shapes.shape(part)?.count == 1 else { return false }
                if position < offset + n { return followsShape(part, position: position - offset, of: x, depth: depth + 1) }
                offset += n
            }
            return false
        default:
            return false
        }
    }

    /// Pads on the spatial axes only; the pads must be known before run time.
    mutating func pad(_ node: Node, x: [Int]) {
        let label = "Pad '\(node.label)'"
        guard let rank = shapes.shape(node.inputs[0])?.count, rank >= 2 else {
            return unknown(node, why: "\(label) has an input of unknown rank")
        }
        do {
            guard let p = try ShapeInference.padParameters(node, rank: rank, graph: graph, shapes: shapes) else {
                return unknown(node, why: "\(label) takes its pads from a value computed at run time")
            }
            for axis in 0..<2 where p.begins[axis] != 0 || p.ends[axis] != 0 {
                let what = axis == 0 ? "batch" : "channel"
                return unknown(node, why: "\(label) pads the \(what) axis (pads \(p.begins[axis]) before, \(p.ends[axis]) after)")
            }
        } catch {
            return unknown(node, why: "\(label): \(error)")
        }
        maps[node.outputs[0]] = x
    }

    /// x^e with a scalar exponent is elementwise; any other exponent pins.
    mutating func pow(_ node: Node, x: [Int]) {
        guard node.inputs.count > 1 else { return unknown(node, why: "Pow '\(node.label)' has no exponent") }
        let exponent = node.inputs[1]
        guard maps[exponent] == nil, let shape = shapes.shape(exponent), shape.reduce(1, *) == 1 else {
            return unknown(node, why: "Pow '\(node.label)' has an exponent that is not a scalar constant")
        }
        maps[node.outputs[0]] = x
    }
}
