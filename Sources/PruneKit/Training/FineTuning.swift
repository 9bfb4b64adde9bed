import Dispatch

/// Trains a classifier's parameters on data: cross-entropy against labels, or distillation
/// from a teacher (the unpruned model) when the data has none. SGD with momentum and weight
/// decay, a cosine schedule stepped per batch, seeded shuffling; BN layers normalize with batch
/// statistics and update their running averages as PyTorch's `BatchNorm2d` does in `train()`.
public enum FineTuning {
    /// What an epoch did: its mean training loss, the rate it ended at, its wall time.
    public struct Epoch: Sendable, Codable, Equatable {
        public var epoch: Int
        public var loss: Double
        public var learningRate: Float
        public var seconds: Double
    }

    public enum Target {
        /// Class index of every sample of the data (indexed by sample, not by position in the split).
        case labels([Int], name: String)
        /// Logits of the model to imitate, on the same batch.
        case teacher(ClassifierGraph)
    }

    /// Runs `options.epochs` epochs over `indices` of `data`, writing the trained parameters and
    /// BN running statistics back into `model.graph` in each initializer's own dtype.
    /// `checkpoint` gets the fraction done before every batch, and may throw to cancel.
    @discardableResult
    public static func train(_ model: inout ClassifierGraph, data: TrainingData, indices: [Int], target: Target,
                             options: TrainingOptions, checkpoint: (Double) throws -> Void = { _ in }) throws -> [Epoch] {
        var models = [model]
        let epochs = try train(&models, targets: [target], data: data, indices: indices, options: options, checkpoint: checkpoint)
        model = models[0]
        return epochs[0]
    }

