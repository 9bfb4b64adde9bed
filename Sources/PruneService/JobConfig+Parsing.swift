import Foundation
import PruneKit

/// Reading a config from JSON or from query parameters, checking every value's type ourselves
/// so that the error names the field.
extension JobConfig {
    public static func parse(json: Data) throws(Invalid) -> JobConfig {
        let object: [String: JSONValue]
        do { object = try JSONDecoder().decode([String: JSONValue].self, from: json) } catch {
            if (try? JSONDecoder().decode(JSONValue.self, from: json)) != nil {
                throw Invalid(field: "config", message: "must be a JSON object")
            }
            throw Invalid(field: "config", message: "not valid JSON")
        }
        if let key = JSONDuplicateKeys.first(in: json) {
            throw Invalid(field: key, message: "given more than once; give it once")
        }
        var config = JobConfig()
        if object["budget"] != nil && object["rate"] != nil {
            throw Invalid(field: "budget", message: "give a rate or a budget, not both")
        }
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            try config.set(key, json: value)
        }
        try config.validate()
        return config
    }

    /// From `?rate=0.3&format=onnx&criteria=magnitude,irreplaceability`; other parameters are errors.
    public static func parse(query: [(name: String, value: String)]) throws(Invalid) -> JobConfig {
        var config = JobConfig()
        if query.contains(where: { $0.name == "budget" }) && query.contains(where: { $0.name == "rate" }) {
            throw Invalid(field: "budget", message: "give a rate or a budget, not both")
        }
        for (name, value) in query {
            switch name {
            case "rate":
                if value == "adaptive" { config.rate = .adaptive }
                else if let v = Double(value) { config.rate = .fraction(v) }
                else { throw Invalid(field: "rate", message: "'\(value)' is neither a number nor 'adaptive'") }
            case "budget": config.setBudget(value)
            case "criteria": config.criteria = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            case "sharing", "biasCompensation":
                guard let b = ["true": true, "1": true, "false": false, "0": false][value.lowercased()] else {
                    throw Invalid(field: name, message: "'\(value)' is not true or false")
                }
                if name == "sharing" { config.sharing = b } else { config.biasCompensation = b }
            case "seed", "generations", "population":
                guard let v = Int(value), v >= 0 else { throw Invalid(field: name, message: "'\(value)' is not a whole number ≥ 0") }
                try config.setInteger(name, Double(v))
            case "format":
                config.format = value
            case "finetuneEpochs", "batchSize", "candidates":
                guard let v = Int(value) else { throw Invalid(field: name, message: "'\(value)' is not an integer") }
                switch name {
                case "finetuneEpochs": config.finetuneEpochs = v
                case "batchSize": config.batchSize = v
                default: config.candidates = v
                }
            case "lr":
                guard let v = Float(value) else { throw Invalid(field: "lr", message: "'\(value)' is not a number") }
                config.lr = v
            case "holdout":
                guard let v = Double(value) else { throw Invalid(field: "holdout", message: "'\(value)' is not a number") }
                config.holdout = v
            case "accuracyMargin":
                guard let v = Double(value) else { throw Invalid(field: "accuracyMargin", message: "'\(value)' is not a number") }
                config.accuracyMargin = v
            case "momentum", "weightDecay":
                guard let v = Float(value) else { throw Invalid(field: name, message: "'\(value)' is not a number") }
                if name == "momentum" { config.momentum = v } else { config.weightDecay = v }
            case "roundTo":
                guard let v = Int(value) else { throw Invalid(field: name, message: "'\(value)' is not an integer") }
                config.roundTo = v
            case "inputShape":
                try config.setInputShapes(value)
            default:
                throw Invalid(field: name, message: "unknown parameter (known: \(keys.sorted().joined(separator: ", ")))")
            }
        }
        try config.validate()
        return config
    }

    private mutating func setBudget(_ text: String) {
        budget = text
        rate = nil
    }

    private mutating func setInteger(_ key: String, _ v: Double) throws(Invalid) {
        guard v.isFinite, v == v.rounded(), v >= 0, v < 9.0e15 else {
            throw Invalid(field: key, message: "must be a whole number ≥ 0")
        }
        switch key {
        case "seed": seed = UInt64(v)
        case "generations": generations = Int(v)
        default: population = Int(v)
        }
    }

    /// `a=1x3x8x8,b=1x10`: every spec must parse, no name twice.
    private mutating func setInputShapes(_ text: String) throws(Invalid) {
        switch InputShapeSpec.parse(text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)) {
        case let .success(shapes): inputShape = shapes
        case let .failure(problem): throw Invalid(field: "inputShape", message: problem.message)
        }
    }

    /// `[1, 3, 224, 224]`: every dimension a positive whole number.
    private static func dimensions(_ value: JSONValue, of input: String) throws(Invalid) -> [Int] {
        var dims: [Int] = []
        if case let .array(values) = value {
            for v in values {
                guard case let .number(d) = v, d == d.rounded(), d >= 1, d < 1e9 else { break }
                dims.append(Int(d))
            }
            if !dims.isEmpty && dims.count == values.count { return dims }
        }
        throw Invalid(field: "inputShape", message: "'\(input)' must be a list of positive integers, e.g. [1, 3, 224, 224]")
    }

    private static func integer(_ v: Double, field: String) throws(Invalid) -> Int {
        guard v.rounded() == v, abs(v) < 1e9 else { throw Invalid(field: field, message: "must be an integer, got \(v)") }
        return Int(v)
    }

    private mutating func set(_ key: String, json value: JSONValue) throws(Invalid) {
        switch (key, value) {
        case ("rate", .number(let v)): rate = .fraction(v)
        case ("rate", .string("adaptive")): rate = .adaptive
        case ("rate", _): throw Invalid(field: "rate", message: "must be a number or \"adaptive\"")
        case ("budget", .string(let s)): setBudget(s)
        case ("budget", .object(let o)):
            guard o.count == 1, let (measure, v) = o.first, case let .number(fraction) = v else {
                throw Invalid(field: "budget", message: "must be {\"params\": F} or {\"flops\": F} (or \"params=F\")")
            }
            setBudget("\(measure)=\(fraction)")
        case ("budget", _): throw Invalid(field: "budget", message: "must be \"params=F\", \"flops=F\" or {\"params\": F}")
        case ("criteria", .array(let a)):
            criteria = try a.map { v throws(Invalid) in
                guard case let .string(s) = v else { throw Invalid(field: "criteria", message: "must be a list of names") }
                return s
            }
        case ("criteria", .string(let s)): criteria = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        case ("criteria", _): throw Invalid(field: "criteria", message: "must be a list of names (magnitude, irreplaceability, shareability, activation)")
        case ("sharing", .bool(let b)): sharing = b
        case ("sharing", _): throw Invalid(field: "sharing", message: "must be true or false")
        case ("biasCompensation", .bool(let b)): biasCompensation = b
        case ("biasCompensation", _): throw Invalid(field: "biasCompensation", message: "must be true or false")
        case ("population", .null): population = nil
        case ("seed", .number(let v)), ("generations", .number(let v)), ("population", .number(let v)): try setInteger(key, v)
        case ("seed", _), ("generations", _), ("population", _): throw Invalid(field: key, message: "must be a whole number ≥ 0")
        case ("format", .string(let v)): format = v
        case ("format", _): throw Invalid(field: "format", message: "must be a string")
        case ("finetuneEpochs", .number(let v)): finetuneEpochs = try Self.integer(v, field: key)
        case ("batchSize", .number(let v)): batchSize = try Self.integer(v, field: key)
        case ("candidates", .number(let v)): candidates = try Self.integer(v, field: key)
        case ("finetuneEpochs", _), ("batchSize", _), ("candidates", _): throw Invalid(field: key, message: "must be an integer")
        case ("lr", .number(let v)): lr = Float(v)
        case ("lr", _): throw Invalid(field: "lr", message: "must be a number")
        case ("holdout", .number(let v)): holdout = v
        case ("holdout", _): throw Invalid(field: "holdout", message: "must be a number in [0, 1)")
        case ("accuracyMargin", .number(let v)): accuracyMargin = v
        case ("momentum", .number(let v)): momentum = Float(v)
        case ("weightDecay", .number(let v)): weightDecay = Float(v)
        case ("momentum", _), ("weightDecay", _): throw Invalid(field: key, message: "must be a number in [0, 1)")
        case ("roundTo", .number(let v)): roundTo = try Self.integer(v, field: key)
        case ("roundTo", _): throw Invalid(field: key, message: "must be an integer ≥ 1")
        case ("inputShape", .string(let s)): try setInputShapes(s)
        case ("inputShape", .object(let shapes)):
            var parsed: [String: [Int]] = [:]
            for (name, dims) in shapes.sorted(by: { $0.key < $1.key }) {
                if let problem = InputShapeSpec.add(name, try Self.dimensions(dims, of: name), to: &parsed) {
                    throw Invalid(field: "inputShape", message: problem.message)
                }
            }
            inputShape = parsed
        case ("inputShape", _):
            throw Invalid(field: "inputShape", message: "must be {\"NAME\": [D1, D2, ...]} or \"\(InputShapeSpec.example)\"")
        case ("accuracyMargin", _): throw Invalid(field: "accuracyMargin", message: "must be a number of percentage points in 0...100")
        default:
            throw Invalid(field: key, message: "unknown field (known: \(Self.keys.sorted().joined(separator: ", ")))")
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
