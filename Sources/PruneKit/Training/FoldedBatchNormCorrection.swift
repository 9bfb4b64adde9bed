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

    /// One model under correction: its unpruned `reference` and `original` graph, `keptRows[w]`
    /// (row j of pruned weight `w` is its original row `keptRows[w][j]`) and `sharedRows[w]`
    /// (pruned row → bank row, for a multi-task model's shared filters).
    public struct Subject: Sendable {
        public var reference: ClassifierGraph
        public var original: Graph
        public var keptRows: [String: [Int]]
        public var sharedRows: [String: [Int: Int]]
        public init(reference: ClassifierGraph, original: Graph, keptRows: [String: [Int]], sharedRows: [String: [Int: Int]] = [:]) {
            self.reference = reference
            self.original = original
            self.keptRows = keptRows
            self.sharedRows = sharedRows
        }
    }

    /// Corrects `model` (pruned) towards `reference` (unpruned) on `indices` of `data`. Returns
    /// the labels of the layers corrected. `checkpoint` gets the fraction done between batches.
    @discardableResult
    public static func correct(_ model: inout ClassifierGraph, reference: ClassifierGraph, original: Graph, keptRows: [String: [Int]],
                               data: TrainingData, indices: [Int], batchSize: Int,
                               checkpoint: (Double) throws -> Void = { _ in }) throws -> [String] {
        var models = [model]
        let corrected = try correct(&models, subjects: [Subject(reference: reference, original: original, keptRows: keptRows)],
                                    data: data, indices: indices, batchSize: batchSize, checkpoint: checkpoint)
        model = models[0]
        return corrected[0]
    }

    /// Corrects several task models together, layer by layer in lockstep, so that a shared
    /// filter stays one filter: its row is one parameter of several tasks, so it takes one
    /// scale a (the mean of the tasks' own), while each task's shift c is its own (biases are
    /// per task, as BN is). Each task's own rows get their exact a and c. Returns per model
    /// the labels of the layers corrected.
    public static func correct(_ models: inout [ClassifierGraph], subjects: [Subject], data: TrainingData, indices: [Int], batchSize: Int,
                               checkpoint: (Double) throws -> Void = { _ in }) throws -> [[String]] {
        // Every model corrects every layer some model must: a shared filter's copies all move.
        let order = lockstepOrder(models.indices.map { targets(pruned: models[$0].graph, original: subjects[$0].original) },
                                  graph: models.first?.graph)
        let layers = models.map { m in order.compactMap { label in m.graph.nodes.first { $0.label == label && $0.opType == "Conv" } } }
        guard !order.isEmpty, !indices.isEmpty else { return layers.map { _ in [] } }
        let batches = BatchOrder.inOrder(indices, size: batchSize)
        let passes = Double(models.count + order.count * models.count)
        var done = 0.0
        func tick(_ f: Double) throws { try checkpoint((done + f) / passes) }
        var targetsOf: [[String: ChannelMoments]] = []
        for (t, subject) in subjects.enumerated() {
            let outputs = layers[t].map { $0.outputs[0] }
            let moments = try moments(of: outputs, in: subject.reference, data: data, batches: batches, progress: tick)
            targetsOf.append(Dictionary(uniqueKeysWithValues: zip(outputs, moments).map { ($0, $1) }))
            done += 1
        }
        for label in order {
            var plans: [(task: Int, layer: Node, plan: Plan)] = []
            for t in models.indices {
                guard let layer = layers[t].first(where: { $0.label == label }) else { continue }
                let now = try moments(of: [layer.outputs[0]], in: models[t], data: data, batches: batches, progress: tick)[0]
                done += 1
                let plan = try Plan(layer, measured: now, target: targetsOf[t][layer.outputs[0]]!,
                                    keptRows: subjects[t].keptRows[layer.inputs[1]], graph: models[t].graph)
                plans.append((t, layer, plan))
            }
            tieSharedScales(&plans, sharedRows: subjects.map(\.sharedRows))
            for p in plans { try apply(p.layer, plan: p.plan, to: &models[p.task].graph) }
        }
        try checkpoint(1)
        return layers.map { $0.map(\.label) }
    }

    /// The layers of every model in one order, topological in the first model's graph (the
    /// tasks are aligned: their nodes share labels and order).
    private static func lockstepOrder(_ layers: [[Node]], graph: Graph?) -> [String] {
        var position: [String: Int] = [:]
        for (i, node) in (graph?.nodes ?? []).enumerated() { position[node.label] = i }
        let labels = Set(layers.flatMap { $0.map(\.label) })
        return labels.sorted { (position[$0] ?? .max, $0) < (position[$1] ?? .max, $1) }
    }

    /// One layer's correction: row j's pre-activation y becomes scale[j]·y + shift[j].
    struct Plan {
        var scale: [Double]
        var measuredMean: [Double]
        var goalMean: [Double]

        var shift: [Double] { scale.indices.map { goalMean[$0] - scale[$0] * measuredMean[$0] } }

        init(_ layer: Node, measured: ChannelMoments, target: ChannelMoments, keptRows: [Int]?, graph: Graph) throws {
            guard let weight = graph.initializers[layer.inputs[1]] else { throw CalibrationError.layerParameters(node: layer.label) }
            let rows = weight.shape[0]
            let original = keptRows ?? Array(0..<rows)
            guard original.count == rows, measured.sum.count == rows else { throw CalibrationError.layerParameters(node: layer.label) }
            let variance = measured.variance, goalVariance = target.variance
            // A channel that is constant on the data can only be shifted.
            scale = (0..<rows).map { j in variance[j] > 1e-12 ? (goalVariance[original[j]] / variance[j]).squareRoot() : 1 }
            measuredMean = measured.mean
            let goal = target.mean
            goalMean = original.map { goal[$0] }
        }
    }

    /// Gives the rows of one shared filter (same weight, same bank row) in every task the mean
    /// of their scales; each task's shift then follows from its own measured mean.
    private static func tieSharedScales(_ plans: inout [(task: Int, layer: Node, plan: Plan)], sharedRows: [[String: [Int: Int]]]) {
        var users: [Int: [(plan: Int, row: Int)]] = [:]
        for (p, entry) in plans.enumerated() {
            for (row, bankRow) in sharedRows[entry.task][entry.layer.inputs[1]] ?? [:] { users[bankRow, default: []].append((p, row)) }
        }
        for rows in users.values where rows.count > 1 {
            let mean = rows.reduce(0.0) { $0 + plans[$1.plan].plan.scale[$1.row] } / Double(rows.count)
            for r in rows { plans[r.plan].plan.scale[r.row] = mean }
        }
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
    /// the conv had none), in the tensors' own dtypes. Rows of one shared filter get the same
    /// Float a, so their copies stay bit-identical.
    private static func apply(_ layer: Node, plan: Plan, to graph: inout Graph) throws {
        guard let weight = graph.initializers[layer.inputs[1]] else { throw CalibrationError.layerParameters(node: layer.label) }
        let rows = weight.shape[0]
        let biasName = layer.inputs.count > 2 && !layer.inputs[2].isEmpty ? layer.inputs[2] : nil
        if let biasName, graph.initializers[biasName] == nil { throw CalibrationError.layerParameters(node: layer.label) }
        let scale = plan.scale.map { Float($0) }
        let shift = plan.shift.map { Float($0) }
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
