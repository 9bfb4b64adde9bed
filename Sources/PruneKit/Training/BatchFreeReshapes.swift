/// Exports traced at batch 1 often flatten with a constant `Reshape` target such as `[1, 256]`,
/// which fails as soon as a mini-batch of 64 runs through it. A target whose leading 1 is the
/// batch (the reshaped value's first dimension follows the input's batch) is made batch-free by
/// turning that 1 into -1 ("whatever the other dimensions leave"), or into 0 ("copy it from the
/// input") when another dimension is already -1 and `allowzero` does not make 0 literal.
///
/// PyTorch's `as_strided` exports as Reshape [-1] and a Gather of the indices 0..<n laid out in
/// the value's batch-1 shape: it gives the value back, at batch 1 only. For the data stages the
/// Gather becomes an Identity of the Reshape's input.
///
/// The rewritten targets are new initializers, so a target another node reads is untouched, and
/// `restore` puts the model's own targets (and Gathers) back before it is written.
struct BatchFreeReshapes: Sendable {
    /// Per rewritten node (by its first output): the target it read, and the one it reads now.
    private(set) var rewritten: [String: (original: String, batchFree: String)] = [:]
    /// Identity Gathers made Identity, by output: the node as the model has it.
    private(set) var gathers: [String: Node] = [:]

    /// Rewrites `graph`'s batch-carrying constant Reshape targets; `inputShapes` are its data
    /// inputs at batch 1 and batch 2, to tell which dimensions follow the batch.
    init(_ graph: inout Graph, input: String, sampleShape: [Int]) {
        var one = ShapeInference(graph: graph, inputShapes: [input: [1] + sampleShape])
        var two = ShapeInference(graph: graph, inputShapes: [input: [2] + sampleShape])
        let readers = graph.consumers()
        for i in graph.nodes.indices where graph.nodes[i].opType == "Reshape" {
            let node = graph.nodes[i]
            guard let x = node.inputs.first, let shape = one.shape(x), two.shape(x)?.first == 2,
                  let g = graph.identityGather(after: i, inputShape: shape, consumers: readers) else { continue }
            let gather = graph.nodes[g]
            gathers[gather.outputs[0]] = gather
            graph.nodes[g] = Node(name: gather.name, opType: "Identity", inputs: [node.inputs[0]], outputs: gather.outputs)
        }
        if !gathers.isEmpty {  // the values after them follow the batch now
            one = ShapeInference(graph: graph, inputShapes: [input: [1] + sampleShape])
            two = ShapeInference(graph: graph, inputShapes: [input: [2] + sampleShape])
        }
        for i in graph.nodes.indices where graph.nodes[i].opType == "Reshape" && graph.nodes[i].domain.isEmpty {
            let node = graph.nodes[i]
            guard node.inputs.count >= 2, let output = node.outputs.first, !output.isEmpty,
                  let target = graph.initializers[node.inputs[1]], target.shape.count == 1, !target.dtype.isFloatingPoint
            else { continue }
            var dims = target.int64s()
            // The reshaped value carries the batch in its first dimension: 1 at batch 1, 2 at batch 2.
            guard dims.first == 1, one.shape(node.inputs[0])?.first == 1, two.shape(node.inputs[0])?.first == 2 else { continue }
            let literalZero = node.attributes.first(where: { $0.name == "allowzero" })?.value == .int(1)
            if !dims.contains(-1) { dims[0] = -1 } else if !literalZero { dims[0] = 0 } else { continue }
            let name = "\(node.inputs[1]).batch_free.\(i)"
            graph.setInitializer(name, Tensor(shape: target.shape, int64s: dims))
            graph.nodes[i].inputs[1] = name
            rewritten[output] = (node.inputs[1], name)
        }
    }

    /// The model's own Reshape targets back in place of the batch-free ones.
    func restore(_ graph: inout Graph) {
        for i in graph.nodes.indices {
            if let output = graph.nodes[i].outputs.first, let gather = gathers[output] { graph.nodes[i] = gather }
        }
        guard !rewritten.isEmpty else { return }
        for i in graph.nodes.indices {
            guard let output = graph.nodes[i].outputs.first, let r = rewritten[output],
                  graph.nodes[i].inputs.count >= 2, graph.nodes[i].inputs[1] == r.batchFree else { continue }
            graph.nodes[i].inputs[1] = r.original
        }
        for r in rewritten.values { graph.removeInitializer(r.batchFree) }
    }
}
