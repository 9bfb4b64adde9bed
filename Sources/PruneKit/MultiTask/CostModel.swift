/// How many channels a solution keeps, in the terms the cost model reads.
struct KeptCounts {
    /// `[t * P + p]`: channels task t keeps of prunable group p.
    var kept: [Int]
    /// `[p]`: channels some task keeps.
    var union: [Int]
    /// `[p]`: shared filters (channels kept by two or more tasks with the share bit set).
    var shared: [Int]
    /// `[t * P + p]`: of task t's kept channels, those that are shared filters.
    var sharedKept: [Int]
}

/// Parameters, multiply-accumulates and bundle storage as functions of the kept counts, so the
/// optimizer prices a candidate without surgery. Every tensor slice that follows channels is a
/// product over its axes of (fixed positions + Σ multiplicity × kept channels of a group).
struct CostModel: Sendable {
    /// Positions along one axis of a tensor: those of pinned groups (fixed), and per prunable
    /// group (index into the prunable list) how many positions each of its channels owns.
    struct Axis: Sendable {
        var fixed: Double
        var parts: [(group: Int, multiplicity: Double)]

        func value(_ counts: [Int], offset: Int) -> Double {
            var v = fixed
            for part in parts { v += part.multiplicity * Double(counts[offset + part.group]) }
            return v
        }
    }

    struct Term: Sendable {
        var tensor: String
        var coefficient: Double
        var axes: [Axis]

        func value(_ counts: [Int], offset: Int) -> Double {
            var v = coefficient
            for a in axes { v *= a.value(counts, offset: offset) }
            return v
        }
    }

    /// A filter tensor stored as a shared bank plus per-task rows: its row axis follows one
    /// prunable group, `columns` are its other channel axes.
    struct BankTerm: Sendable {
        var tensor: String
        var rowAxis: Int
        var group: Int
        var coefficient: Double
        var rowMultiplicity: Double
        var columns: [Axis]
    }

    let taskCount: Int
    let groupCount: Int
    /// Per task: parameters that no pruning changes, and the terms that it does (BN running
    /// statistics are not parameters: `ModelStats.params`).
    var paramsConstant: [Double] = []
    var params: [[Term]] = []
    /// Per task, like `params`, for BN running statistics: what a model stores besides its
    /// parameters (`ModelStats.stored`).
    var statisticsConstant: [Double] = []
    var statistics: [[Term]] = []
    /// Per task, like `params`; nil when a conv or matmul has a shape the inference could not derive.
    var macsConstant: [Double]? = []
    var macs: [[Term]]? = []
    /// Filter tensors the bundle shares (empty for one task or without sharing).
    var bank: [BankTerm] = []
    var originalParams: [Double] = []
    /// Per task, the values its unpruned model stores (`ModelStats.stored`): the size objective's unit.
    var originalStored: [Double] = []
    var originalMACs: [Double]? = []
    /// Per task, the terms of stored tensors (parameters and running statistics) that are not in the bank.
    private var ownTerms: [[Term]] = []

    init(_ aligned: AlignedTasks, sharing: Bool) {
        taskCount = aligned.count
        let prunable = aligned.prunableGroups
        groupCount = prunable.count
        let full = prunable.map(\.size)
        let bankable = sharing && aligned.count >= 2 ? Self.bankable(aligned) : [:]
        for task in aligned.tasks {
            let builder = TermBuilder(task: task, prunable: prunable)
            var constant = 0.0, runningConstant = 0.0
            var terms: [String: Term] = [:]
            var variable: [Term] = [], running: [Term] = []
            let runningNames = task.graph.batchNormRunningStatistics
            for (name, tensor) in task.graph.orderedInitializers where tensor.dtype.isFloatingPoint {
                let term = builder.term(name, shape: tensor.shape)
                switch (term.axes.isEmpty, runningNames.contains(name)) {
                case (true, false): constant += term.coefficient
                case (true, true): runningConstant += term.coefficient
                case (false, false): variable.append(term); terms[name] = term
                case (false, true): running.append(term)
                }
            }
            paramsConstant.append(constant)
            params.append(variable)
            statisticsConstant.append(runningConstant)
            statistics.append(running)
            originalParams.append(constant + variable.reduce(0) { $0 + $1.value(full, offset: 0) })
            originalStored.append(originalParams[originalParams.count - 1] + running.reduce(runningConstant) { $0 + $1.value(full, offset: 0) })
            if macs != nil, let (c, m) = builder.macTerms(terms) {
                macsConstant!.append(c)
                macs!.append(m)
                originalMACs!.append(c + m.reduce(0) { $0 + $1.value(full, offset: 0) })
            } else {
                (macs, macsConstant, originalMACs) = (nil, nil, nil)
            }
            if bank.isEmpty {
                bank = bankable.sorted { $0.key < $1.key }.compactMap { builder.bankTerm($0.key, rowAxis: $0.value) }
            }
        }
        let banked = Set(bank.map(\.tensor))
        ownTerms = zip(params, statistics).map { ($0 + $1).filter { !banked.contains($0.tensor) } }
    }

