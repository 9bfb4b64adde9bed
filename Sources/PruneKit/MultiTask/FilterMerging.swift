/// What inner sharing did: in one task, dropped channel `dropped` of a group folded into kept
/// channel `into`, its consumers' input weights added to `into`'s, times `scale`.
public struct Fold: Sendable, Codable, Equatable {
    public var task: String
    public var group: String
    public var dropped: Int
    public var into: Int
    public var cosine: Double
    public var scale: Double
}

/// The weight changes of ALGORITHM.md §4, made on the tasks' full graphs before surgery:
/// folding dropped near-twins into kept filters (inner sharing), then setting every shared
/// channel's filter rows to the tasks' magnitude-weighted mean (merging).
enum FilterMerging {
    /// Float copies of the tensors being changed, written back once at the end, in their dtype.
    struct Scratch {
        var values: [String: [Float]] = [:]

        mutating func withValues(_ name: String, in graph: Graph, _ body: (inout [Float]) -> Void) {
            var v = values[name] ?? graph.initializers[name]!.floats()
            body(&v)
            values[name] = v
        }

        func write(into graph: inout Graph) {
            for (name, v) in values {
                let t = graph.initializers[name]!
                graph.initializers[name] = Tensor(shape: t.shape, floats: v, dtype: t.dtype)
            }
        }
    }

    /// Adds `scale` × the slices at positions `from` to the slices at `to`, along `axis`.
    static func addSlices(_ v: inout [Float], shape: [Int], axis: Int, from: [Int], to: [Int], scale: Float) {
        let dim = shape[axis], outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        for (f, t) in zip(from, to) {
            for o in 0..<outer {
                let src = (o * dim + f) * inner, dst = (o * dim + t) * inner
                for k in 0..<inner { v[dst + k] += scale * v[src + k] }
            }
        }
    }

    /// Folds, in task `t`, every dropped channel whose nearest kept twin is at least τ alike.
    /// The scale is ‖w_j‖/‖w_i‖, times the ratio of the channels' BN gains γ/√(var + ε) where
    /// one BN follows the group (the twins' outputs then differ by that factor, not the
    /// weights'); a pair whose gains differ in sign is not folded (ReLU does not commute).
    static func foldTwins(_ graph: inout Graph, task t: Int, aligned: AlignedTasks, evidence: [GroupEvidence],
                          keep: [[Bool]]) -> [Fold] {
        let task = aligned.tasks[t]
        var positions: [String: [Int: [Int]]] = [:]
        var consumers: [ChannelSite] = []
        for s in task.lookup.uniqueSites where task.groups.sites[s].role == .consumer {
            let site = task.groups.sites[s]
            guard let tensor = graph.initializers[site.tensor], tensor.dtype.isFloatingPoint else { continue }
            consumers.append(site)
            var map: [Int: [Int]] = [:]
            for (q, c) in site.channels.enumerated() { map[c, default: []].append(q) }
            positions["\(site.tensor)#\(site.axis)"] = map
        }
        var scratch = Scratch()
        var folds: [Fold] = []
        for (p, e) in evidence.enumerated() {
            let group = task.groups.groups[e.group]
            let gain = batchNormGain(group: e.group, task: task)
            for j in 0..<e.size where !keep[p][j] {
                guard let twin = e.twins[t][j].first(where: { keep[p][$0.channel] }), e.norms[t][twin.channel] > 0 else { continue }
                let i = twin.channel
                var scale = e.norms[t][j] / e.norms[t][i]
                if let gain {
                    let ratio = gain[j] / gain[i]
                    guard ratio.isFinite, ratio > 0 else { continue }
                    scale *= ratio
                }
                let (cj, ci) = (group.channels[j], group.channels[i])
                for site in consumers {
                    guard let map = positions["\(site.tensor)#\(site.axis)"], let from = map[cj], let to = map[ci], from.count == to.count else { continue }
                    let shape = graph.initializers[site.tensor]!.shape
                    scratch.withValues(site.tensor, in: graph) { addSlices(&$0, shape: shape, axis: site.axis, from: from, to: to, scale: Float(scale)) }
                }
                folds.append(Fold(task: task.name, group: group.name, dropped: j, into: i, cosine: twin.cosine, scale: scale))
            }
        }
        scratch.write(into: &graph)
        return folds
    }

    /// γ/√(var + ε) per channel of the group's one BatchNormalization; nil when it has none or several.
    static func batchNormGain(group g: Int, task: AlignedTasks.Task) -> [Double]? {
        let scales = task.lookup.sitesOfGroup[g].map { task.groups.sites[$0] }.filter { $0.role == .bnScale }
        guard scales.count == 1, let site = scales.first,
              let node = task.graph.nodes.first(where: { $0.label == site.node && $0.opType == "BatchNormalization" }),
              node.inputs.count > 4, let gamma = task.graph.initializers[site.tensor]?.floats(),
              let variance = task.graph.initializers[node.inputs[4]]?.floats(), variance.count == gamma.count else { return nil }
        let epsilon = Double(node.float("epsilon") ?? 1e-5)
        var gain = Array(repeating: 0.0, count: task.groups.groups[g].size)
        for (q, c) in site.channels.enumerated().reversed() {
            gain[task.lookup.channelOf[c]] = Double(gamma[q]) / (Double(variance[q]) + epsilon).squareRoot()
        }
        return gain
    }

    /// Sets the rows of every shared channel, in every filter tensor of its group and in every
    /// task that uses it, to Σ_s α_s w_s (the declared weights), computed in Double.
    static func mergeShared(_ graphs: inout [Graph], layout: BankLayout, indexes: [Int: IndexMatrix]) {
        var scratch = graphs.map { _ in Scratch() }
        for entry in layout.entries {
            guard let index = indexes[entry.group], index.sharedSlots > 0 else { continue }
            let shape = graphs[0].initializers[entry.tensor]!.shape
            let dim = shape[entry.rowAxis], outer = shape[..<entry.rowAxis].reduce(1, *)
            let inner = shape[(entry.rowAxis + 1)...].reduce(1, *)
            let values = graphs.indices.map { t in scratch[t].values[entry.tensor] ?? graphs[t].initializers[entry.tensor]!.floats() }
            var merged = values
            for filter in index.shared {
                for q in entry.rowPositions[filter.channel] {
                    for o in 0..<outer {
                        let base = (o * dim + q) * inner
                        for k in 0..<inner {
                            var mean = 0.0
                            for (s, w) in zip(filter.tasks, filter.weights) { mean += w * Double(values[s][base + k]) }
                            for s in filter.tasks { merged[s][base + k] = Float(mean) }
                        }
                    }
                }
            }
            for t in graphs.indices where index.shared.contains(where: { $0.tasks.contains(t) }) {
                scratch[t].values[entry.tensor] = merged[t]
            }
        }
        for t in graphs.indices { scratch[t].write(into: &graphs[t]) }
    }
}
