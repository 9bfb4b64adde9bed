/// The checks a run with data makes before its search, so that data that cannot go with a
/// model fails at once (not after minutes of search) and the error names the model.
extension AccuracyRecovery {
    /// Each model runs as exported (not a state_dict's layer chain), takes `input`'s samples,
    /// and has a class for every label it is trained and scored on.
    public func checkFits(_ models: [LoadedModel]) throws {
        let labelNames = try data.labelNames(forTasks: models.map(\.task))
        for (model, labelName) in zip(models, labelNames) {
            try model.requireForwardPass(for: "scored, recalibrated or fine-tuned on data")
            let classifier = try ClassifierGraph(model.graph.constantsAsInitializers(), sampleShape: data.sampleShape)
            guard let labelName, let labels = data.labels[labelName] else { continue }
            let classes = try classifier.logits(data.inputs([0])).shape[1]
            if let i = labels.firstIndex(where: { $0 >= classes }) {
                throw TrainingDataError.labelOutOfRange(tensor: labelName, sample: i, value: labels[i], classes: classes, model: model.task)
            }
        }
    }
}
