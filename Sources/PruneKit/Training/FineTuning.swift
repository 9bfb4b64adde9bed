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
        guard options.epochs > 0, !indices.isEmpty else { return [] }
        let trainable = try TrainableGraph(model.graph)
        var state = trainable.initialState()
        var sgd = SGD(momentum: options.momentum, weightDecay: options.weightDecay)
        let perEpoch = (indices.count + options.batchSize - 1) / options.batchSize
        let schedule = CosineSchedule(initial: options.learningRate, totalSteps: options.epochs * perEpoch)
        let runningMomentum = Self.runningAverageMomentum(model.graph)
        var epochs: [Epoch] = []
        var step = 0
        for epoch in 0..<options.epochs {
            let started = DispatchTime.now().uptimeNanoseconds
            var lossSum = 0.0
            for batch in BatchOrder.shuffled(indices, size: options.batchSize, seed: options.seed, epoch: epoch) {
                try checkpoint(Double(step) / Double(schedule.totalSteps))
                let x = data.inputs(batch)
                let pass = try trainable.forward(inputs: [model.inputName: x], state: state, mode: .training, fetching: [model.logitsName])
                let logits = pass.outputs[model.logitsName]!
                guard logits.rank == 2, logits.shape[0] == batch.count else {
                    throw TrainingDataError.logitsShape(output: model.logitsName, shape: logits.shape, batch: batch.count)
                }
                let (loss, gradient): (Float, NDArray<Float>)
                switch target {
                case let .labels(all, name):
                    let labels = batch.map { all[$0] }
                    if let i = labels.firstIndex(where: { $0 >= logits.shape[1] }) {
                        throw TrainingDataError.labelOutOfRange(tensor: name, sample: batch[i], value: labels[i], classes: logits.shape[1])
                    }
                    (loss, gradient) = try softmaxCrossEntropy(logits: logits, labels: labels)
                case let .teacher(teacher):
                    (loss, gradient) = try distillationLoss(student: logits, teacher: teacher.logits(x), temperature: options.temperature)
                }
                let gradients = try trainable.backward(pass, seeds: [model.logitsName: gradient])
                sgd.step(&state, gradients: gradients, learningRate: schedule.rate(atStep: step))
                for statistics in pass.batchStatistics {
                    Self.updateRunningAverages(&state, statistics, momentum: runningMomentum[statistics.node] ?? 0.9)
                }
                lossSum += Double(loss) * Double(batch.count)
                step += 1
            }
            epochs.append(Epoch(epoch: epoch + 1, loss: lossSum / Double(indices.count), learningRate: schedule.rate(atStep: step),
                                seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9))
        }
        let written = Set(trainable.parameterNames).union(runningStatisticNames(model.graph))
        model.graph.replaceFloatInitializers(state.filter { written.contains($0.key) })
        try checkpoint(1)
        return epochs
    }

    /// ONNX's BN `momentum` (the weight of the old running value; PyTorch's 0.1 exports as 0.9), by node label.
    private static func runningAverageMomentum(_ graph: Graph) -> [String: Float] {
        var m: [String: Float] = [:]
        for node in graph.nodes where node.opType == "BatchNormalization" { m[node.label] = node.float("momentum") ?? 0.9 }
        return m
    }

    private static func runningStatisticNames(_ graph: Graph) -> [String] {
        graph.nodes.filter { $0.opType == "BatchNormalization" && $0.inputs.count == 5 }.flatMap { [$0.inputs[3], $0.inputs[4]] }
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