    /// Parameters of task t's pruned model.
    func params(_ counts: KeptCounts, task t: Int) -> Double {
        params[t].reduce(paramsConstant[t]) { $0 + $1.value(counts.kept, offset: t * groupCount) }
    }

    /// Values task t's pruned model stores (`ModelStats.stored`).
    func stored(_ counts: KeptCounts, task t: Int) -> Double {
        statistics[t].reduce(params(counts, task: t) + statisticsConstant[t]) { $0 + $1.value(counts.kept, offset: t * groupCount) }
    }

    /// MACs per sample of task t's pruned model; nil when unknown.
    func macs(_ counts: KeptCounts, task t: Int) -> Double? {
        guard let macs, let macsConstant else { return nil }
        return macs[t].reduce(macsConstant[t]) { $0 + $1.value(counts.kept, offset: t * groupCount) }
    }

    /// Values the multi-task bundle stores (`ModelStats.stored`): each task's own tensors, plus each filter
    /// tensor's shared rows once (at the width of the channels some task keeps) and every task's
    /// private rows at its own width.
    func storage(_ counts: KeptCounts) -> Double {
        var total = 0.0
        for t in 0..<taskCount {
            total += ownTerms[t].reduce(paramsConstant[t] + statisticsConstant[t]) { $0 + $1.value(counts.kept, offset: t * groupCount) }
        }
        for b in bank {
            var sharedRows = Double(counts.shared[b.group])
            for c in b.columns { sharedRows *= c.value(counts.union, offset: 0) }
            var privateRows = 0.0
            for t in 0..<taskCount {
                var rows = Double(counts.kept[t * groupCount + b.group] - counts.sharedKept[t * groupCount + b.group])
                for c in b.columns { rows *= c.value(counts.kept, offset: t * groupCount) }
                privateRows += rows
            }
            total += b.coefficient * b.rowMultiplicity * (sharedRows + privateRows)
        }
        return total
    }

    /// Filter tensors (producer weights of a prunable group, rank ≥ 2) whose shape is the same
    /// in every task, by name, with their row axis. Biases stay per task, like BN: in a
    /// BN-folded export the bias carries the task's BN shift, and the folded-BN correction
    /// needs to move it per task under a shared filter.
    static func bankable(_ aligned: AlignedTasks) -> [String: Int] {
        let task = aligned.tasks[0]
        let prunable = Set(aligned.prunableGroups.map(\.id))
        var opOf: [String: String] = [:]
        for node in task.graph.nodes { opOf[node.label] = node.opType }
        var result: [String: Int] = [:]
        for s in task.lookup.uniqueSites {
            let site = task.groups.sites[s]
            let isFilter = site.role == .producer || (site.role == .perChannel && ["Conv", "Gemm", "MatMul"].contains(opOf[site.node] ?? ""))
            guard isFilter, let g = task.lookup.group(of: site), prunable.contains(g),
                  let tensor = task.graph.initializers[site.tensor], tensor.dtype.isFloatingPoint, tensor.rank >= 2,
                  aligned.tasks.allSatisfy({ $0.graph.initializers[site.tensor]?.shape == tensor.shape }) else { continue }
            result[site.tensor] = result[site.tensor] ?? site.axis
        }
        return result
    }
}

