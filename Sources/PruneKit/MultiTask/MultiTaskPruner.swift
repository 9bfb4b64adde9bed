/// MFIS end to end on graphs in memory (ALGORITHM.md §§1–4, 6): align the tasks, score every
/// filter, search keep and share bits, fold and merge, cut each task's graph, and lay out the
/// shared bundle. One task is the T = 1 case of the same code.
public struct MultiTaskPruner: Sendable {
    public var options: MFISOptions
    public var inputShapes: [String: [Int]]
    /// Data for the data-driven criterion (`activation`); nil without data.
    public var calibration: ActivationCriterion.Calibration?

    public init(options: MFISOptions, inputShapes: [String: [Int]] = [:], calibration: ActivationCriterion.Calibration? = nil) {
        self.options = options
        self.inputShapes = inputShapes
        self.calibration = calibration
    }

    public struct Result: Sendable {
        /// Per task, pruned.
        public var graphs: [Graph]
        public var bundle: MultiTaskBundle
        public var models: [ModelReport]
        public var mfis: MFISReport
        public var seconds: [String: Double]
        /// Per task, each producer weight's surviving original rows (`ChannelGroups.keptRows`):
        /// the data stages compare pruned channels with the unpruned model's through it.
        public var keptRows: [[String: [Int]]]
    }

    /// How a caller follows and stops a run: stage changes with a fraction of the stage done,
    /// every optimizer generation, and a cancellation check (between stages and generations)
    /// that ends the run with `CancellationError`.
    public struct Hooks: Sendable {
        public var stage: @Sendable (_ stage: String, _ fraction: Double) -> Void
        public var generation: @Sendable (GenerationProgress) -> Void
        public var isCancelled: @Sendable () -> Bool
        public init(stage: @escaping @Sendable (String, Double) -> Void = { _, _ in },
                    generation: @escaping @Sendable (GenerationProgress) -> Void = { _ in },
                    isCancelled: @escaping @Sendable () -> Bool = { false }) {
            self.stage = stage
            self.generation = generation
            self.isCancelled = isCancelled
        }
    }

    /// What the search found, before any graph is cut: the tasks lined up, the evidence per
    /// group and the chosen solution (with the other candidates `build` may be asked for).
    public struct Search: Sendable {
        public var aligned: AlignedTasks
        public var evidence: [GroupEvidence]
        public var solution: MFISSolution
        public var seconds: [String: Double]
    }

    /// Searches and builds the chosen solution: `search` then `build`.
    public func prune(_ graphs: [Graph], tasks names: [String], sources: [String]? = nil, hooks: Hooks = Hooks()) throws -> Result {
        let found = try search(graphs, tasks: names, hooks: hooks)
        var result = try build(found, sources: sources, hooks: hooks)
        for (k, v) in found.seconds { result.seconds[k, default: 0] += v }
        return result
    }

    /// Aligns the tasks, scores every filter and runs the search (stages analyze, criteria, optimize).
    public func search(_ graphs: [Graph], tasks names: [String], hooks: Hooks = Hooks()) throws -> Search {
        if let problem = options.problem() { throw MFISSearch.Unreachable(description: "\(problem.field): \(problem.message)") }
        var clock = StageClock()
        func checkpoint(_ stage: String) throws {
            if hooks.isCancelled() { throw CancellationError() }
            hooks.stage(stage, 0)
        }
        try checkpoint("analyze")
        let aligned = try AlignedTasks(names: names, graphs: graphs, inputShapes: inputShapes)
        clock.lap("analyze")
        try checkpoint("criteria")
        var evidence = GroupEvidence.collect(aligned, options: options)
        if options.criteria.contains(.activation) {
            evidence = try withActivations(evidence, aligned: aligned) { f in
                if hooks.isCancelled() { throw CancellationError() }
                hooks.stage("criteria", f)
            }
        }
        clock.lap("criteria")
        try checkpoint("optimize")
        let problem = MFISProblem(aligned: aligned, evidence: evidence, options: options)
        let generations = max(1, options.generations)
        let solution = try MFISSearch.run(problem, tasks: names, progress: { p in
            hooks.generation(p)
            hooks.stage("optimize", Double(p.generation) / Double(generations))
        }, isCancelled: hooks.isCancelled)
        clock.lap("optimize")
        return Search(aligned: aligned, evidence: evidence, solution: solution, seconds: clock.seconds)
    }

    /// `evidence` with each task's activation scores measured on the calibration data.
    private func withActivations(_ evidence: [GroupEvidence], aligned: AlignedTasks, progress: (Double) throws -> Void) throws -> [GroupEvidence] {
        guard let calibration else {
            throw MFISSearch.Unreachable(description: "criteria: activation is measured on calibration data, and none was given")
        }
        let ids = evidence.map(\.group)
        var perTask: [[Int: [Double]]] = []
        for (t, task) in aligned.tasks.enumerated() {
            let model = try ClassifierGraph(task.graph, sampleShape: calibration.data.sampleShape)
            perTask.append(try ActivationCriterion.scores(
                ofGroups: ids, groups: task.groups, lookup: task.lookup, graph: task.graph, shapes: task.shapes, model: model,
                calibration: calibration) { try progress((Double(t) + $0) / Double(aligned.count)) })
        }
        return evidence.map { e in e.withActivations(perTask.map { $0[e.group]! }, joining: options.criteria.contains(.magnitude)) }
    }

