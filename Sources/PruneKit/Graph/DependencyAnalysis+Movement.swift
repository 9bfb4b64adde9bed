/// Ops that move channels without computing on them: Split and Slice along the channel axis
/// (each output carries its slice of the input's channel map, the inverse of Concat),
/// Transpose, and the channel shuffle of ShuffleNet (Reshape → Transpose → Reshape).
/// Surgery rewrites the counts they spell out from the `CountFix`es recorded here.
extension DependencyAnalysis {
    /// Along the channel axis, output k carries part k of the input's channels and surgery
    /// writes the kept counts as the sizes; along another axis, every output carries them all.
    mutating func split(_ node: Node, index: Int, x: [Int]) {
        let label = "Split '\(node.label)'"
        let opset = graph.model.defaultOpset
        guard let shape = shapes.shape(node.inputs[0]), shape.count >= 2, shape[1] == x.count else {
            return unknown(node, why: "\(label) has an input of unknown shape")
        }
        guard let parts = shapes.splitParts(node, input: shape, opset: opset) else {
            return unknown(node, why: "\(label) has sizes computed at run time, or sizes that do not fit its input \(shape)")
        }
        guard parts.axis == 1 else {
            for o in node.outputs where !o.isEmpty { maps[o] = x }
            return
        }
        let target: CountFix.Target
        if opset < 13 {
            target = .attribute("split")
        } else {
            if node.inputs.count > 1, !node.inputs[1].isEmpty, graph.initializers[node.inputs[1]] == nil {
                return unknown(node, why: "\(label) takes its sizes from '\(node.inputs[1])', which is computed, not a constant")
            }
            target = .input(1)
        }
        var offset = 0
        var entries: [CountFix.Entry] = []
        for (k, n) in parts.sizes.enumerated() {
            let part = Array(x[offset..<(offset + n)])
            offset += n
            if !node.outputs[k].isEmpty { maps[node.outputs[k]] = part }
            entries.append(CountFix.Entry(index: k, channels: part))
        }
        countFixes.append(CountFix(node: index, target: target, values: parts.sizes.map(Int64.init), entries: entries,
                                   outputs: entries.map(\.channels)))
    }

    /// A Slice taking consecutive channels (step 1, constant bounds) carries those channels;
    /// surgery moves its bounds to the kept channels before and within the slice. A Slice
    /// leaving the channel axis alone passes every channel through.
    mutating func slice(_ node: Node, index: Int, x: [Int]) {
        let label = "Slice '\(node.label)'"
        let opset = graph.model.defaultOpset
        guard let shape = shapes.shape(node.inputs[0]), shape.count >= 2, shape[1] == x.count,
              let ranges = shapes.sliceRanges(node, input: shape, opset: opset) else {
            return unknown(node, why: "\(label) indexes into channels with bounds computed at run time")
        }
        guard let i = ranges.firstIndex(where: { $0.axis == 1 }) else {
            maps[node.outputs[0]] = x
            return
        }
        let r = ranges[i].range
        guard r.step == 1 else {
            return unknown(node, why: "\(label) takes every \(r.step)th channel, which the analysis does not follow")
        }
        var bounds: [(CountFix.Target, [Int64])] = []
        for (slot, name) in [(1, "starts"), (2, "ends")] {
            if opset < 10, let v = node.ints(name) {
                bounds.append((.attribute(name), v.map(Int64.init)))
            } else if opset >= 10, let t = graph.initializers[node.inputs[slot]] {
                bounds.append((.input(slot), t.int64s()))
            } else {
                return unknown(node, why: "\(label) takes its \(name) from a value computed, not a constant")
            }
        }
        let before = Array(x[..<r.first]), taken = Array(x[r.first..<(r.first + r.count)])
        countFixes.append(CountFix(node: index, target: bounds[0].0, values: bounds[0].1, entries: [CountFix.Entry(index: i, channels: before)]))
        countFixes.append(CountFix(node: index, target: bounds[1].0, values: bounds[1].1,
                                   entries: [CountFix.Entry(index: i, channels: before + taken)], outputs: [taken]))
        maps[node.outputs[0]] = taken
    }