/// Turns one task's tensors and nodes into cost terms.
private struct TermBuilder {
    let task: AlignedTasks.Task
    /// Prunable group id → its index in the prunable list, and the groups' sizes.
    let index: [Int: Int]
    let sizes: [Int]
    let sitesOf: [String: [ChannelSite]]

    init(task: AlignedTasks.Task, prunable: [ChannelGroup]) {
        self.task = task
        var index: [Int: Int] = [:]
        for (p, g) in prunable.enumerated() { index[g.id] = p }
        self.index = index
        sizes = prunable.map(\.size)
        var sitesOf: [String: [ChannelSite]] = [:]
        for s in task.lookup.uniqueSites { sitesOf[task.groups.sites[s].tensor, default: []].append(task.groups.sites[s]) }
        self.sitesOf = sitesOf
    }

    func axis(_ site: ChannelSite) -> CostModel.Axis {
        var fixed = 0.0
        var positions: [Int: Int] = [:]
        for c in site.channels {
            if let p = index[task.lookup.groupOf[c]] { positions[p, default: 0] += 1 } else { fixed += 1 }
        }
        // Each channel of a group owns the same number of positions on an axis (h·w after a
        // flatten, the multiplier of a depthwise conv), so the count per channel is exact.
        return CostModel.Axis(fixed: fixed, parts: positions.sorted { $0.key < $1.key }.map { ($0.key, Double($0.value) / Double(sizes[$0.key])) })
    }

    func term(_ name: String, shape: [Int], skipping skipped: Int? = nil) -> CostModel.Term {
        var coefficient = 1.0
        var axes: [CostModel.Axis] = []
        for axis in shape.indices where axis != skipped {
            if let site = sitesOf[name]?.first(where: { $0.axis == axis }) {
                let a = self.axis(site)
                if a.parts.isEmpty { coefficient *= a.fixed } else { axes.append(a) }
            } else {
                coefficient *= Double(shape[axis])
            }
        }
        return CostModel.Term(tensor: name, coefficient: coefficient, axes: axes)
    }

    func bankTerm(_ name: String, rowAxis: Int) -> CostModel.BankTerm? {
        guard let shape = task.graph.initializers[name]?.shape,
              let rowSite = sitesOf[name]?.first(where: { $0.axis == rowAxis }),
              let g = task.lookup.group(of: rowSite), let p = index[g] else { return nil }
        let rest = term(name, shape: shape, skipping: rowAxis)
        return CostModel.BankTerm(tensor: name, rowAxis: rowAxis, group: p, coefficient: rest.coefficient,
                                  rowMultiplicity: Double(shape[rowAxis]) / Double(sizes[p]), columns: rest.axes)
    }

    /// Per sample, as `ModelStats` counts them: a conv's weight times its output's spatial
    /// size, a matrix product's weight times its rows per sample. nil when a shape is unknown.
    func macTerms(_ terms: [String: CostModel.Term]) -> (Double, [CostModel.Term])? {
        var constant = 0.0
        var out: [CostModel.Term] = []
        for node in task.graph.nodes where ["Conv", "Gemm", "MatMul"].contains(node.opType) {
            guard node.inputs.count > 1 else { return nil }
            // In Double: the shapes come from the file, and their products may pass Int's range.
            let factor: Double
            let k: Double
            func product(_ dims: some Sequence<Int>) -> Double { dims.reduce(1) { $0 * Double($1) } }
            if node.opType == "Conv" {
                guard let y = task.shapes.shape(node.outputs[0]), y.count >= 2,
                      let w = task.graph.initializers[node.inputs[1]]?.shape ?? task.shapes.shape(node.inputs[1]) else { return nil }
                factor = product(y.dropFirst(2))
                k = product(w)
            } else {
                guard let a = task.shapes.shape(node.inputs[0]), let y = task.shapes.shape(node.outputs[0]), a.count >= 2 else { return nil }
                factor = a.count > 2 ? product(a.dropFirst().dropLast()) : 1
                k = Double(y[y.count - 1]) * Double(node.opType == "Gemm" && node.int("transA") == 1 ? a[0] : a[a.count - 1])
            }
            if var t = terms[node.inputs[1]] {
                t.coefficient *= factor
                out.append(t)
            } else {
                constant += factor * k
            }
        }
        return (constant, out)
    }
}
