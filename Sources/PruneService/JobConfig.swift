import Foundation
import PruneKit

/// The `config` of a job: from the `config` part of a multipart upload (JSON), or from the
/// query parameters of a raw upload. Unknown keys are rejected so that a typo is not ignored.
public struct JobConfig: Sendable, Codable, Equatable {
    /// `rate`: a fraction of each prunable group's channels removed, or `adaptive`.
    public enum Rate: Sendable, Equatable, Codable, ExpressibleByFloatLiteral {
        case fraction(Double)
        case adaptive

        public init(floatLiteral value: Double) { self = .fraction(value) }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let v = try? c.decode(Double.self) { self = .fraction(v); return }
            let s = try c.decode(String.self)
            guard s == "adaptive" else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "rate '\(s)'") }
            self = .adaptive
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case let .fraction(v): try c.encode(v)
            case .adaptive: try c.encode("adaptive")
            }
        }
    }

    /// nil when a budget is given instead.
    public var rate: Rate? = .fraction(0.3)
    /// `params=F` or `flops=F`: each task keeps at most the fraction F of its parameters (FLOPs).
    public var budget: String?
    /// nil: the defaults, which depend on whether the job has data (`Criterion.defaults(withData:)`).
    public var criteria: [String]?
    public var sharing = true
    /// Fold removed channels' constant outputs into the next layers' biases (`MFISOptions.biasCompensation`).
    public var biasCompensation = false
    public var seed: UInt64 = 0
    public var generations = 100
    /// nil: from the number of objectives.
    public var population: Int?
    /// `same` (as the input), `onnx`, `safetensors` or `both`.
    public var format: String = "same"
    /// Fine-tuning epochs after recalibration; above 0 needs a `data` part.
    public var finetuneEpochs: Int = 0
    /// Initial learning rate of the cosine schedule.
    public var lr: Float = TrainingOptions.defaultLearningRate
    /// Mini-batch size for fine-tuning, recalibration and scoring.
    public var batchSize: Int = TrainingOptions.defaultBatchSize
    /// With a `data` part: front members recalibrated and scored (`MFISOptions.candidates`);
    /// nil: 8, or 1 when fine-tuning.
    public var candidates: Int?
    /// Points of mean accuracy a candidate storing less may lose and still be kept
    /// (`MFISOptions.accuracyMargin`).
    public var accuracyMargin: Double = MFISOptions.defaultAccuracyMargin
    /// Fraction of the data held out and scored; 0 scores on the training samples.
    public var holdout: Double = DataSplit.defaultHeldOutFraction
    /// SGD momentum and weight decay of fine-tuning.
    public var momentum: Float = TrainingOptions().momentum
    public var weightDecay: Float = TrainingOptions().weightDecay
    /// Kept channels per group rounded to a multiple of this (`MFISOptions.roundTo`).
    public var roundTo: Int = 1
    /// Shapes of graph inputs the export left symbolic, by input name (`--input-shape`).
    public var inputShape: [String: [Int]] = [:]

    public init() {}

    public static let keys: Set<String> = [
        "rate", "budget", "criteria", "sharing", "biasCompensation", "seed", "generations", "population", "format", "finetuneEpochs", "lr", "batchSize",
        "candidates", "accuracyMargin",
        "holdout", "momentum", "weightDecay", "roundTo", "inputShape",
    ]

    enum CodingKeys: String, CodingKey {
        case rate, budget, criteria, sharing, biasCompensation, seed, generations, population, format, finetuneEpochs, lr, batchSize
        case candidates, accuracyMargin
        case holdout, momentum, weightDecay, roundTo, inputShape
    }

    /// Missing keys take their defaults, so a job.json written before a key existed still loads.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        budget = try c.decodeIfPresent(String.self, forKey: .budget)
        rate = try c.decodeIfPresent(Rate.self, forKey: .rate) ?? (budget == nil ? .fraction(0.3) : nil)
        criteria = try c.decodeIfPresent([String].self, forKey: .criteria)
        sharing = try c.decodeIfPresent(Bool.self, forKey: .sharing) ?? true
        biasCompensation = try c.decodeIfPresent(Bool.self, forKey: .biasCompensation) ?? false
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0
        generations = try c.decodeIfPresent(Int.self, forKey: .generations) ?? 100
        population = try c.decodeIfPresent(Int.self, forKey: .population)
        format = try c.decodeIfPresent(String.self, forKey: .format) ?? "same"
        let defaults = JobConfig()
        finetuneEpochs = try c.decodeIfPresent(Int.self, forKey: .finetuneEpochs) ?? defaults.finetuneEpochs
        lr = try c.decodeIfPresent(Float.self, forKey: .lr) ?? defaults.lr
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? defaults.batchSize
        candidates = try c.decodeIfPresent(Int.self, forKey: .candidates)
        accuracyMargin = try c.decodeIfPresent(Double.self, forKey: .accuracyMargin) ?? defaults.accuracyMargin
        holdout = try c.decodeIfPresent(Double.self, forKey: .holdout) ?? defaults.holdout
        momentum = try c.decodeIfPresent(Float.self, forKey: .momentum) ?? defaults.momentum
        weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay) ?? defaults.weightDecay
        roundTo = try c.decodeIfPresent(Int.self, forKey: .roundTo) ?? defaults.roundTo
        inputShape = try c.decodeIfPresent([String: [Int]].self, forKey: .inputShape) ?? defaults.inputShape
    }

    /// The training recipe of a job with data: these keys, the rest at their defaults.
    public var training: TrainingOptions {
        TrainingOptions(epochs: finetuneEpochs, learningRate: lr, batchSize: batchSize, momentum: momentum, weightDecay: weightDecay,
                        heldOutFraction: holdout, seed: seed)
    }

    /// A config that does not validate: the field and what is wrong with it (HTTP 422).
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public var field: String
        public var message: String
        public var description: String { "config field '\(field)': \(message)" }
    }

    /// The MFIS options this config asks for, for a job with or without a `data` part.
    public func mfisOptions(withData: Bool = false) throws(Invalid) -> MFISOptions {
        let target: MFISOptions.Target
        do {
            if let budget { target = try MFISOptions.parseBudget(budget) }
            else if case .adaptive? = rate { target = .adaptive }
            else if case let .fraction(r)? = rate { target = .rate(r) }
            else { target = .rate(0.3) }
            let named = try criteria.map { names throws(MFISOptions.SpellingError) in try MFISOptions.parseCriteria(names) }
            let options = MFISOptions(target: target, criteria: named ?? MFISOptions.Criterion.defaults(withData: withData), sharing: sharing,
                                      seed: seed, generations: generations, population: population, roundTo: roundTo,
                                      biasCompensation: biasCompensation,
                                      candidates: candidates, accuracyMargin: accuracyMargin)
            if let problem = options.problem() { throw Invalid(field: problem.field, message: problem.message) }
            return options
        } catch let e as MFISOptions.SpellingError {
            throw Invalid(field: e.field, message: e.message)
        } catch let e as Invalid {
            throw e
        } catch {
            throw Invalid(field: "config", message: "\(error)")
        }
    }

    public func validate() throws(Invalid) {
        _ = try mfisOptions()
        if let (field, message) = training.problem() {
            switch field {
            case .epochs: throw Invalid(field: "finetuneEpochs", message: message)
            case .batchSize: throw Invalid(field: "batchSize", message: message)
            case .heldOutFraction: throw Invalid(field: "holdout", message: message)
            case .momentum: throw Invalid(field: "momentum", message: message)
            case .weightDecay: throw Invalid(field: "weightDecay", message: message)
            default: throw Invalid(field: "lr", message: message)
            }
        }
        guard PruningPipeline.OutputFormat(rawValue: format) != nil else {
            throw Invalid(field: "format", message: "must be one of same, onnx, safetensors, both; got '\(format)'")
        }
    }
}
