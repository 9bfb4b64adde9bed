/// For models whose BN was folded into the conv at export (PyTorch's default), there is no BN
/// node to recalibrate; the same effect comes from a per-channel affine correction of the conv
/// (ALGORITHM.md §5): each kept channel's pre-activation y becomes a·y + c, with a and c chosen
/// so that its mean and variance on the data are again what the unpruned model's channel had.
///
/// Layers are corrected in topological order, each measured after the ones before it were
/// corrected, so every correction sees the inputs it will see in use.
public enum FoldedBatchNormCorrection {
    /// The convs to correct, in topological order: those whose input changed because of pruning
    /// (a layer upstream, or this one, reads fewer channels than before) and whose output
    /// feeds no BatchNormalization (those are recalibrated instead).
    public static func targets(pruned: Graph, original: Graph) -> [Node] {
        let readers = pruned.consumers()
        var changed = Set<String>()
        var targets: [Node] = []
        for index in pruned.topologicalOrder() {
            let node = pruned.nodes[index]
            let upstream = node.inputs.contains { changed.contains($0) }
            let narrowed = readsFewerChannels(node, pruned: pruned, original: original)
            guard upstream || narrowed else { continue }
            changed.formUnion(node.outputs.filter { !$0.isEmpty })
            guard node.opType == "Conv", let y = node.outputs.first else { continue }
            let feedsBatchNorm = (readers[y] ?? []).contains { pruned.nodes[$0.node].opType == "BatchNormalization" }
            if !feedsBatchNorm { targets.append(node) }
        }
        return targets
    }

    /// A conv or linear layer whose weight lost input channels.
    private static func readsFewerChannels(_ node: Node, pruned: Graph, original: Graph) -> Bool {
        guard ["Conv", "Gemm", "MatMul"].contains(node.opType), node.inputs.count > 1,
              let now = pruned.initializers[node.inputs[1]], let before = original.initializers[node.inputs[1]],
              now.rank >= 2, now.rank == before.rank
        else { return false }
        let axis: Int
        switch node.opType {
        case "Gemm": axis = node.int("transB") == 1 ? 1 : 0
        case "MatMul": axis = 0
        default: axis = 1
        }
        return now.shape[axis] < before.shape[axis]
    }

    /// Corrects `model` (pruned) towards `reference` (unpruned) on `indices` of `data`;
    /// `keptRows[w]` maps row j of a pruned weight `w` to its original row. Returns the labels
    /// of the layers corrected. `checkpoint` gets the fraction done between batches.
    @discardableResult
    public static func correct(_ model: inout ClassifierGraph, reference: ClassifierGraph, original: Graph, keptRows: [String: [Int]],
                               data: TrainingData, indices: [Int], batchSize: Int,
                               checkpoint: (Double) throws -> Void = { _ in }) throws -> [String] {
        let layers = targets(pruned: model.graph, original: original)
        guard !layers.isEmpty, !indices.isEmpty else { return [] }
        let batches = BatchOrder.inOrder(indices, size: batchSize)
        let passes = Double(layers.count + 1)
        let outputs = layers.map { $0.outputs[0] }
        let target = try moments(of: outputs, in: reference, data: data, batches: batches) { try checkpoint($0 / passes) }
        for (l, layer) in layers.enumerated() {
            let now = try moments(of: [layer.outputs[0]], in: model, data: data, batches: batches) {
                try checkpoint((Double(l + 1) + $0) / passes)
            }[0]
            try apply(layer, measured: now, target: target[l], keptRows: keptRows[layer.inputs[1]], to: &model.graph)
        }
        try checkpoint(1)
        return layers.map(\.label)
    }

    /// Per-channel moments of each of `values` over all `batches`, in one pass.
    private static func moments(of values: [String], in model: ClassifierGraph, data: TrainingData, batches: [[Int]],
                                progress: (Double) throws -> Void) throws -> [ChannelMoments] {
        var result: [ChannelMoments?] = Array(repeating: nil, count: values.count)
        for (b, batch) in batches.enumerated() {
            try progress(Double(b) / Double(batches.count))
            let fetched = try model.run(data.inputs(batch), fetching: values)
            for (i, name) in values.enumerated() {
                let x = fetched[name]!
                if result[i] == nil { result[i] = ChannelMoments(channels: x.shape[1]) }
                result[i]!.add(x)
            }
        }
        return result.map { $0! }
    }

    /// Scales row j of the weight by a_j and sets bias_j to a_j·bias_j + c_j (adding a bias when
    /// the conv had none), in the tensors' own dtypes.
    private static func apply(_ layer: Node, measured: ChannelMoments, target: ChannelMoments, keptRows: [Int]?,
                              to graph: inout Graph) throws {
        guard let weight = graph.initializers[layer.inputs[1]] else { throw CalibrationError.layerParameters(node: layer.label) }
        let rows = weight.shape[0]
        let original = keptRows ?? Array(0..<rows)
        guard original.count == rows, measured.sum.count == rows else { throw CalibrationError.layerParameters(node: layer.label) }
        let biasName = layer.inputs.count > 2 && !layer.inputs[2].isEmpty ? layer.inputs[2] : nil
        if let biasName, graph.initializers[biasName] == nil { throw CalibrationError.layerParameters(node: layer.label) }
        let (mean, variance) = (measured.mean, measured.variance)
        let (goalMean, goalVariance) = (target.mean, target.variance)
        var scale = [Float](repeating: 1, count: rows)
        var shift = [Float](repeating: 0, count: rows)
        for j in 0..<rows {
            let k = original[j]
            // A channel that is constant on the data can only be shifted.
            let a = variance[j] > 1e-12 ? (goalVariance[k] / variance[j]).squareRoot() : 1
            scale[j] = Float(a)
            shift[j] = Float(goalMean[k] - a * mean[j])
        }
        var w = weight.floats()
        let perRow = w.count / max(rows, 1)
        for j in 0..<rows { for i in (j * perRow)..<((j + 1) * perRow) { w[i] *= scale[j] } }
        graph.setInitializer(layer.inputs[1], Tensor(shape: weight.shape, floats: w, dtype: weight.dtype))

        let oldBias = biasName.flatMap { graph.initializers[$0] }
        let b = oldBias?.floats() ?? [Float](repeating: 0, count: rows)
        let corrected = (0..<rows).map { scale[$0] * b[$0] + shift[$0] }
        let name = biasName ?? Self.newBiasName(for: layer, in: graph)
        graph.setInitializer(name, Tensor(shape: [rows], floats: corrected, dtype: oldBias?.dtype ?? weight.dtype))
        if biasName == nil, let index = graph.nodes.firstIndex(where: { $0.outputs == layer.outputs && $0.opType == "Conv" }) {
            graph.nodes[index].inputs = Array(graph.nodes[index].inputs.prefix(2)) + [name]
        }
    }

    /// `<module>.bias` beside a `<module>.weight`, else `<node>.bias`, never an existing name.
    private static func newBiasName(for layer: Node, in graph: Graph) -> String {
        let w = layer.inputs[1]
        var name = w.hasSuffix(".weight") ? String(w.dropLast(7)) + ".bias" : "\(layer.label).bias"
        while graph.initializers[name] != nil { name += "_" }
        return name
    }
}
