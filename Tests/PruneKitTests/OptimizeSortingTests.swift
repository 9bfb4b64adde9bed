import Foundation
import Testing
@testable import PruneKit

@Suite struct OptimizeSortingTests {
    /// Peel off the points no remaining point dominates, again and again: obviously right,
    /// O(F·N²·M).
    static func bruteForceFronts(_ points: [[Double]]) -> [Set<Int>] {
        var remaining = Set(points.indices)
        var fronts: [Set<Int>] = []
        while !remaining.isEmpty {
            let front = remaining.filter { i in
                !remaining.contains { j in NondominatedSorting.dominates(points[j], points[i]) }
            }
            fronts.append(front)
            remaining.subtract(front)
        }
        return fronts
    }

    static func randomPoints(_ n: Int, _ m: Int, seed: UInt64, levels: Int? = nil) -> [[Double]] {
        var rng = Xoshiro256StarStar(seed: seed)
        return (0..<n).map { _ in
            (0..<m).map { _ in
                // A few discrete levels force ties and duplicates, where sorts go wrong.
                if let levels { return Double(rng.nextInt(below: levels)) }
                return rng.nextDouble()
            }
        }
    }

    @Test(arguments: [2, 3, 4, 5, 8, 10, 15])
    func matchesBruteForceOnRandomSets(objectives m: Int) {
        for seed in UInt64(1)...3 {
            let points = Self.randomPoints(300, m, seed: seed &+ UInt64(m) &* 100)
            let fronts = NondominatedSorting.fronts(points)
            #expect(fronts.map(Set.init) == Self.bruteForceFronts(points))
        }
    }

    @Test(arguments: [2, 3, 4, 6])
    func matchesBruteForceWithTiesAndDuplicates(objectives m: Int) {
        for seed in UInt64(1)...4 {
            let points = Self.randomPoints(300, m, seed: seed &+ 7 &* UInt64(m), levels: 5)
            #expect(NondominatedSorting.fronts(points).map(Set.init) == Self.bruteForceFronts(points))
        }
    }

    @Test func negativeValuesAndSignedZerosSortRight() {
        var rng = Xoshiro256StarStar(seed: 31)
        let values: [Double] = [-2, -1, -0.0, 0.0, 0.5, 1e300, -1e-300]
        for m in [2, 3, 4, 7] {
            let points = (0..<200).map { _ in (0..<m).map { _ in values[rng.nextInt(below: values.count)] } }
            #expect(NondominatedSorting.fronts(points).map(Set.init) == Self.bruteForceFronts(points))
        }
    }

    @Test func radixSorterOrdersDoubles() {
        var rng = Xoshiro256StarStar(seed: 32)
        let keys = (0..<500).map { _ in (rng.nextDouble() - 0.5) * pow(10, Double(rng.nextInt(below: 40)) - 20) }
        var sorter = RadixSorter(count: keys.count)
        let order = sorter.sort { keys[$0] }
        #expect(order.map { keys[$0] } == keys.sorted())
        #expect(sorter.sort { keys[$0] } == order)
    }

    @Test func radixSorterOrdersKeysThatDifferOnlyInTheirLastBits() {
        // Equal in the top 24 bits the radix passes look at: the finishing insertion sort
        // alone orders them. Plus signed zeros, which must get equal keys.
        var rng = Xoshiro256StarStar(seed: 33)
        var keys = (0..<300).map { _ in 1 + Double(rng.nextInt(below: 1000)) * Double.ulpOfOne }
        keys += [0.0, -0.0, 0.0, -0.0, 1e-300, -1e-300]
        rng.shuffle(&keys)
        var sorter = RadixSorter(count: keys.count)
        let order = sorter.sort { keys[$0] }
        #expect(order.map { keys[$0] } == keys.sorted())
        #expect(Set(order) == Set(keys.indices))
        let sortedKeys = sorter.sortedKeys
        for i in 1..<keys.count {
            #expect((sortedKeys[i - 1] == sortedKeys[i]) == (keys[order[i - 1]] == keys[order[i]]))
        }
    }

    @Test func correlatedPointsMakeManyFronts() {
        // Points near a line through the origin: ~100 fronts, exercising the front search.
        var rng = Xoshiro256StarStar(seed: 9)
        for m in [2, 3, 5] {
            let points = (0..<300).map { _ in
                let t = rng.nextDouble()
                return (0..<m).map { _ in t + 0.05 * rng.nextDouble() }
            }
            let fronts = NondominatedSorting.fronts(points)
            #expect(fronts.count > 10)
            #expect(fronts.map(Set.init) == Self.bruteForceFronts(points))
        }
    }

    @Test func dominanceAndConstraintDominance() {
        #expect(NondominatedSorting.dominates([1, 2], [1, 3]))
        #expect(!NondominatedSorting.dominates([1, 2], [1, 2]))
        #expect(!NondominatedSorting.dominates([1, 4], [2, 3]))
        #expect(NondominatedSorting.constraintDominates([9, 9], violation: 0, [0, 0], violation: 0.1))
        #expect(NondominatedSorting.constraintDominates([9, 9], violation: 0.1, [0, 0], violation: 0.2))
        #expect(!NondominatedSorting.constraintDominates([0, 0], violation: 0.2, [9, 9], violation: 0.1))
    }

    @Test func infeasiblePointsRankAfterFeasibleOnesByViolation() {
        let points: [[Double]] = [[0, 0], [1, 1], [2, 0], [5, 5], [0, 3]]
        let violations: [Double] = [0.5, 0, 0, 0, 0.5]
        let fronts = NondominatedSorting.fronts(points, violations: violations)
        #expect(fronts == [[1, 2], [3], [0, 4]])
        #expect(NondominatedSorting.ranks([[1, 1], [0, 0], [2, 2]]) == [1, 0, 2])
        #expect(NondominatedSorting.fronts([]).isEmpty)
    }
}
