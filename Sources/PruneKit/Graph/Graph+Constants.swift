extension Graph {
    /// The same graph with every constant a plain initializer: `Constant` nodes holding a tensor
    /// become initializers, and an `Identity` of an initializer becomes a copy of it under the
    /// Identity's output name.
    ///
    /// PyTorch's exporter de-duplicates equal constants (e.g. the zero biases that BN folding
    /// leaves in many convs) into one initializer read through `Identity` nodes; untied, each
    /// layer's bias can be sliced on its own, as surgery needs.
    public func constantsAsInitializers() -> Graph {
        var g = self
        var kept: [Node] = []
        kept.reserveCapacity(nodes.count)
        for node in nodes {
            if node.opType == "Constant", node.domain.isEmpty, node.outputs.count == 1, let t = node.tensor("value") {
                g.setInitializer(node.outputs[0], t)
            } else if node.opType == "Identity", node.domain.isEmpty, node.outputs.count == 1,
                      let source = node.inputs.first, let t = g.initializers[source],
                      !outputs.contains(where: { $0.name == node.outputs[0] }) {
                g.setInitializer(node.outputs[0], t)
            } else {
                kept.append(node)
            }
        }
        g.nodes = kept
        return g
    }
}
