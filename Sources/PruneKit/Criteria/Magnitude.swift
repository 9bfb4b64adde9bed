/// L1 magnitude of every channel of every group (Li et al. 2017, "Pruning Filters for
/// Efficient ConvNets"): the sum of |w| over the channel's producer rows. A channel made
/// of several producer rows (a residual add, a grouped conv) sums them all.
public enum MagnitudeCriterion {
    /// Scores per group id, indexed by channel of the group.
    public static func l1(_ groups: ChannelGroups, graph: Graph) -> [Int: [Float]] {
        var indexOf: [Int: (group: Int, channel: Int)] = [:]
        for g in groups.groups { for (i, c) in g.channels.enumerated() { indexOf[c] = (g.id, i) } }
        var scores: [Int: [Float]] = [:]
        for g in groups.groups { scores[g.id] = Array(repeating: 0, count: g.size) }
        for site in groups.sites where site.role == .producer {
            guard let t = graph.initializers[site.tensor] else { continue }
            let norms = sliceL1Norms(t, axis: site.axis)
            for (position, component) in site.channels.enumerated() {
                guard let (g, i) = indexOf[component] else { continue }
                scores[g]![i] += norms[position]
            }
        }
        return scores
    }

    /// Σ|x| over each slice of `t` along `axis`, each term weighted by `outerWeights[o]` of its
    /// index `o` over the dimensions before `axis` when given (one weight per such index; for a
    /// conv's input axis, its output channels). F32 weights are read in place, not copied.
    static func sliceL1Norms(_ t: Tensor, axis: Int, outerWeights: [Float]? = nil) -> [Float] {
        let dim = t.shape[axis]
        let inner = t.shape[(axis + 1)...].reduce(1, *)
        let outer = t.shape[..<axis].reduce(1, *)
        precondition(outerWeights == nil || outerWeights!.count == outer, "one weight per index before the axis")
        var norms = Array(repeating: Float(0), count: dim)
        func accumulate(_ value: (Int) -> Float) {
            for o in 0..<outer {
                let weight = outerWeights?[o] ?? 1
                for d in 0..<dim {
                    let base = (o * dim + d) * inner
                    var s: Float = 0
                    for k in 0..<inner { s += abs(value(base + k)) }
                    norms[d] += weight * s
                }
            }
        }
        if t.dtype == .f32 {
            t.data.withUnsafeBytes { raw in accumulate { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
        } else {
            let v = t.floats()
            v.withUnsafeBufferPointer { buffer in accumulate { buffer[$0] } }
        }
        return norms
    }
}

extension MagnitudeCriterion {
    /// Li et al.'s L1 with each producer's rows scaled by |γ| of the BatchNormalization that
    /// reads the producer's output, where one does (Liu et al. 2017: a channel whose BN scale
    /// is near zero carries nothing, however large its weights). `bnScales` maps a producer
    /// node's label to its BN's γ tensor (`batchNormScales(_:)`). One score per channel of group `g`.
    public static func bnAware(ofGroup g: Int, groups: ChannelGroups, lookup: ChannelGroupLookup, graph: Graph,
                               bnScales: [String: String]) -> [Double] {
        var scores = [Double](repeating: 0, count: groups.groups[g].size)
        for s in lookup.sitesOfGroup[g] {
            let site = groups.sites[s]
            guard site.role == .producer, let t = graph.initializers[site.tensor], t.dtype.isFloatingPoint else { continue }
            let norms = sliceL1Norms(t, axis: site.axis)
            var gamma: [Float]?
            if let name = bnScales[site.node], let γ = graph.initializers[name], γ.count == norms.count { gamma = γ.floats() }
            for (p, c) in site.channels.enumerated() {
                scores[lookup.channelOf[c]] += Double(norms[p]) * Double(abs(gamma?[p] ?? 1))
            }
        }
        return scores
    }

    /// For every Conv / Gemm / MatMul whose output goes straight into a BatchNormalization, that
    /// BN's scale tensor, keyed by the producer's label (as `ChannelSite.node` names it).
    public static func batchNormScales(_ graph: Graph) -> [String: String] {
        var bnReading: [String: String] = [:]
        for node in graph.nodes where node.opType == "BatchNormalization" && node.inputs.count > 1 {
            if let x = node.inputs.first, graph.initializers[node.inputs[1]] != nil { bnReading[x] = node.inputs[1] }
        }
        var scales: [String: String] = [:]
        for node in graph.nodes where ["Conv", "Gemm", "MatMul"].contains(node.opType) {
            if let out = node.outputs.first, let gamma = bnReading[out] { scales[node.label] = gamma }
        }
        return scales
    }
}

extension MagnitudeCriterion {
    /// The output side of each channel of group `g`: the L1 norm of its consumers' input slices
    /// (next convs' input channel i, a linear's h·w columns of channel i). A channel whose
    /// readers barely look at it carries little however large its own weights.
    ///
    /// `outputGains` (`batchNormGains(_:)`), keyed by a consumer's label, weights the consumer's
    /// output channel o by |γ_o|/√(var_o + ε) of the BatchNormalization that reads it: a kept-BN
    /// export's consumer then counts as its BN-folded export's would (the same scores from both).
    /// Applied where the dimensions before the channel axis are those output channels (a conv, a
    /// linear with weight [out, in]); elsewhere the weights count as they are.
    public static func consumerL1(ofGroup g: Int, groups: ChannelGroups, lookup: ChannelGroupLookup, graph: Graph,
                                  outputGains: [String: [Float]] = [:]) -> [Double] {
        var scores = [Double](repeating: 0, count: groups.groups[g].size)
        for s in lookup.sitesOfGroup[g] {
            let site = groups.sites[s]
            guard site.role == .consumer, let t = graph.initializers[site.tensor], t.dtype.isFloatingPoint else { continue }
            let outer = t.shape[..<site.axis].reduce(1, *)
            let gains = outputGains[site.node].flatMap { $0.count == outer && outer > 1 ? $0 : nil }
            let norms = sliceL1Norms(t, axis: site.axis, outerWeights: gains)
            for (p, c) in site.channels.enumerated() { scores[lookup.channelOf[c]] += Double(norms[p]) }
        }
        return scores
    }

    /// For every Conv / Gemm / MatMul whose output goes straight into a BatchNormalization,
    /// |γ|/√(var + ε) per output channel of that BN, keyed by the layer's label: what folding the
    /// BN into the layer would scale its output rows by.
    public static func batchNormGains(_ graph: Graph) -> [String: [Float]] {
        var gainOfInput: [String: [Float]] = [:]
        for node in graph.nodes where node.opType == "BatchNormalization" && node.inputs.count > 4 {
            guard let gamma = graph.initializers[node.inputs[1]]?.floats(),
                  let variance = graph.initializers[node.inputs[4]]?.floats(), variance.count == gamma.count else { continue }
            let epsilon = node.float("epsilon") ?? 1e-5
            gainOfInput[node.inputs[0]] = zip(gamma, variance).map { abs($0) / ($1 + epsilon).squareRoot() }
        }
        var gains: [String: [Float]] = [:]
        for node in graph.nodes where ["Conv", "Gemm", "MatMul"].contains(node.opType) {
            if let out = node.outputs.first, let g = gainOfInput[out] { gains[node.label] = g }
        }
        return gains
    }
}
