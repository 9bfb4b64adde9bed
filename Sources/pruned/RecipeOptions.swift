import ArgumentParser
import PruneKit

/// The training recipe flags `prune --data` and `train` share (epochs are named per command).
struct RecipeOptions: ParsableArguments {
    @Option(help: "Initial learning rate of the cosine schedule (stepped per batch down to 0).")
    var lr: Float = TrainingOptions.defaultLearningRate

    @Option(name: .customLong("batch-size"), help: "Samples per mini-batch (also for scoring and recalibration).")
    var batchSize: Int = TrainingOptions.defaultBatchSize

    @Option(help: "SGD momentum.")
    var momentum: Float = TrainingOptions().momentum

    @Option(name: .customLong("weight-decay"), help: "SGD weight decay (L2, on every parameter).")
    var weightDecay: Float = TrainingOptions().weightDecay

    @Option(help: """
        Fraction of the samples held out (seeded) and scored, in [0, 1). 0 trains on every \
        sample and scores on the training samples (when the data is already a training split).
        """)
    var holdout: Double = DataSplit.defaultHeldOutFraction

    /// `seed` is the command's own `--seed` (prune seeds its optimizer with it too).
    func training(epochs: Int, seed: UInt64) -> TrainingOptions {
        TrainingOptions(epochs: epochs, learningRate: lr, batchSize: batchSize, momentum: momentum, weightDecay: weightDecay,
                        heldOutFraction: holdout, seed: seed)
    }

    /// A `ValidationError` naming the flag of the first bad setting.
    static func validate(_ options: TrainingOptions, epochsFlag: String, heldOutFlag: String = "--holdout") throws {
        guard let (field, message) = options.problem() else { return }
        let flag: String
        switch field {
        case .epochs: flag = epochsFlag
        case .learningRate: flag = "--lr"
        case .batchSize: flag = "--batch-size"
        case .momentum: flag = "--momentum"
        case .weightDecay: flag = "--weight-decay"
        case .heldOutFraction: flag = heldOutFlag
        case .temperature: flag = "temperature"
        }
        throw ValidationError("\(flag) \(message)")
    }
}
