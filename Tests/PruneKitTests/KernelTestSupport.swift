import PruneKit

/// Seeded inputs and comparisons shared by the kernel and forward-pass tests (namespaced so
/// the names cannot collide with other suites in this target).
enum KernelFixtures {
    /// SplitMix64: reproducible values without depending on the platform's generator.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var g = Generator(seed: seed)
        return (0..<count).map { _ in Float.random(in: -1...1, using: &g) }
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
