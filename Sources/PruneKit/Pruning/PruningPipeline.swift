import Foundation

/// The whole offline pipeline behind `pruned prune` and a service job: load the models (one,
/// or several task models of one backbone), prune them together with MFIS, and write each
/// task's pruned model, the shared bundle (several tasks) and `report.json` into one folder.
public struct PruningPipeline: Sendable {
    public enum OutputFormat: String, Sendable, CaseIterable, Codable {
        /// The input's own format.
        case same
        case onnx, safetensors, both
    }

    public struct Options: Sendable {
        public var mfis: MFISOptions
        public var format: OutputFormat
        public var inputShapes: [String: [Int]]
        /// A data file (`input`, `label` / `label.<task>`): with it, every model is scored before
        /// and after pruning, recalibrated, and the models are fine-tuned together (shared
        /// filters tied) for `training.epochs`.
        public var data: URL?
        public var training: TrainingOptions
        /// With data: recalibrate BN / correct folded convs (always, but for measuring pruning alone).
        public var recalibrate = true
        /// With data and several candidates: a second data file every candidate is also scored
        /// on (`MFISReport.Candidate.auditAccuracy`), never used for the choice. For studies.
        public var candidateAudit: URL?
        public init(mfis: MFISOptions = MFISOptions(), format: OutputFormat = .same, inputShapes: [String: [Int]] = [:],
                    data: URL? = nil, training: TrainingOptions = TrainingOptions()) {
            self.mfis = mfis
            self.format = format
            self.inputShapes = inputShapes
            self.data = data
            self.training = training
        }

