/// A graph input's fixed shape written `NAME=D1xD2x...` (`input=1x3x224x224`): how
/// `pruned prune --input-shape`, `pruned inspect --input-shape` and the service's `inputShape`
/// give a shape the export left symbolic (FLOPs, and a FLOPs budget, need every dimension).
public enum InputShapeSpec {
    public static let example = "input=1x3x224x224"

    /// `NAME=D1xD2x...` parsed; nil when the name is empty or a dimension is not a positive
    /// whole number. Whitespace around the name and the dimensions is ignored.
    public static func parse(_ spec: String) -> (name: String, dims: [Int])? {
        let parts = spec.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let name = parts[0].trimmingWhitespace
        let dims = parts[1].split(separator: "x", omittingEmptySubsequences: false).map { Int($0.trimmingWhitespace) }
        guard !name.isEmpty, !dims.isEmpty, dims.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return (name, dims.map { $0! })
    }

    /// Several specs: a map by input name, or what is wrong with them (a spec that does not
    /// parse, a name given twice, a shape too large to infer from).
    public static func parse(_ specs: [String]) -> Result<[String: [Int]], Problem> {
        var shapes: [String: [Int]] = [:]
        for spec in specs {
            guard let (name, dims) = parse(spec) else {
                return .failure(Problem(message: "'\(spec)': expected NAME=D1xD2x..., e.g. \(example)"))
            }
            if let problem = add(name, dims, to: &shapes) { return .failure(problem) }
        }
        return .success(shapes)
    }

    /// Adds one input's shape; what is wrong instead when the name is there already or the
    /// shape has more elements than `ShapeInference.maxElements`.
    public static func add(_ name: String, _ dims: [Int], to shapes: inout [String: [Int]]) -> Problem? {
        guard shapes[name] == nil else { return Problem(message: "'\(name)' is given more than once") }
        guard ShapeInference.elementCount(dims) != nil else {
            return Problem(message: "'\(name)': \(dims.map(String.init).joined(separator: "x")) has more than \(ShapeInference.maxElements) elements")
        }
        shapes[name] = dims
        return nil
    }

    /// What is wrong with `shapes` for `graph`: a name that is no data input, or a shape that
    /// contradicts the declared one (another rank, or another size where the export fixed one;
    /// the batch dimension may differ). nil when they fit.
    public static func problem(_ shapes: [String: [Int]], for graph: Graph, model: String) -> Problem? {
        let inputs = graph.dataInputs
        for (name, dims) in shapes.sorted(by: { $0.key < $1.key }) {
            guard let input = inputs.first(where: { $0.name == name }) else {
                return Problem(message: "input shape given for '\(name)', which is not a graph input of '\(model)' "
                    + "(its inputs: \(inputs.map(\.name).joined(separator: ", ")))")
            }
            guard let declared = input.shape else { continue }
            let contradicts = declared.count != dims.count
                || zip(declared, dims).enumerated().contains { i, pair in i > 0 && pair.0.value.map { $0 != pair.1 } == true }
            if contradicts {
                return Problem(message: "input shape \(dims.map(String.init).joined(separator: "x")) for '\(name)' of '\(model)' "
                    + "contradicts its declared shape [\(declared.map(\.description).joined(separator: ", "))]")
            }
        }
        return nil
    }

    public struct Problem: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }
}

private extension Substring {
    var trimmingWhitespace: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