    /// Moves the channel map to wherever the perm puts its axis: axis 1 (axes 0 and 1 kept, or
    /// back from channels last) or the last axis (to channels last, ConvNeXt's [0, 2, 3, 1]).
    /// The batch axis must stay first; anywhere else the channels are pinned.
    mutating func transpose(_ node: Node, x: [Int]) {
        guard let rank = shapes.shape(node.inputs[0])?.count else {
            return unknown(node, why: "Transpose '\(node.label)' has an input of unknown rank")
        }
        let perm = node.ints("perm") ?? Array((0..<rank).reversed())
        let from = axis(of: node.inputs[0])
        guard perm.count == rank, rank >= 2, Set(perm) == Set(0..<rank), perm[0] == 0, let to = perm.firstIndex(of: from),
              to == 1 || to == rank - 1 else {
            return unknown(node, why: "Transpose '\(node.label)' (perm \(perm)) moves the channels from axis \(from) to one other " +
                "than 1 or the last, or moves the batch axis")
        }
        maps[node.outputs[0]] = x
        setAxis(node.outputs[0], to)
    }

    /// ShuffleNet's channel shuffle: Reshape [N, C, ...] → [N, g, C/g, ...], Transpose
    /// swapping axes 1 and 2, Reshape back to [N, C, ...]. Channel c = i·(C/g) + j goes to
    /// j·g + i. The reshapes need the same count kept in each of the g interleaved sets, and
    /// the kept channels must stay in order, so in-set index j is kept or removed in every
    /// set at once (as a grouped conv's in-group index). Returns false when `node` does not
    /// start the pattern.
    mutating func channelShuffle(_ node: Node, index: Int, x: [Int], from inShape: [Int], to outShape: [Int]) -> Bool {
        let rank = inShape.count
        guard rank >= 2, outShape[0] == inShape[0], outShape[1] > 1, outShape[1] * outShape[2] == inShape[1],
              Array(outShape[3...]) == Array(inShape[2...]), x.count == inShape[1] else { return false }
        let consumers = graph.consumers()
        let outputs = Set(graph.outputs.map(\.name))
        guard let t = consumers[node.outputs[0]], t.count == 1, !outputs.contains(node.outputs[0]) else { return false }
        let transpose = graph.nodes[t[0].node]
        guard transpose.opType == "Transpose", transpose.ints("perm") == [0, 2, 1] + Array(3...rank),
              let r = consumers[transpose.outputs[0]], r.count == 1, r[0].slot == 0, !outputs.contains(transpose.outputs[0]) else {
            return false
        }
        let back = graph.nodes[r[0].node]
        guard back.opType == "Reshape", shapes.shape(back.outputs[0]) == inShape else { return false }
        claimed.formUnion([t[0].node, r[0].node])
        let g = outShape[1], m = outShape[2]
        guard let first = graph.initializers[node.inputs[1]], let second = graph.initializers[back.inputs[1]] else {
            let why = "channel shuffle (Reshape-Transpose-Reshape) at node '\(node.label)' reshapes to a shape computed at run time, " +
                "so it is not pruned through"
            block(x, why)
            maps[back.outputs[0]] = fresh(x.count, name: back.label, blockedBecause: why)
            return true
        }
        for j in 0..<m { for i in 1..<g { union(x[j], x[i * m + j]) } }
        maps[back.outputs[0]] = (0..<x.count).map { p in x[(p % g) * m + p / g] }
        countFixes.append(CountFix(node: index, target: .input(1), values: first.int64s(),
                                   entries: [CountFix.Entry(index: 2, channels: x, divisor: g)]))
        countFixes.append(CountFix(node: r[0].node, target: .input(1), values: second.int64s(),
                                   entries: [CountFix.Entry(index: 1, channels: x)]))
        return true
    }
}

extension DependencyAnalysis {
    /// A Reshape and Gather that give the value back unchanged (`Graph.identityGather`): the
    /// channels pass; surgery writes the indices for the kept count. Returns false when the
    /// Reshape at `index` does not start the pattern.
    mutating func identityGather(_ index: Int, x: [Int], from inShape: [Int]) -> Bool {
        guard inShape.count >= 2, inShape[1] == x.count,
              let g = graph.identityGather(after: index, inputShape: inShape, consumers: graph.consumers()) else { return false }
        claimed.insert(g)
        maps[graph.nodes[g].outputs[0]] = x
        identityGathers.append((g, x, inShape))
        return true
    }
}
