import Foundation

/// The whole offline pipeline behind `pruned prune` and a service job: load every model,
/// prune it, write the pruned files and `report.json` into one folder.
public struct PruningPipeline: Sendable {
    public enum OutputFormat: String, Sendable, CaseIterable, Codable {
        /// The input's own format.
        case same
        case onnx, safetensors, both
    }

    public struct Options: Sendable {
        public var rate: Double
        public var format: OutputFormat
        public var inputShapes: [String: [Int]]
        /// A data file (`input`, `label` / `label.<task>`): with it, every model is scored before
        /// and after pruning, recalibrated, and fine-tuned for `training.epochs`.
        public var data: URL?
        public var training: TrainingOptions
        public init(rate: Double, format: OutputFormat = .same, inputShapes: [String: [Int]] = [:],
                    data: URL? = nil, training: TrainingOptions = TrainingOptions()) {
            self.rate = rate
            self.format = format
            self.inputShapes = inputShapes
            self.data = data
            self.training = training
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// How a caller follows and stops a run (the job service): progress per stage, and a
    /// cancellation check between stages (and between batches of the data stages) that ends
    /// the run with `CancellationError`.
    public struct Hooks: Sendable {
        public var progress: @Sendable (_ stage: String, _ fraction: Double) -> Void
        public var isCancelled: @Sendable () -> Bool
        public init(progress: @escaping @Sendable (String, Double) -> Void = { _, _ in },
                    isCancelled: @escaping @Sendable () -> Bool = { false }) {
            self.progress = progress
            self.isCancelled = isCancelled
        }
    }

    public var options: Options
    public var hooks: Hooks
    public init(options: Options, hooks: Hooks = Hooks()) {
        self.options = options
        self.hooks = hooks
    }

    private func checkpoint(_ stage: String, model: Int, of count: Int, step: Double) throws {
        if hooks.isCancelled() { throw CancellationError() }
        hooks.progress(stage, (Double(model) + step) / Double(max(count, 1)))
    }

    /// Validates `rate` the way every entry point (CLI, HTTP config) needs it.
    public static func checkRate(_ rate: Double) -> String? {
        rate.isFinite && rate >= 0 && rate < 1 ? nil : "rate must be at least 0 and below 1 (the fraction of each prunable group's channels removed), got \(rate)"
    }

    /// Where each stage starts, as a fraction of one model's share of the progress.
    private var stageStart: [String: Double] {
        options.data == nil
            ? ["load": 0, "prune": 0.3, "write": 0.6]
            : ["load": 0, "prune": 0.05, "evaluate": 0.1, "recalibrate": 0.15, "finetune": 0.3, "write": 0.95]
    }

    @discardableResult
    public func run(models: [URL], outputDirectory: URL) throws -> PruneReport {
        if let problem = Self.checkRate(options.rate) { throw Failure(message: problem) }
        if let problem = options.training.problem() { throw Failure(message: "\(problem.field): \(problem.message)") }
        let recovery = try options.data.map { try AccuracyRecovery(data: TrainingData.read(contentsOf: $0), options: options.training) }
        let tasks = models.map { $0.deletingPathExtension().lastPathComponent }
        if let dup = Dictionary(grouping: tasks, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw Failure(message: "two models are named '\(dup)': the output file names would collide")
        }
        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        var seconds: [String: Double] = [:]
        var reports: [ModelReport] = []
        for (index, url) in models.enumerated() {
            var clock = StageClock()
            let start = stageStart
            try checkpoint("load", model: index, of: models.count, step: 0)
            let model = try ModelFile.load(url)
            clock.lap("load")
            try checkpoint("prune", model: index, of: models.count, step: start["prune"]!)
            let pruner = MagnitudePruner(rate: options.rate, inputShapes: options.inputShapes)
            let result = try pruner.prune(model.graph, task: model.task, source: url.lastPathComponent) {
                if hooks.isCancelled() { throw CancellationError() }
            }
            var report = result.report
            var graph = result.graph
            if let recovery {
                let stages = ["evaluate", "recalibrate", "finetune", "write"].map { start[$0]! }
                let recovered = try recovery.run(original: model.graph.constantsAsInitializers(), pruned: result.graph,
                                                 keptRows: result.keptRows, task: model.task) { stage, fraction in
                    let from = start[stage]!, to = stages.first { $0 > from } ?? from
                    try checkpoint(stage, model: index, of: models.count, step: from + fraction * (to - from))
                }
                graph = recovered.graph
                report.accuracy = recovered.report
                for (k, v) in recovered.seconds { seconds[k, default: 0] += v }
            }
            try checkpoint("write", model: index, of: models.count, step: start["write"]!)
            clock.restart()
            for format in try formats(for: model) {
                let out = outputDirectory.appendingPathComponent("\(model.task).\(format.rawValue)")
                try ModelFile.write(graph, format: format, metadata: model.metadata, to: out)
                report.outputs.append(out.lastPathComponent)
            }
            clock.lap("write")
            reports.append(report)
            for (k, v) in clock.seconds.merging(result.seconds, uniquingKeysWith: +) { seconds[k, default: 0] += v }
        }
        seconds["total"] = seconds.values.reduce(0, +)
        var report = PruneReport(method: "l1-magnitude", rate: options.rate, models: reports, seconds: seconds)
        report.training = recovery?.options
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(report).write(to: outputDirectory.appendingPathComponent("report.json"), options: .atomic)
        return report
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
