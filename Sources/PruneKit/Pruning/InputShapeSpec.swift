/// A graph input's fixed shape written `NAME=D1xD2x...` (`input=1x3x224x224`): how
/// `pruned prune --input-shape` and the service's `inputShape` give a shape the export left
/// symbolic (FLOPs, and a FLOPs budget, need every dimension).
public enum InputShapeSpec {
    /// nil when `spec` is not `NAME=D1xD2x...` with a non-empty name and positive dimensions.
    public static func parse(_ spec: String) -> (name: String, dims: [Int])? {
        let parts = spec.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else { return nil }
        let dims = parts[1].split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard !dims.isEmpty, dims.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return (String(parts[0]), dims.map { $0! })
    }

    public static let example = "input=1x3x224x224"
}
