import PruneKit

/// Seeded inputs and comparisons shared by the kernel and forward-pass tests (namespaced so
/// the names cannot collide with other suites in this target).
enum KernelFixtures {
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        // The project's own seeded generator: the same values on every platform and toolchain.
        var g = Xoshiro256StarStar(seed: seed)
        return (0..<count).map { _ in Float(2 * g.nextDouble() - 1) }
    }

    static func random(_ shape: [Int], seed: UInt64) -> NDArray<Float> {
        try! NDArray(shape: shape, storage: values(shape.reduce(1, *), seed: seed))
    }

    static func array(_ shape: [Int], _ values: [Float]) -> NDArray<Float> {
        try! NDArray(shape: shape, storage: values)
    }

    /// Largest absolute difference; infinity when the counts differ.
    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }
}
