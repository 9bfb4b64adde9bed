/// `pruned train`: trains a classifier from its current weights (say a freshly initialised
/// export) on a data file's labels, scoring it on a held-out split before and after.
public enum TrainingRun {
    public struct Report: Sendable, Codable, Equatable {
        public var task: String
        public var labels: String
        public var trainingSamples: Int
        public var heldOutSamples: Int
        /// On the held-out split; nil when nothing is held out.
        public var before: ClassifierScore?
        public var after: ClassifierScore?
        public var epochs: [FineTuning.Epoch]
        public var options: TrainingOptions
    }

    /// The trained graph (declared shapes and initializer dtypes as in `model`) and its report.
    /// `progress` gets the fraction of training done before every batch, and may throw to cancel.
    public static func run(_ model: LoadedModel, data: TrainingData, options: TrainingOptions,
                           progress: (Double) throws -> Void = { _ in }) throws -> (graph: Graph, report: Report) {
        try model.requireForwardPass(for: "trained")
        guard let labelName = try data.labelName(forTask: model.task) else { throw TrainingDataError.missingLabels(task: model.task) }
        let labels = data.labels[labelName]!
        let split = try DataSplit(count: data.count, heldOutFraction: options.heldOutFraction, seed: options.seed)
        // Exporters share equal constants (the zero biases, unit BN scales of a fresh model)
        // between layers; untied, every layer trains its own.
        var classifier = try ClassifierGraph(model.graph.constantsAsInitializers(), sampleShape: data.sampleShape)
        func score() throws -> ClassifierScore? {
            split.heldOut.isEmpty ? nil : try ClassifierScore.measure(classifier, data: data, indices: split.heldOut, labels: labels,
                                                                       labelName: labelName, batchSize: options.batchSize)
        }
        let before = try score()
        let epochs = try FineTuning.train(&classifier, data: data, indices: split.training, target: .labels(labels, name: labelName),
                                          options: options, checkpoint: progress)
        let report = Report(task: model.task, labels: labelName, trainingSamples: split.training.count, heldOutSamples: split.heldOut.count,
                            before: before, after: try score(), epochs: epochs, options: options)
        return (classifier.exportable, report)
    }
}
