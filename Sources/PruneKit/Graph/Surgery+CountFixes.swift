/// Rewrites the integers that spell out kept-channel counts (Split sizes, Slice bounds,
/// channel-shuffle reshape targets) after channels are removed.
extension Graph {
    /// Applies every fix whose counts changed; a constant input shared with other nodes is
    /// not overwritten but replaced, for this node alone, by its own copy.
    mutating func applyCountFixes(_ fixes: [CountFix], removed: Set<Int>) throws {
        var detached = Set<String>()
        for fix in fixes {
            var values = fix.values
            for e in fix.entries {
                let kept = e.channels.filter { !removed.contains($0) }.count
                values[e.index] = Int64(kept / e.divisor)
            }
            if let k = fix.outputs.firstIndex(where: { $0.allSatisfy(removed.contains) }) {
                throw SurgeryError.emptyOutput(node: nodes[fix.node].label, opType: nodes[fix.node].opType, output: k)
            }
            guard values != fix.values else { continue }
            switch fix.target {
            case let .attribute(name):
                nodes[fix.node][attribute: name] = .ints(values.map(Int.init))
            case let .input(slot):
                if let old = setOwnConstant(node: fix.node, slot: slot, Tensor(shape: [values.count], int64s: values)) {
                    detached.insert(old)
                }
                // Explicit sizes replace opset 18's equal split into num_outputs parts.
                if nodes[fix.node].opType == "Split" { nodes[fix.node][attribute: "num_outputs"] = nil }
            }
        }
        let read = Set(nodes.flatMap(\.inputs)).union(outputs.map(\.name))
        for name in detached where !read.contains(name) { removeInitializer(name) }
    }

    /// Writes each identity Gather's indices for the kept channels: 0..<n in the shape with
    /// the kept count on axis 1.
    mutating func applyIdentityGathers(_ fixes: [IdentityGatherFix], removed: Set<Int>) {
        for fix in fixes {
            var shape = fix.shape
            shape[1] = fix.channels.filter { !removed.contains($0) }.count
            guard shape != fix.shape else { continue }
            let n = shape.reduce(1, *)
            if let old = setOwnConstant(node: fix.node, slot: 1, Tensor(shape: shape, int64s: (0..<Int64(n)).map { $0 })),
               !Set(nodes.flatMap(\.inputs)).contains(old) {
                removeInitializer(old)
            }
        }
    }

    /// Writes `tensor` as input `slot` of node `index`: in place when no other node reads the
    /// constant there, else under a new name. Returns the name no longer read by this node.
    mutating func setOwnConstant(node index: Int, slot: Int, _ tensor: Tensor) -> String? {
        while nodes[index].inputs.count <= slot { nodes[index].inputs.append("") }
        let current = nodes[index].inputs[slot]
        let readers = nodes.reduce(0) { $0 + $1.inputs.filter { $0 == current }.count }
        if !current.isEmpty, initializers[current] != nil, readers == 1 {
            setInitializer(current, tensor)
            return nil
        }
        let stem = "\(nodes[index].label).\(slot).pruned"
        var name = stem
        var n = 1
        let taken = Set(nodes.flatMap(\.outputs)).union(inputs.map(\.name))
        while initializers[name] != nil || taken.contains(name) { n += 1; name = "\(stem)\(n)" }
        setInitializer(name, tensor)
        nodes[index].inputs[slot] = name
        return current.isEmpty ? nil : current
    }
}
