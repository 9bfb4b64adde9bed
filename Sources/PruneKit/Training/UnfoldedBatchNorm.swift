/// BN put back behind the convs an export folded it into, for the data stages (ALGORITHM.md §5).
///
/// Most exports fold BN into the conv, leaving nothing to recalibrate and a net that trains
/// worse than the one it came from. Here every conv whose output feeds no BatchNormalization
/// gets one for the data stages: its γ and β are the standard deviation and mean that the
/// unpruned model's channel had on the data, so that recalibrating its running statistics
/// (`BatchNormRecalibration`, as PyTorch would) brings each kept channel's pre-activation mean
/// and variance back to the unpruned model's — the folded-BN correction — and fine-tuning
/// trains conv + BN as the model was trained. Afterwards `fold` puts it back into the conv:
/// each row of the weight times its gain γ/√(var + ε), the bias β − gain·mean.
///
/// The conv's weight itself is left as it is: in a multi-task model its shared rows stay one
/// filter (the bank), and what differs per task is the BN — a per-task gain and bias.
public struct UnfoldedBatchNorm: Sendable {
    /// One conv with a BN behind it.
    public struct Site: Sendable, Equatable {
        /// The conv's node label, its weight, and the bias it had (moved into the BN's shift).
        public var conv: String
        public var weight: String
        public var bias: String?
        /// The conv's output while the BN is in (the BN writes the conv's own output name);
        /// unique, unlike node names, so it is how `fold` finds the two nodes again.
        public var raw: String
        /// The inserted BN's node name and tensors.
        public var node: String
        public var scale: String
        public var shift: String
        public var mean: String
        public var variance: String
    }

    public let sites: [Site]
    static let epsilon: Float = 1e-5

    /// The convs that get a BN: every Conv whose output no BatchNormalization reads, whose
    /// weight is an initializer no other node reads (a weight tied between convs could take
    /// only one of their gains), in graph order.
    public static func convs(of graph: Graph) -> [Node] {
        let readers = graph.consumers()
        var weightReaders: [String: Int] = [:]
        for node in graph.nodes { for input in Set(node.inputs) { weightReaders[input, default: 0] += 1 } }
        return graph.nodes.filter { node in
            guard node.opType == "Conv", node.inputs.count > 1, graph.initializers[node.inputs[1]] != nil, weightReaders[node.inputs[1]] == 1,
                  let y = node.outputs.first else { return false }
            return !(readers[y] ?? []).contains { graph.nodes[$0.node].opType == "BatchNormalization" }
        }
    }

    /// Inserts the BNs into `graph`. `goal[output]` is the unpruned model's per-channel mean and
    /// variance of that conv output on the data, indexed by the pruned model's rows.
    /// Running statistics start at mean 0, variance 1: recalibration is what sets them.
    static func unfold(_ graph: inout Graph, goal: [String: (mean: [Double], variance: [Double])]) throws -> UnfoldedBatchNorm {
        var sites: [Site] = []
        var taken = Set(graph.initializers.keys)
        for value in graph.nodes.flatMap(\.outputs) { taken.insert(value) }
        func fresh(_ base: String) -> String {
            var name = base
            while taken.contains(name) { name += "_" }
            taken.insert(name)
            return name
        }
        for conv in convs(of: graph) {
            let y = conv.outputs[0]
            guard let index = graph.nodes.firstIndex(of: conv), let weight = graph.initializers[conv.inputs[1]],
                  let target = goal[y], target.mean.count == weight.shape[0] else { throw CalibrationError.layerParameters(node: conv.label) }
            let rows = weight.shape[0]
            let module = conv.inputs[1].hasSuffix(".weight") ? String(conv.inputs[1].dropLast(7)) : conv.label
            let bias = conv.inputs.count > 2 && !conv.inputs[2].isEmpty ? conv.inputs[2] : nil
            let raw = fresh("\(y).unfolded")
            let site = Site(conv: conv.label, weight: conv.inputs[1], bias: bias, raw: raw, node: fresh("\(module).unfolded_bn"),
                            scale: fresh("\(module).unfolded_bn.weight"), shift: fresh("\(module).unfolded_bn.bias"),
                            mean: fresh("\(module).unfolded_bn.running_mean"), variance: fresh("\(module).unfolded_bn.running_var"))
            let dtype = weight.dtype
            // √(var + ε), as the BN divides by: a channel whose moments come back unchanged then
            // folds to gain 1 exactly, however small its variance.
            graph.setInitializer(site.scale, Tensor(shape: [rows], floats: target.variance.map { Float(($0 + Double(Self.epsilon)).squareRoot()) }, dtype: dtype))
            graph.setInitializer(site.shift, Tensor(shape: [rows], floats: target.mean.map { Float($0) }, dtype: dtype))
            graph.setInitializer(site.mean, Tensor(shape: [rows], floats: Array(repeating: 0, count: rows), dtype: dtype))
            graph.setInitializer(site.variance, Tensor(shape: [rows], floats: Array(repeating: 1, count: rows), dtype: dtype))
            graph.nodes[index].inputs = Array(conv.inputs.prefix(2))
            graph.nodes[index].outputs[0] = raw
            let bn = Node(name: site.node, opType: "BatchNormalization", inputs: [raw, site.scale, site.shift, site.mean, site.variance],
                          outputs: [y], attributes: [Attribute("epsilon", .float(Self.epsilon)), Attribute("momentum", .float(0.9))])
            graph.nodes.insert(bn, at: index + 1)
            sites.append(site)
        }
        // A bias no node reads any more is the BN's shift now.
        let read = Set(graph.nodes.flatMap(\.inputs))
        for site in sites { if let b = site.bias, !read.contains(b) { graph.removeInitializer(b) } }
        return UnfoldedBatchNorm(sites: sites)
    }