    /// Folds, merges and cuts every task's graph for `solution` (the search's own when nil) and
    /// lays out the bundle (stages merge, surgery, banks). Cheap next to the search, so a caller
    /// comparing candidates on data builds each of them.
    public func build(_ found: Search, solution: MFISSolution? = nil, sources: [String]? = nil, hooks: Hooks = Hooks()) throws -> Result {
        let aligned = found.aligned, evidence = found.evidence, solution = solution ?? found.solution
        let names = aligned.tasks.map(\.name)
        var clock = StageClock()
        func checkpoint(_ stage: String) throws {
            if hooks.isCancelled() { throw CancellationError() }
            hooks.stage(stage, 0)
        }
        try checkpoint("merge")
        let prunable = aligned.prunableGroups
        var indexes: [Int: IndexMatrix] = [:]
        for (p, g) in prunable.enumerated() {
            indexes[g.id] = IndexMatrix(name: g.name, group: g.id, keep: solution.keep.map { $0[p] }, share: solution.share[p],
                                        weights: { evidence[p].mergeWeights(channel: $0, tasks: $1) })
        }
        var merged = aligned.tasks.map(\.graph)
        var folds: [Fold] = []
        if options.sharing {
            for t in merged.indices {
                folds += FilterMerging.foldTwins(&merged[t], task: t, aligned: aligned, evidence: evidence, keep: solution.keep[t])
            }
        }
        let layout = BankLayout(aligned, sharing: options.sharing)
        FilterMerging.mergeShared(&merged, layout: layout, indexes: indexes)
        clock.lap("merge")

        try checkpoint("surgery")
        var pruned: [Graph] = []
        var models: [ModelReport] = []
        var keptRows: [[String: [Int]]] = []
        var compensated = Set<String>()
        for (t, task) in aligned.tasks.enumerated() {
            var removal: [Int: [Int]] = [:]
            for (p, g) in prunable.enumerated() { removal[g.id] = solution.keep[t][p].indices.filter { !solution.keep[t][p][$0] } }
            var source = merged[t], groups = task.groups, compensation: BiasCompensation?
            if options.biasCompensation {
                let c = merged[t].compensatingBiases(removing: removal, groups: task.groups, shapes: task.shapes,
                                                     except: foldedChannels(folds, task: task.name, groups: prunable))
                (source, groups, compensation) = (c.graph, c.groups, c.report)
                compensated.formUnion(c.report.tensors)
            }
            let graph = try source.removingChannels(removal, groups: groups)
            pruned.append(graph)
            keptRows.append(task.groups.keptRows(removing: removal))
            let after = ModelStats(graph: graph, shapes: ShapeInference(graph: graph, inputShapes: inputShapes))
            models.append(ModelReport(
                task: task.name, source: sources?[t] ?? task.name,
                before: ModelStats(graph: task.graph, shapes: task.shapes), after: after, channels: graph.layerWidths(),
                groups: aligned.groups.map { g in
                    let removed = removal[g.id] ?? []
                    return GroupReport(name: g.name, producers: g.producers, total: task.groups.groups[g.id].size,
                                       kept: task.groups.groups[g.id].size - removed.count, prunable: g.prunable, reason: g.reason, removed: removed)
                }, biasCompensation: compensation))
        }
        clock.lap("surgery")

        try checkpoint("banks")
        // A compensated bias differs between tasks (each removes its own channels): stored per task.
        var bundleLayout = layout
        bundleLayout.entries.removeAll { compensated.contains($0.tensor) }
        let bundle = MultiTaskBundle.build(tasks: names, pruned: pruned, merged: merged, layout: bundleLayout, indexes: indexes,
                                           prunable: Set(prunable.map(\.id)))
        clock.lap("banks")
        let report = MFISReport(
            target: options.target.description, criteria: options.criteria.sorted().map(\.rawValue), sharing: options.sharing,
            seed: options.seed, generations: solution.generations, evaluations: solution.evaluations,
            objectives: solution.objectiveNames, front: solution.front.map(ReportJSON.rounded),
            chosen: .init(index: solution.chosen, objectives: ReportJSON.rounded(solution.objectives), reason: solution.reason),
            storage: .init(original: models.reduce(0) { $0 + $1.before.stored }, beforeSharing: models.reduce(0) { $0 + $1.after.stored },
                           afterSharing: bundle.storedParams),
            groups: prunable.enumerated().map { p, g in
                let index = indexes[g.id]!
                return .init(name: g.name, total: g.size, kept: index.keep.map(\.count),
                             union: (0..<g.size).filter { i in index.matrix.contains { $0[i] == 1 } }.count, shared: index.sharedSlots)
            },
            folds: folds)
        return Result(graphs: pruned, bundle: bundle, models: models, mfis: report, seconds: clock.seconds, keptRows: keptRows)
    }

    /// The channels inner sharing folded into a kept twin in `task`: their output lives on in
    /// the twin's consumers, so compensating them too would count them twice.
    private func foldedChannels(_ folds: [Fold], task: String, groups: [ChannelGroup]) -> [Int: Set<Int>] {
        var out: [Int: Set<Int>] = [:]
        for f in folds where f.task == task {
            if let g = groups.first(where: { $0.name == f.group }) { out[g.id, default: []].insert(f.dropped) }
        }
        return out
    }
}
