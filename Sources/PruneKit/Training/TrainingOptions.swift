/// The recipe of fine-tuning and training, shared by `pruned prune --data`, `pruned train` and
/// jobs: SGD with momentum and weight decay under a cosine schedule, seeded shuffling.
public struct TrainingOptions: Sendable, Equatable, Codable {
    public static let defaultLearningRate: Float = 0.01
    public static let defaultBatchSize = 64

    public var epochs: Int
    /// Initial rate of the cosine schedule (stepped per batch, down to 0).
    public var learningRate: Float
    public var batchSize: Int
    public var momentum: Float
    public var weightDecay: Float
    /// Fraction of the data held out for the accuracies in the report.
    public var heldOutFraction: Double
    /// Seeds the held-out split and the order of the batches.
    public var seed: UInt64
    /// Softening of both distributions when distilling (no labels in the data).
    public var temperature: Float

    public init(epochs: Int = 0, learningRate: Float = defaultLearningRate, batchSize: Int = defaultBatchSize,
                momentum: Float = 0.9, weightDecay: Float = 5e-4, heldOutFraction: Double = DataSplit.defaultHeldOutFraction,
                seed: UInt64 = 0, temperature: Float = 4) {
        self.epochs = epochs
        self.learningRate = learningRate
        self.batchSize = batchSize
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.heldOutFraction = heldOutFraction
        self.seed = seed
        self.temperature = temperature
    }

    /// The first invalid setting: its name (as the CLI and the job config spell it) and what
    /// is wrong; nil when every setting is valid.
    public func problem() -> (field: Field, message: String)? {
        if !(0...10_000).contains(epochs) { return (.epochs, "must be 0...10000, got \(epochs)") }
        if !(learningRate.isFinite && learningRate > 0 && learningRate <= 10) { return (.learningRate, "must be above 0 and at most 10, got \(learningRate)") }
        if !(1...65_536).contains(batchSize) { return (.batchSize, "must be 1...65536, got \(batchSize)") }
        if !(momentum.isFinite && momentum >= 0 && momentum < 1) { return (.momentum, "must be at least 0 and below 1, got \(momentum)") }
        if !(weightDecay.isFinite && weightDecay >= 0 && weightDecay < 1) { return (.weightDecay, "must be at least 0 and below 1, got \(weightDecay)") }
        if !(heldOutFraction.isFinite && heldOutFraction >= 0 && heldOutFraction < 1) { return (.heldOutFraction, "must be at least 0 and below 1, got \(heldOutFraction)") }
        if !(temperature.isFinite && temperature > 0) { return (.temperature, "must be above 0, got \(temperature)") }
        return nil
    }

    public enum Field: Sendable {
        case epochs, learningRate, batchSize, momentum, weightDecay, heldOutFraction, temperature
    }
}