    /// Removes the BNs again: each conv gets back its bias (β − gain·mean, under its old name, or
    /// `<module>.bias` when it had none or shared it) and its output. Returns per conv weight the per-row
    /// gains, which `RowGains.apply` multiplies into the weight; the weight itself is left unscaled.
    func fold(_ graph: inout Graph) throws -> [String: [Float]] {
        var gains: [String: [Float]] = [:]
        for site in sites {
            guard let b = graph.nodes.firstIndex(where: { $0.opType == "BatchNormalization" && $0.inputs.first == site.raw }),
                  let c = graph.nodes.firstIndex(where: { $0.opType == "Conv" && $0.outputs.first == site.raw }),
                  let gamma = graph.initializers[site.scale]?.floats(), let beta = graph.initializers[site.shift]?.floats(),
                  let mean = graph.initializers[site.mean]?.floats(), let variance = graph.initializers[site.variance]?.floats(),
                  let weight = graph.initializers[site.weight] else { throw CalibrationError.layerParameters(node: site.conv) }
            let gain = zip(gamma, variance).map { g, v in g / (v + Self.epsilon).squareRoot() }
            let bias = (0..<gain.count).map { beta[$0] - gain[$0] * mean[$0] }
            // The old bias name, unless another node still reads it (exporters share equal
            // constants, such as zero biases, between layers) or an earlier conv took it back.
            let own = site.bias.flatMap { graph.initializers[$0] == nil ? $0 : nil }
            var name = own ?? (site.weight.hasSuffix(".weight") ? String(site.weight.dropLast(7)) + ".bias" : "\(site.conv).bias")
            if own == nil { while graph.initializers[name] != nil { name += "_" } }
            graph.setInitializer(name, Tensor(shape: [gain.count], floats: bias, dtype: weight.dtype))
            graph.nodes[c].inputs = Array(graph.nodes[c].inputs.prefix(2)) + [name]
            graph.nodes[c].outputs[0] = graph.nodes[b].outputs[0]
            graph.nodes.remove(at: b)
            for t in [site.scale, site.shift, site.mean, site.variance] { graph.removeInitializer(t) }
            gains[site.weight] = gain
        }
        return gains
    }

    /// The unpruned model's per-channel moments of every conv output that gets a BN, on
    /// `batches`: measured once per task, whatever is pruned (candidates differ only in rows).
    static func referenceMoments(_ reference: ClassifierGraph, data: TrainingData, batches: [[Int]],
                                 progress: (Double) throws -> Void) throws -> [String: ChannelMoments] {
        try ChannelMoments.measure(convs(of: reference.graph).map { $0.outputs[0] }, in: reference, data: data, batches: batches,
                                   progress: progress)
    }

    /// The goal of each of `convs` (a pruned model's): the unpruned channel's moments, mapped to
    /// the pruned rows through `keptRows` (by the conv's weight).
    static func goal(_ reference: [String: ChannelMoments], convs: [Node], keptRows: [String: [Int]])
        -> [String: (mean: [Double], variance: [Double])] {
        var goal: [String: (mean: [Double], variance: [Double])] = [:]
        for conv in convs {
            guard let m = reference[conv.outputs[0]] else { continue }
            let rows = keptRows[conv.inputs[1]] ?? Array(m.sum.indices)
            let (mean, variance) = (m.mean, m.variance)
            goal[conv.outputs[0]] = (rows.map { mean[$0] }, rows.map { variance[$0] })
        }
        return goal
    }
}

/// Per-row gains of a weight (a folded BN's γ/√(var + ε)): the one way they are multiplied in,
/// so that the models written and the bundle's rebuild agree to the bit.
public enum RowGains {
    /// `tensor` with slice j along `axis` times `gains[j]`, in Float, back in its dtype.
    public static func apply(_ gains: [Float], to tensor: Tensor, axis: Int = 0) -> Tensor {
        var v = tensor.floats()
        let dim = tensor.shape[axis], outer = tensor.shape[..<axis].reduce(1, *), inner = tensor.shape[(axis + 1)...].reduce(1, *)
        precondition(gains.count == dim, "\(gains.count) gains for \(dim) rows")
        for o in 0..<outer {
            for j in 0..<dim {
                let base = (o * dim + j) * inner
                for k in base..<(base + inner) { v[k] *= gains[j] }
            }
        }
        return Tensor(shape: tensor.shape, floats: v, dtype: tensor.dtype)
    }
}
