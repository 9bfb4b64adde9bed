/// How an encoding makes its first candidates and its children.
public protocol Variation: Sendable {
    associatedtype Variables: Hashable & Sendable

    /// A random candidate for the initial population.
    func sample(using rng: inout Xoshiro256StarStar) -> Variables

    /// Two children of two parents: recombination, then mutation of each child.
    func offspring(_ a: Variables, _ b: Variables, using rng: inout Xoshiro256StarStar) -> (Variables, Variables)

    /// A hash of a candidate, for finding duplicates (equality decides; only speed depends on it).
    func fingerprint(_ x: Variables) -> Int
}

extension Variation {
    @inlinable
    public func fingerprint(_ x: Variables) -> Int { x.hashValue }
}

extension Variation where Variables == [Bool] {
    /// Eight bits (bytes) a step: `hashValue` feeds a `Hasher` one Bool at a time, which for
    /// tens of thousands of keep bits cost more than pricing the candidate.
    @inlinable
    public func fingerprint(_ x: [Bool]) -> Int {
        x.withUnsafeBytes { raw in
            var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(raw.count)
            var i = 0
            while i + 8 <= raw.count {
                h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x9e37_79b9_7f4a_7c15
                h ^= h >> 29
                i += 8
            }
            while i < raw.count {
                h = (h ^ UInt64(raw[i])) &* 0x100_0000_01b3
                i += 1
            }
            return Int(truncatingIfNeeded: h ^ (h >> 32))
        }
    }
}
