/// How keep/drop bits split into blocks: block b owns bits `ranges[b]` of the mask.
public struct BlockLayout: Sendable, Equatable {
    public let sizes: [Int]
    public let ranges: [Range<Int>]

    public init(sizes: [Int]) {
        precondition(sizes.allSatisfy { $0 >= 0 }, "block sizes must not be negative")
        self.sizes = sizes
        var start = 0
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(sizes.count)
        for s in sizes {
            ranges.append(start..<(start + s))
            start += s
        }
        self.ranges = ranges
    }

    public var blockCount: Int { sizes.count }
    public var bitCount: Int { ranges.last?.upperBound ?? 0 }

    /// Number of kept (true) bits of `mask` in block `b`.
    public func keptCount(_ mask: [Bool], block b: Int) -> Int {
        var n = 0
        for i in ranges[b] where mask[i] { n += 1 }
        return n
    }
}

/// Operators for keep/drop masks that respect the blocks: children inherit whole blocks, and
/// the count-keeping swap moves which channels a block keeps without changing how many.
public struct BlockBinaryVariation: Variation {
    public var layout: BlockLayout
    /// Probability that a pair is recombined at all.
    public var crossoverProbability: Double
    /// Per block, the probability of swapping one kept and one dropped bit.
    public var swapProbability: Double
    /// Per bit, the probability of flipping it (changes counts; the problem's repair may
    /// restore them).
    public var flipProbability: Double
    /// Initial masks keep each bit with a probability drawn from this range per candidate, so
    /// that the first population spans sparse to dense masks.
    public var initialKeepProbability: ClosedRange<Double>

    public init(layout: BlockLayout, crossoverProbability: Double = 1, swapProbability: Double? = nil,
                flipProbability: Double? = nil, initialKeepProbability: ClosedRange<Double> = 0...1) {
        precondition(layout.bitCount > 0, "need at least one bit")
        self.layout = layout
        self.crossoverProbability = crossoverProbability
        self.swapProbability = swapProbability ?? min(1, 1 / Double(max(1, layout.blockCount)))
        self.flipProbability = flipProbability ?? 1 / Double(layout.bitCount)
        self.initialKeepProbability = initialKeepProbability
    }

    public func sample(using rng: inout Xoshiro256StarStar) -> [Bool] {
        let lo = initialKeepProbability.lowerBound, hi = initialKeepProbability.upperBound
        let p = lo + rng.nextDouble() * (hi - lo)
        return (0..<layout.bitCount).map { _ in rng.chance(p) }
    }

    public func offspring(_ a: [Bool], _ b: [Bool], using rng: inout Xoshiro256StarStar) -> ([Bool], [Bool]) {
        var (c1, c2) = rng.chance(crossoverProbability) ? uniformBlockCrossover(a, b, using: &rng) : (a, b)
        mutate(&c1, using: &rng)
        mutate(&c2, using: &rng)
        return (c1, c2)
    }

    /// Each block of the first child comes from either parent with probability 1/2; the
    /// second child gets the other parent's block.
    public func uniformBlockCrossover(_ a: [Bool], _ b: [Bool], using rng: inout Xoshiro256StarStar) -> ([Bool], [Bool]) {
        precondition(a.count == layout.bitCount && b.count == layout.bitCount, "masks must have \(layout.bitCount) bits")
        var c1 = a, c2 = b
        for r in layout.ranges where rng.chance(0.5) {
            for i in r {
                c1[i] = b[i]
                c2[i] = a[i]
            }
        }
        return (c1, c2)
    }

    public func mutate(_ x: inout [Bool], using rng: inout Xoshiro256StarStar) {
        for b in layout.ranges.indices where rng.chance(swapProbability) {
            swapKeptAndDropped(&x, block: b, using: &rng)
        }
        if flipProbability > 0 {
            for i in x.indices where rng.chance(flipProbability) { x[i].toggle() }
        }
    }

    /// Drops one kept bit of the block and keeps one dropped bit, both chosen at random.
    /// Does nothing to a block that keeps all or none of its bits.
    public func swapKeptAndDropped(_ x: inout [Bool], block b: Int, using rng: inout Xoshiro256StarStar) {
        let r = layout.ranges[b]
        let kept = layout.keptCount(x, block: b)
        guard kept > 0, kept < r.count else { return }
        let dropIndex = nth(true, rng.nextInt(below: kept), in: x, r)
        let keepIndex = nth(false, rng.nextInt(below: r.count - kept), in: x, r)
        x[dropIndex] = false
        x[keepIndex] = true
    }

    private func nth(_ value: Bool, _ n: Int, in x: [Bool], _ r: Range<Int>) -> Int {
        var seen = 0
        for i in r where x[i] == value {
            if seen == n { return i }
            seen += 1
        }
        preconditionFailure("block has fewer than \(n + 1) bits equal to \(value)")
    }
}
