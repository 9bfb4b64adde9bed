import Foundation
import PruneKit

/// The `config` of a job: from the `config` part of a multipart upload (JSON), or from the
/// query parameters of a raw upload. Unknown keys are rejected so that a typo is not ignored.
public struct JobConfig: Sendable, Codable, Equatable {
    /// Fraction of each prunable group's channels removed, in [0, 1).
    public var rate: Double = 0.3
    /// `same` (as the input), `onnx`, `safetensors` or `both`.
    public var format: String = "same"
    /// Fine-tuning epochs after recalibration; above 0 needs a `data` part.
    public var finetuneEpochs: Int = 0
    /// Initial learning rate of the cosine schedule.
    public var lr: Float = TrainingOptions.defaultLearningRate
    /// Mini-batch size for fine-tuning, recalibration and scoring.
    public var batchSize: Int = TrainingOptions.defaultBatchSize

    public init() {}

    /// Missing keys take their defaults, so a job.json written before a key existed still loads.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = JobConfig()
        rate = try c.decodeIfPresent(Double.self, forKey: .rate) ?? defaults.rate
        format = try c.decodeIfPresent(String.self, forKey: .format) ?? defaults.format
        finetuneEpochs = try c.decodeIfPresent(Int.self, forKey: .finetuneEpochs) ?? defaults.finetuneEpochs
        lr = try c.decodeIfPresent(Float.self, forKey: .lr) ?? defaults.lr
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? defaults.batchSize
    }

    private enum CodingKeys: String, CodingKey { case rate, format, finetuneEpochs, lr, batchSize }

    public static let keys: Set<String> = ["rate", "format", "finetuneEpochs", "lr", "batchSize"]

    /// The training recipe of a job with data: these keys, the rest at their defaults.
    public var training: TrainingOptions {
        TrainingOptions(epochs: finetuneEpochs, learningRate: lr, batchSize: batchSize)
    }

    /// A config that does not validate: the field and what is wrong with it (HTTP 422).
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public var field: String
        public var message: String
        public var description: String { "config field '\(field)': \(message)" }
    }

    public static func parse(json: Data) throws(Invalid) -> JobConfig {
        let object: [String: JSONValue]
        do { object = try JSONDecoder().decode([String: JSONValue].self, from: json) } catch {
            if (try? JSONDecoder().decode(JSONValue.self, from: json)) != nil {
                throw Invalid(field: "config", message: "must be a JSON object")
            }
            throw Invalid(field: "config", message: "not valid JSON")
        }
        var config = JobConfig()
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            try config.set(key, json: value)
        }
        try config.validate()
        return config
    }

    /// From `?rate=0.3&format=onnx`; other query parameters are errors too.
    public static func parse(query: [(name: String, value: String)]) throws(Invalid) -> JobConfig {
        var config = JobConfig()
        for (name, value) in query {
            switch name {
            case "rate":
                guard let v = Double(value) else { throw Invalid(field: "rate", message: "'\(value)' is not a number") }
                config.rate = v
            case "format":
                config.format = value
            case "finetuneEpochs", "batchSize":
                guard let v = Int(value) else { throw Invalid(field: name, message: "'\(value)' is not an integer") }
                if name == "finetuneEpochs" { config.finetuneEpochs = v } else { config.batchSize = v }
            case "lr":
                guard let v = Float(value) else { throw Invalid(field: "lr", message: "'\(value)' is not a number") }
                config.lr = v
            default:
                throw Invalid(field: name, message: "unknown parameter (known: \(keys.sorted().joined(separator: ", ")))")
            }
        }
        try config.validate()
        return config
    }

    private mutating func set(_ key: String, json value: JSONValue) throws(Invalid) {
        switch (key, value) {
        case ("rate", .number(let v)): rate = v
        case ("rate", _): throw Invalid(field: "rate", message: "must be a number")
        case ("format", .string(let v)): format = v
        case ("format", _): throw Invalid(field: "format", message: "must be a string")
        case ("finetuneEpochs", .number(let v)): finetuneEpochs = try Self.integer(v, field: key)
        case ("batchSize", .number(let v)): batchSize = try Self.integer(v, field: key)
        case ("finetuneEpochs", _), ("batchSize", _): throw Invalid(field: key, message: "must be an integer")
        case ("lr", .number(let v)): lr = Float(v)
        case ("lr", _): throw Invalid(field: "lr", message: "must be a number")
        default:
            throw Invalid(field: key, message: "unknown field (known: \(Self.keys.sorted().joined(separator: ", ")))")
        }
    }

    private static func integer(_ v: Double, field: String) throws(Invalid) -> Int {
        guard v.rounded() == v, abs(v) < 1e9 else { throw Invalid(field: field, message: "must be an integer, got \(v)") }
        return Int(v)
    }

    public func validate() throws(Invalid) {
        if let problem = PruningPipeline.checkRate(rate) { throw Invalid(field: "rate", message: problem) }
        if let (field, message) = training.problem() {
            switch field {
            case .epochs: throw Invalid(field: "finetuneEpochs", message: message)
            case .batchSize: throw Invalid(field: "batchSize", message: message)
            default: throw Invalid(field: "lr", message: message)
            }
        }
        guard PruningPipeline.OutputFormat(rawValue: format) != nil else {
            throw Invalid(field: "format", message: "must be one of same, onnx, safetensors, both; got '\(format)'")
        }
    }
}

/// Any JSON value, to check a config's types ourselves and name the field that is wrong.
enum JSONValue: Decodable, Equatable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }
}
