import Foundation
import PruneKit

/// The `config` of a job: from the `config` part of a multipart upload (JSON), or from the
/// query parameters of a raw upload. Unknown keys are rejected so that a typo is not ignored.
public struct JobConfig: Sendable, Codable, Equatable {
    /// Fraction of each prunable group's channels removed, in [0, 1).
    public var rate: Double = 0.3
    /// `same` (as the input), `onnx`, `safetensors` or `both`.
    public var format: String = "same"

    public init() {}

    /// Missing keys take their defaults, so a job.json written before a key existed still loads.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rate = try c.decodeIfPresent(Double.self, forKey: .rate) ?? 0.3
        format = try c.decodeIfPresent(String.self, forKey: .format) ?? "same"
    }

    private enum CodingKeys: String, CodingKey { case rate, format }

    public static let keys: Set<String> = ["rate", "format"]

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
        default:
            throw Invalid(field: key, message: "unknown field (known: \(Self.keys.sorted().joined(separator: ", ")))")
        }
    }

    public func validate() throws(Invalid) {
        if let problem = PruningPipeline.checkRate(rate) { throw Invalid(field: "rate", message: problem) }
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
