import Foundation
import Testing
@testable import PruneKit

@Suite struct OptimizeIndicatorsTests {
    @Test func igdAndIgdPlusOnSmallSets() {
        let reference: [[Double]] = [[0, 1], [0.5, 0.5], [1, 0]]
        #expect(Indicators.igd(reference, reference: reference) == 0)
        #expect(Indicators.igdPlus(reference, reference: reference) == 0)
        // One point at (0.5, 0.5): distances 1/√2, 0, 1/√2.
        let single: [[Double]] = [[0.5, 0.5]]
        #expect(abs(Indicators.igd(single, reference: reference) - (2 / 2.0.squareRoot()) / 3) < 1e-15)
        // IGD+ counts only how much worse: (0.5, 0) from (0, 1), 0, (0, 0.5) from (1, 0).
        #expect(abs(Indicators.igdPlus(single, reference: reference) - (0.5 + 0 + 0.5) / 3) < 1e-15)
        // A set beyond the front in every objective is not penalized by IGD+ at all.
        let better: [[Double]] = [[-1, -1]]
        #expect(Indicators.igdPlus(better, reference: reference) == 0)
        #expect(Indicators.igd(better, reference: reference) > 1)
    }

    /// Inclusion–exclusion over all subsets: exact, exponential, fine for a handful of points.
    static func inclusionExclusion(_ points: [[Double]], _ ref: [Double]) -> Double {
        let n = points.count
        var total = 0.0
        for mask in 1..<(1 << n) {
            var corner = [Double](repeating: -.infinity, count: ref.count)
            var size = 0
            for i in 0..<n where mask & (1 << i) != 0 {
                size += 1
                for k in ref.indices { corner[k] = max(corner[k], points[i][k]) }
            }
            var volume = 1.0
            for k in ref.indices { volume *= max(0, ref[k] - corner[k]) }
            total += size % 2 == 1 ? volume : -volume
        }
        return total
    }

    @Test func exactHypervolumeOnKnownSets() {
        #expect(Hypervolume.exact([[1, 2], [2, 1]], reference: [3, 3]) == 3)
        #expect(Hypervolume.exact([[0, 0, 0]], reference: [1, 1, 1]) == 1)
        #expect(Hypervolume.exact([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]], reference: [1, 1, 1]) == 0.125)
        // Points beyond the reference point add nothing.
        #expect(Hypervolume.exact([[2, 0], [0.5, 0.5]], reference: [1, 1]) == 0.25)
        #expect(Hypervolume.exact([], reference: [1, 1]) == 0)
        #expect(Hypervolume.exact([[0.25]], reference: [1]) == 0.75)
    }

    @Test(arguments: [2, 3, 4])
    func exactHypervolumeMatchesInclusionExclusion(objectives m: Int) {
        var rng = Xoshiro256StarStar(seed: UInt64(m))
        for _ in 0..<30 {
            let n = 1 + rng.nextInt(below: 9)
            // Coarse values make ties and dominated points common.
            let points = (0..<n).map { _ in (0..<m).map { _ in Double(rng.nextInt(below: 6)) / 5 } }
            let ref = [Double](repeating: 1.1, count: m)
            let exact = Hypervolume.exact(points, reference: ref)
            #expect(abs(exact - Self.inclusionExclusion(points, ref)) < 1e-12)
        }
    }

    @Test func hypervolumeOfTheSphereFrontApproachesTheKnownVolume() {
        // DTLZ2's front against (1,1,1): the unit cube minus the positive octant of the ball.
        let front = DTLZ(.dtlz2, objectives: 3).paretoFront(partitions: 40)
        let hv = Hypervolume.of(front, reference: [1, 1, 1])
        #expect(hv.isExact && hv.standardError == 0)
        let truth = 1 - Double.pi / 6
        #expect(hv.value < truth && hv.value > truth - 0.03)
    }

    @Test func monteCarloEstimateAgreesWithTheExactValue() {
        var rng = Xoshiro256StarStar(seed: 21)
        for m in [4, 5] {
            let points = (0..<8).map { _ in (0..<m).map { _ in rng.nextDouble() } }
            let ref = [Double](repeating: 1, count: m)
            let exact = Self.inclusionExclusion(points, ref)
            let estimate = Hypervolume.monteCarlo(points, reference: ref, samples: 40_000, seed: 3)
            #expect(!estimate.isExact && estimate.standardError > 0)
            #expect(abs(estimate.value - exact) < 4 * estimate.standardError)
        }
        // Beyond the exact limit, `of` estimates.
        let five = Hypervolume.of([[0.5, 0.5, 0.5, 0.5, 0.5]], reference: [1, 1, 1, 1, 1], samples: 20_000)
        #expect(!five.isExact && abs(five.value - 1.0 / 32) < 4 * five.standardError + 1e-12)
    }

    @Test func kneeIsTheBulgeOfTheFront() {
        // The extremes (0, 1) and (1, 0), a straight part, and one point pushed toward the ideal.
        let front: [[Double]] = [[0, 1], [0.2, 0.8], [0.8, 0.2], [1, 0], [0.3, 0.35], [0.6, 0.4]]
        #expect(FrontChoice.knee(front) == 4)
        #expect(FrontChoice.nearestToIdeal(front) == 4)
        #expect(FrontChoice.knee([]) == nil)
        #expect(FrontChoice.nearestToIdeal([[3, 3]]) == 0)
    }

    @Test func nearestToIdealScalesObjectivesFirst() {
        // In raw units (0.5, 500) looks far from the ideal; scaled to the front's ranges it is
        // the closest.
        let front: [[Double]] = [[0, 1000], [0.5, 500], [1, 0], [0.9, 100]]
        #expect(FrontChoice.nearestToIdeal(front) == 1)
        // A quarter circle bulging toward the ideal: the knee is its middle point.
        let circle = (0...10).map { i -> [Double] in
            let t = Double(i) / 10 * .pi / 2
            return [1 - sin(t), 1 - cos(t)]
        }
        #expect(FrontChoice.knee(circle) == 5)
    }
}
