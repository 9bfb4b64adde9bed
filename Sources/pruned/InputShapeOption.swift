import ArgumentParser
import PruneKit

/// `--input-shape NAME=D1xD2x...` (repeatable), as `prune` and `inspect` take it.
enum InputShapeOption {
    static let help = "Shape of a graph input whose declared shape is symbolic, e.g. \(InputShapeSpec.example) (repeatable)."

    static func parse(_ specs: [String]) throws -> [String: [Int]] {
        var shapes: [String: [Int]] = [:]
        for spec in specs {
            guard let (name, dims) = InputShapeSpec.parse(spec) else {
                throw ValidationError("--input-shape '\(spec)': expected NAME=D1xD2x..., e.g. \(InputShapeSpec.example)")
            }
            shapes[name] = dims
        }
        return shapes
    }
}
