import Foundation

/// The operators of the MFIS encoding: uniform crossover per block and count-keeping swaps
/// (`BlockBinaryVariation`), with bit flips drawn by skipping (a geometric gap between flips,
/// so a mask of a hundred thousand bits costs a few draws, not one per bit). With a
/// pre-specified rate only share bits are flipped: a flipped keep bit would be put back by
/// repair at once.
public struct MFISVariation: Variation {
    public var blocks: BlockBinaryVariation
    /// Bits that flips may touch.
    public var flippable: Range<Int>
    /// Expected flips per child.
    public var flipsPerChild: Double

    public init(problem: MFISProblem) {
        blocks = BlockBinaryVariation(layout: problem.layout, flipProbability: 0)
        let firstShare = problem.shareOffset.first ?? problem.layout.bitCount
        flippable = problem.targetCounts == nil ? 0..<problem.layout.bitCount : firstShare..<problem.layout.bitCount
        flipsPerChild = flippable.isEmpty ? 0 : 1
    }

    public func sample(using rng: inout Xoshiro256StarStar) -> [Bool] {
        blocks.sample(using: &rng)
    }

    public func offspring(_ a: [Bool], _ b: [Bool], using rng: inout Xoshiro256StarStar) -> ([Bool], [Bool]) {
        var (c1, c2) = rng.chance(blocks.crossoverProbability) ? blocks.uniformBlockCrossover(a, b, using: &rng) : (a, b)
        mutate(&c1, using: &rng)
        mutate(&c2, using: &rng)
        return (c1, c2)
    }

    public func mutate(_ x: inout [Bool], using rng: inout Xoshiro256StarStar) {
        blocks.mutate(&x, using: &rng)  // swaps only: its flip probability is 0
        guard flipsPerChild > 0 else { return }
        let p = flipsPerChild / Double(flippable.count)
        guard p < 1 else {
            for i in flippable { x[i].toggle() }
            return
        }
        // Gaps between flips are geometric: ⌊ln u / ln(1 − p)⌋ bits not flipped, then one flipped.
        let logKeep = log(1 - p)
        var i = flippable.lowerBound - 1
        while true {
            let u = max(rng.nextDouble(), .leastNonzeroMagnitude)
            i += 1 + Int(min(Double(flippable.count), (log(u) / logKeep).rounded(.down)))
            guard i < flippable.upperBound else { return }
            x[i].toggle()
        }
    }
}
