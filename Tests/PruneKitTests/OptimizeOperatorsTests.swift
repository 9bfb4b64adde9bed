import Foundation
import Testing
@testable import PruneKit

@Suite struct OptimizeOperatorsTests {
    let bounds: [ClosedRange<Double>] = [0...1, -5...5, 10...20, 0...1]

    @Test func sbxChildrenStayInBoundsNearTheirParents() {
        let variation = RealVariation(bounds: bounds)
        var rng = Xoshiro256StarStar(seed: 11)
        var spread = 0.0, count = 0.0
        for _ in 0..<2000 {
            let a = variation.sample(using: &rng), b = variation.sample(using: &rng)
            let (c1, c2) = variation.simulatedBinaryCrossover(a, b, using: &rng)
            for i in bounds.indices {
                #expect(bounds[i].contains(c1[i]) && bounds[i].contains(c2[i]))
                let gap = abs(a[i] - b[i])
                if gap > 0, c1[i] != a[i] || c2[i] != b[i] {
                    // Distance of the children's spread to the parents', relative to the gap.
                    spread += abs(abs(c1[i] - c2[i]) - gap) / gap
                    count += 1
                }
            }
        }
        // η = 30 keeps children close to their parents; about half the variables cross.
        #expect(count > 2000 && spread / count < 0.2)
    }

    @Test func sbxIsSymmetricAboutTheParentsFarFromTheBounds() {
        let variation = RealVariation(bounds: [(-1e6)...1e6, (-1e6)...1e6], variableCrossoverProbability: 1)
        var rng = Xoshiro256StarStar(seed: 12)
        for _ in 0..<500 {
            let a = [rng.nextDouble(), rng.nextDouble()], b = [rng.nextDouble(), rng.nextDouble()]
            let (c1, c2) = variation.simulatedBinaryCrossover(a, b, using: &rng)
            for i in 0..<2 { #expect(abs((c1[i] + c2[i]) - (a[i] + b[i])) < 1e-9) }
        }
    }

    @Test func sbxLeavesIdenticalParentsAlone() {
        let variation = RealVariation(bounds: bounds)
        var rng = Xoshiro256StarStar(seed: 2)
        let a = [0.5, 1, 15, 0.25]
        let (c1, c2) = variation.simulatedBinaryCrossover(a, a, using: &rng)
        #expect(c1 == a && c2 == a)
    }

    @Test func polynomialMutationStaysInBoundsAndMovesLittle() {
        let variation = RealVariation(bounds: bounds, mutationProbability: 1)
        var rng = Xoshiro256StarStar(seed: 3)
        var totalStep = 0.0
        for _ in 0..<2000 {
            let x = variation.sample(using: &rng)
            var y = x
            variation.polynomialMutation(&y, using: &rng)
            for i in bounds.indices {
                #expect(bounds[i].contains(y[i]))
                totalStep += abs(y[i] - x[i]) / (bounds[i].upperBound - bounds[i].lowerBound)
            }
        }
        // η = 20: the mean step is a few per cent of the range.
        let meanStep = totalStep / 8000
        #expect(meanStep > 0.005 && meanStep < 0.08)
    }

    @Test func mutationAtTheBoundsStaysInside() {
        let variation = RealVariation(bounds: [0...1], mutationProbability: 1)
        var rng = Xoshiro256StarStar(seed: 4)
        for start in [0.0, 1.0] {
            for _ in 0..<500 {
                var x = [start]
                variation.polynomialMutation(&x, using: &rng)
                #expect((0...1).contains(x[0]))
            }
        }
    }

    let layout = BlockLayout(sizes: [4, 1, 6, 3])

    @Test func layoutAddressesBlocks() {
        #expect(layout.bitCount == 14 && layout.blockCount == 4)
        #expect(layout.ranges == [0..<4, 4..<5, 5..<11, 11..<14])
        let mask = [true, false, true, true, false, true, true, true, false, false, false, true, true, true]
        #expect((0..<4).map { layout.keptCount(mask, block: $0) } == [3, 0, 3, 3])
    }

    @Test func uniformBlockCrossoverPassesWholeBlocks() {
        let variation = BlockBinaryVariation(layout: layout)
        var rng = Xoshiro256StarStar(seed: 5)
        let a = [Bool](repeating: true, count: 14), b = [Bool](repeating: false, count: 14)
        var mixed = false
        for _ in 0..<50 {
            let (c1, c2) = variation.uniformBlockCrossover(a, b, using: &rng)
            for r in layout.ranges {
                let block1 = Array(c1[r]), block2 = Array(c2[r])
                #expect(block1 == Array(a[r]) && block2 == Array(b[r]) || block1 == Array(b[r]) && block2 == Array(a[r]))
            }
            if c1.contains(true) && c1.contains(false) { mixed = true }
        }
        #expect(mixed)
    }

    @Test func swapKeepsEveryBlocksCount() {
        let variation = BlockBinaryVariation(layout: layout, swapProbability: 1, flipProbability: 0)
        var rng = Xoshiro256StarStar(seed: 6)
        var x = variation.sample(using: &rng)
        let counts = (0..<4).map { layout.keptCount(x, block: $0) }
        var changed = false
        for _ in 0..<200 {
            let before = x
            variation.mutate(&x, using: &rng)
            #expect((0..<4).map { layout.keptCount(x, block: $0) } == counts)
            if x != before { changed = true }
        }
        #expect(changed || counts.enumerated().allSatisfy { $1 == 0 || $1 == layout.sizes[$0] })
        // A block that keeps all or none of its bits has nothing to swap.
        var full = [Bool](repeating: true, count: 14)
        variation.swapKeptAndDropped(&full, block: 2, using: &rng)
        #expect(full == [Bool](repeating: true, count: 14))
    }

    @Test func flipsChangeBitsAtTheirRate() {
        let variation = BlockBinaryVariation(layout: BlockLayout(sizes: [1000]), swapProbability: 0, flipProbability: 0.1)
        var rng = Xoshiro256StarStar(seed: 7)
        var x = [Bool](repeating: false, count: 1000)
        variation.mutate(&x, using: &rng)
        let flipped = x.filter { $0 }.count
        #expect(flipped > 60 && flipped < 140)
    }

    @Test func samplesSpanSparseToDense() {
        let variation = BlockBinaryVariation(layout: BlockLayout(sizes: [50, 50]))
        var rng = Xoshiro256StarStar(seed: 8)
        let fractions = (0..<200).map { _ in Double(variation.sample(using: &rng).filter { $0 }.count) / 100 }
        #expect(fractions.min()! < 0.1 && fractions.max()! > 0.9)
    }

    @Test func integerPowerMatchesPow() {
        for x in [0.0, 0.3, 0.999, 1, 1.7, 12.5] {
            for e in [0.0, 1, 2, 21, 31, 64] {
                #expect(abs(power(x, e) - Foundation.pow(x, e)) <= 1e-13 * max(1, Foundation.pow(x, e)))
            }
        }
        #expect(power(2, 0.5) == 2.0.squareRoot())
    }
}