        /// A pre-specified rate with every other MFIS option at its default.
        public init(rate: Double, format: OutputFormat = .same, inputShapes: [String: [Int]] = [:],
                    data: URL? = nil, training: TrainingOptions = TrainingOptions()) {
            self.init(mfis: MFISOptions(target: .rate(rate)), format: format, inputShapes: inputShapes, data: data, training: training)
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// How a caller follows and stops a run (the job service): progress (stage, fraction of the
    /// whole run), every optimizer generation, and a cancellation check between stages,
    /// generations and batches of the data stages that ends the run with `CancellationError`.
    public struct Hooks: Sendable {
        public var progress: @Sendable (_ stage: String, _ fraction: Double) -> Void
        public var generation: @Sendable (GenerationProgress) -> Void
        public var isCancelled: @Sendable () -> Bool
        public init(progress: @escaping @Sendable (String, Double) -> Void = { _, _ in },
                    generation: @escaping @Sendable (GenerationProgress) -> Void = { _ in },
                    isCancelled: @escaping @Sendable () -> Bool = { false }) {
            self.progress = progress
            self.generation = generation
            self.isCancelled = isCancelled
        }
    }

    public var options: Options
    public var hooks: Hooks
    public init(options: Options, hooks: Hooks = Hooks()) {
        self.options = options
        self.hooks = hooks
    }

    /// Where each stage starts and ends in the run's progress: the search is most of a run
    /// without data, fine-tuning most of one with data.
    static let span: [String: (start: Double, end: Double)] = [
        "load": (0, 0.05), "analyze": (0.05, 0.08), "criteria": (0.08, 0.2), "optimize": (0.2, 0.85),
        "merge": (0.85, 0.87), "surgery": (0.87, 0.9), "banks": (0.9, 0.92), "write": (0.92, 1),
    ]
    static let spanWithData: [String: (start: Double, end: Double)] = [
        "load": (0, 0.02), "analyze": (0.02, 0.03), "criteria": (0.03, 0.05), "optimize": (0.05, 0.17),
        "reference": (0.17, 0.19), "candidates": (0.19, 0.27), "merge": (0.27, 0.28), "surgery": (0.28, 0.29), "banks": (0.29, 0.3),
        "evaluate": (0.3, 0.32), "recalibrate": (0.32, 0.37), "finetune": (0.37, 0.97), "write": (0.97, 1),
    ]

    func advance(_ stage: String, _ fraction: Double) {
        let s = (options.data == nil ? Self.span : Self.spanWithData)[stage] ?? (0, 1)
        hooks.progress(stage, s.start + (s.end - s.start) * min(1, max(0, fraction)))
    }

    func checkpoint(_ stage: String, _ fraction: Double = 0) throws {
        if hooks.isCancelled() { throw CancellationError() }
        advance(stage, fraction)
    }

    @discardableResult
    public func run(models: [URL], outputDirectory: URL) throws -> PruneReport {
        if let problem = options.mfis.problem() { throw Failure(message: "\(problem.field): \(problem.message)") }
        if let problem = options.training.problem() { throw Failure(message: "\(problem.field): \(problem.message)") }
        guard !models.isEmpty else { throw Failure(message: "no model to prune") }
        if let needs = options.mfis.criteria.sorted().first(where: \.needsData), options.data == nil {
            throw Failure(message: "criteria: \(needs.rawValue) is measured on calibration data; give a data file (--data, or a 'data' part)")
        }
        let recovery = try options.data.map {
            var r = try AccuracyRecovery(data: TrainingData.read(contentsOf: $0), options: options.training)
            r.recalibrates = options.recalibrate
            return r
        }
        let tasks = models.map { $0.deletingPathExtension().lastPathComponent }
        if let dup = Dictionary(grouping: tasks, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw Failure(message: "two models are named '\(dup)': the output file names would collide")
        }
        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        var clock = StageClock()
        var loaded: [LoadedModel] = []
        for (index, url) in models.enumerated() {
            try checkpoint("load", Double(index) / Double(models.count))
            loaded.append(try ModelFile.load(url))
        }
        let formats = try loaded.map(formats(for:))
        try checkInputShapes(of: loaded)
        if let other = loaded.first(where: { $0.format != loaded[0].format }) {
            throw Failure(message: "models '\(loaded[0].task)' (\(loaded[0].format.rawValue)) and '\(other.task)' (\(other.format.rawValue)) are in "
                + "different formats, whose graphs never line up: send every task model as ONNX (or every one as safetensors)")
        }
        try recovery?.checkFits(loaded)
        clock.lap("load")

        let calibration = recovery.map {
            ActivationCriterion.Calibration(data: $0.data, indices: $0.calibrationSamples(limit: ActivationCriterion.sampleLimit),
                                            batchSize: $0.options.batchSize)
        }
        let pruner = MultiTaskPruner(options: options.mfis, inputShapes: options.inputShapes, calibration: calibration)
        let found = try pruner.search(
            loaded.map(\.graph), tasks: loaded.map(\.task),
            hooks: .init(stage: { [self] stage, fraction in advance(stage, fraction) }, generation: hooks.generation,
                         isCancelled: hooks.isCancelled))
        // Each task's unpruned model is measured on the data once, for the comparison of
        // candidates and the data stages alike.
        clock.restart()
        let references = try recovery.map { recovery in
            try checkpoint("reference")
            return try recovery.references(
                found.aligned.tasks.map { ($0.name, $0.graph) },
                comparisonCalibration: comparedCandidates(found).count > 1 ? CandidateComparison.calibrationSamples(recovery) : nil
            ) { try checkpoint("reference", $0) }
        }
        if references != nil { clock.lap("reference") }
        let result = try chooseAndBuild(found, pruner: pruner, sources: models.map(\.lastPathComponent), recovery: recovery,
                                        references: references)
        clock.restart()

        var reports = result.models
        var graphs = result.graphs
        var seconds = result.seconds
        for (k, v) in found.seconds { seconds[k, default: 0] += v }
        var bundle = result.bundle
        if let recovery, let references {
            // The tasks are fine-tuned together with their shared filters tied, so the written
            // models still are their rows of one bundle, rebuilt from the trained weights.
            let shared = try SharedParameters(bundle: result.bundle, graphs: result.graphs)
            let tasks = loaded.enumerated().map { t, model in
                AccuracyRecovery.Task(name: model.task, original: found.aligned.tasks[t].graph, pruned: result.graphs[t],
                                      keptRows: result.keptRows[t])
            }
            // The run times its own stages: the write lap counts the bundle's work on either side.
            clock.lap("write")
            let recovered = try recovery.run(tasks, references: references, shared: shared) { stage, fraction in try checkpoint(stage, fraction) }
            clock.restart()
            graphs = recovered.tasks.map(\.graph)
            for t in reports.indices {
                reports[t].accuracy = recovered.tasks[t].report
                // Recovery may add tensors (a corrected conv's new bias): describe the files written.
                reports[t].after = ModelStats(graph: graphs[t], shapes: ShapeInference(graph: graphs[t], inputShapes: options.inputShapes))
            }
            for (k, v) in recovered.seconds { seconds[k, default: 0] += v }
            bundle = result.bundle.refreshed(with: recovered.tasks.map(\.unscaled), gains: recovered.tasks.map(\.gains), shared: shared)
        }

        try checkpoint("write")
        for (t, model) in loaded.enumerated() {
            for format in formats[t] {
                let out = outputDirectory.appendingPathComponent("\(model.task).\(format.rawValue)")
                try ModelFile.write(graphs[t], format: format, metadata: model.metadata, to: out)
                reports[t].outputs.append(out.lastPathComponent)
            }
        }
        var mfis = result.mfis
        if loaded.count >= 2 {
            try bundle.write(to: outputDirectory)
            // Recovery may add tensors (a corrected conv's new bias): report what is stored.
            mfis.storage.beforeSharing = reports.reduce(0) { $0 + $1.after.stored }
            mfis.storage.afterSharing = bundle.storedParams
        }
        clock.lap("write")
        for (k, v) in clock.seconds { seconds[k, default: 0] += v }
        seconds["total"] = seconds.values.reduce(0, +)
        var report = PruneReport(method: "mfis", target: options.mfis.target, models: reports, mfis: mfis, seconds: seconds)
        report.training = recovery?.options
        try ReportJSON.encode(report).write(to: outputDirectory.appendingPathComponent("report.json"), options: .atomic)
        return report
    }

    /// A shape given for a name that is no graph input (a typo) would be left unused, and one
    /// that contradicts the declared shape would pin channels for no reason: errors instead.
    private func checkInputShapes(of models: [LoadedModel]) throws {
        for model in models {
            if let problem = InputShapeSpec.problem(options.inputShapes, for: model.graph, model: model.task) {
                throw Failure(message: problem.message)
            }
        }
    }

    private func formats(for model: LoadedModel) throws -> [ModelFormat] {
        switch options.format {
        case .same: return [model.format]
        case .onnx, .both:
            guard model.format == .onnx else {
                throw Failure(message: "\(model.task): a safetensors model carries no graph to write as ONNX; use --format safetensors")
            }
            return options.format == .both ? [.onnx, .safetensors] : [.onnx]
        case .safetensors: return [.safetensors]
        }
    }
}
