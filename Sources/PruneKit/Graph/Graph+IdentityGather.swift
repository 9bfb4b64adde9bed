extension Graph {
    /// The Gather that, after the Reshape at `reshape`, gives the Reshape's input back
    /// unchanged: the Reshape flattens to [-1] for that Gather alone (not a graph output), which
    /// takes along axis 0 the constant int64 indices 0..<n laid out in the input's own shape
    /// `inputShape`. PyTorch exports `as_strided` so (before ConvNeXt's classifier LayerNorm).
    /// nil when the Reshape does not start that pattern. The channel analysis lets channels
    /// through it, and the data stages run it as an Identity (`BatchFreeReshapes`): one test for both.
    func identityGather(after reshape: Int, inputShape: [Int], consumers: [String: [(node: Int, slot: Int)]]) -> Int? {
        let node = nodes[reshape]
        guard node.opType == "Reshape", node.domain.isEmpty, node.inputs.count >= 2, initializers[node.inputs[1]]?.int64s() == [-1],
              let readers = consumers[node.outputs[0]], readers.count == 1, readers[0].slot == 0,
              !outputs.contains(where: { $0.name == node.outputs[0] }) else { return nil }
        let gather = nodes[readers[0].node]
        guard gather.opType == "Gather", gather.domain.isEmpty, (gather.int("axis") ?? 0) == 0, gather.inputs.count == 2,
              let indices = initializers[gather.inputs[1]], indices.dtype == .i64, indices.shape == inputShape,
              indices.int64s() == (0..<Int64(indices.count)).map({ $0 }) else { return nil }
        return readers[0].node
    }
}
