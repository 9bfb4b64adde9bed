import ArgumentParser
import PruneKit

/// `--input-shape NAME=D1xD2x...` (repeatable), as `prune` and `inspect` take it.
enum InputShapeOption {
    static let help = "Shape of a graph input whose declared shape is symbolic, e.g. \(InputShapeSpec.example) (repeatable)."

    static func parse(_ specs: [String]) throws -> [String: [Int]] {
        switch InputShapeSpec.parse(specs) {
        case let .success(shapes): return shapes
        case let .failure(problem): throw ValidationError("--input-shape \(problem.message)")
        }
    }
}