    /// Several task models trained together (ALGORITHM.md §5) on the same batches: the loss is
    /// the sum of the tasks' losses, so a task's own parameters learn from its loss alone, and
    /// `shared` (when given) gives every replica of a shared filter the sum of the gradients of
    /// the tasks using it. One model without `shared` is plain fine-tuning: the same loop.
    /// Returns each task's epochs (its own loss).
    @discardableResult
    public static func train(_ models: inout [ClassifierGraph], targets: [Target], data: TrainingData, indices: [Int],
                             options: TrainingOptions, shared: SharedParameters? = nil,
                             checkpoint: (Double) throws -> Void = { _ in }) throws -> [[Epoch]] {
        precondition(models.count == targets.count, "one target per model")
        guard options.epochs > 0, !indices.isEmpty, !models.isEmpty else { return models.map { _ in [] } }
        let trainables = try models.map { try TrainableGraph($0.graph) }
        var states = trainables.map { $0.initialState() }
        // One optimizer per task: tasks' tensors have the same names, and a shared replica's
        // momentum buffer follows the same (summed) gradients in every task.
        var optimizers = models.map { _ in SGD(momentum: options.momentum, weightDecay: options.weightDecay) }
        let perEpoch = BatchOrder.forTraining(BatchOrder.inOrder(indices, size: options.batchSize)).count
        let schedule = CosineSchedule(initial: options.learningRate, totalSteps: options.epochs * perEpoch)
        let runningMomentum = models.map { Self.runningAverageMomentum($0.graph) }
        var epochs = models.map { _ in [Epoch]() }
        var step = 0
        for epoch in 0..<options.epochs {
            let started = DispatchTime.now().uptimeNanoseconds
            var lossSums = [Double](repeating: 0, count: models.count)
            for batch in BatchOrder.forTraining(BatchOrder.shuffled(indices, size: options.batchSize, seed: options.seed, epoch: epoch)) {
                try checkpoint(Double(step) / Double(schedule.totalSteps))
                let x = data.inputs(batch)
                var gradients: [[String: NDArray<Float>]] = []
                var statistics: [[BatchStatistics]] = []
                for (t, model) in models.enumerated() {
                    let pass = try trainables[t].forward(inputs: [model.inputName: x], state: states[t], mode: .training,
                                                         fetching: [model.logitsName])
                    let (loss, seed) = try lossAndGradient(pass.outputs[model.logitsName]!, model: model, target: targets[t], batch: batch,
                                                           input: x, temperature: options.temperature)
                    gradients.append(try trainables[t].backward(pass, seeds: [model.logitsName: seed]))
                    statistics.append(pass.batchStatistics)
                    lossSums[t] += Double(loss) * Double(batch.count)
                }
                shared?.sumGradients(&gradients)
                let rate = schedule.rate(atStep: step)
                for t in models.indices {
                    optimizers[t].step(&states[t], gradients: gradients[t], learningRate: rate)
                    for s in statistics[t] { Self.updateRunningAverages(&states[t], s, momentum: runningMomentum[t][s.node] ?? 0.9) }
                }
                step += 1
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            for t in models.indices {
                epochs[t].append(Epoch(epoch: epoch + 1, loss: lossSums[t] / Double(indices.count), learningRate: schedule.rate(atStep: step),
                                       seconds: seconds))
            }
        }
        for t in models.indices {
            let written = Set(trainables[t].parameterNames).union(models[t].graph.batchNormRunningStatistics)
            models[t].graph.replaceFloatInitializers(states[t].filter { written.contains($0.key) })
        }
        try checkpoint(1)
        return epochs
    }

    /// The batch's loss and dLoss/dLogits for one task.
    private static func lossAndGradient(_ logits: NDArray<Float>, model: ClassifierGraph, target: Target, batch: [Int],
                                        input: NDArray<Float>, temperature: Float) throws -> (Float, NDArray<Float>) {
        guard logits.rank == 2, logits.shape[0] == batch.count else {
            throw TrainingDataError.logitsShape(output: model.logitsName, shape: logits.shape, batch: batch.count)
        }
        switch target {
        case let .labels(all, name):
            let labels = batch.map { all[$0] }
            if let i = labels.firstIndex(where: { $0 >= logits.shape[1] }) {
                throw TrainingDataError.labelOutOfRange(tensor: name, sample: batch[i], value: labels[i], classes: logits.shape[1])
            }
            return try softmaxCrossEntropy(logits: logits, labels: labels)
        case let .teacher(teacher):
            return try distillationLoss(student: logits, teacher: teacher.logits(input), temperature: temperature)
        }
    }

    /// ONNX's BN `momentum` (the weight of the old running value; PyTorch's 0.1 exports as 0.9), by node label.
    private static func runningAverageMomentum(_ graph: Graph) -> [String: Float] {
        var m: [String: Float] = [:]
        for node in graph.nodes where node.opType == "BatchNormalization" { m[node.label] = node.float("momentum") ?? 0.9 }
        return m
    }

    /// running ← m·running + (1 − m)·batch, with the unbiased batch variance (as PyTorch).
    static func updateRunningAverages(_ state: inout [String: NDArray<Float>], _ s: BatchStatistics, momentum m: Float) {
        let unbias = s.count > 1 ? Float(s.count) / Float(s.count - 1) : 1
        if var mean = state[s.meanName], mean.count == s.mean.count {
            for c in 0..<mean.count { mean.storage[c] = m * mean.storage[c] + (1 - m) * s.mean.storage[c] }
            state[s.meanName] = mean
        }
        if var variance = state[s.varianceName], variance.count == s.variance.count {
            for c in 0..<variance.count { variance.storage[c] = m * variance.storage[c] + (1 - m) * s.variance.storage[c] * unbias }
            state[s.varianceName] = variance
        }
    }
}

extension Graph {
    /// Replaces float initializers by name with new values of the same shape, each encoded in
    /// the dtype the initializer had (an F16 model stays F16). Names it lacks are ignored.
    public mutating func replaceFloatInitializers(_ values: [String: NDArray<Float>]) {
        for (name, value) in values {
            guard let old = initializers[name], old.dtype.isFloatingPoint, old.shape == value.shape else { continue }
            setInitializer(name, Tensor(shape: value.shape, floats: value.storage, dtype: old.dtype))
        }
    }
}
