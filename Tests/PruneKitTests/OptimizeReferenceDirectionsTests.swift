import Testing
@testable import PruneKit

@Suite struct OptimizeReferenceDirectionsTests {
    static func onSimplex(_ d: ReferenceDirections) -> Bool {
        d.directions.allSatisfy { w in
            w.count == d.objectiveCount && w.allSatisfy { $0 >= 0 } && abs(w.reduce(0, +) - 1) < 1e-12
        }
    }

    @Test func dasDennisCountsMatchTheBinomial() {
        #expect(ReferenceDirections.dasDennis(objectives: 3, partitions: 12).count == 91)
        #expect(ReferenceDirections.dasDennis(objectives: 5, partitions: 6).count == 210)
        #expect(ReferenceDirections.dasDennisCount(objectives: 3, partitions: 12) == 91)
        #expect(ReferenceDirections.dasDennisCount(objectives: 5, partitions: 6) == 210)
        #expect(ReferenceDirections.dasDennisCount(objectives: 8, partitions: 3) == 120)
        for (m, p) in [(2, 5), (3, 12), (4, 7), (5, 6), (8, 3)] {
            let d = ReferenceDirections.dasDennis(objectives: m, partitions: p)
            #expect(d.count == ReferenceDirections.dasDennisCount(objectives: m, partitions: p))
            #expect(Self.onSimplex(d))
            #expect(Set(d.directions).count == d.count)
            // Every component is a multiple of 1/p.
            #expect(d.directions.allSatisfy { w in w.allSatisfy { abs(($0 * Double(p)).rounded() - $0 * Double(p)) < 1e-9 } })
        }
    }

    @Test func dasDennisHasTheCornersAndTheCentre() {
        let d = ReferenceDirections.dasDennis(objectives: 3, partitions: 3)
        #expect(d.directions.contains([1, 0, 0]))
        #expect(d.directions.contains([0, 0, 1]))
        #expect(d.directions.contains([1.0 / 3, 1.0 / 3, 1.0 / 3]))
    }

    @Test func twoLayerDirectionsHaveDebAndJainsCounts() {
        // Deb & Jain 2014, Table I: 8 and 10 objectives (p = 3 and 2), 15 objectives (2 and 1).
        let eight = ReferenceDirections.twoLayer(objectives: 8, boundaryPartitions: 3, insidePartitions: 2)
        let ten = ReferenceDirections.twoLayer(objectives: 10, boundaryPartitions: 3, insidePartitions: 2)
        let fifteen = ReferenceDirections.twoLayer(objectives: 15, boundaryPartitions: 2, insidePartitions: 1)
        #expect(eight.count == 156)
        #expect(ten.count == 275)
        #expect(fifteen.count == 135)
        for d in [eight, ten, fifteen] {
            #expect(Self.onSimplex(d))
            #expect(Set(d.directions).count == d.count)
        }
    }

    @Test func insideLayerIsShrunkTowardTheCentroid() {
        let m = 8
        let d = ReferenceDirections.twoLayer(objectives: m, boundaryPartitions: 3, insidePartitions: 2)
        let inside = d.directions.suffix(36)
        // τ = 1/2: every component lies in [1/(2m), 1/2 + 1/(2m)], so no inside point is on the boundary.
        #expect(inside.allSatisfy { w in w.allSatisfy { $0 >= 0.5 / Double(m) - 1e-12 && $0 <= 0.5 + 0.5 / Double(m) + 1e-12 } })
        let boundary = d.directions.prefix(120)
        #expect(boundary.allSatisfy { w in w.contains(0) })
    }

    @Test func debAndJainsPopulationSizes() {
        let sizes = [3, 5, 8, 10, 15].map {
            ReferenceDirections.populationSize(forDirections: ReferenceDirections.deb2014(objectives: $0).count)
        }
        #expect(sizes == [92, 212, 156, 276, 136])
        for m in [2, 4, 6, 7, 9] {
            let d = ReferenceDirections.deb2014(objectives: m)
            #expect(d.objectiveCount == m && d.count > m && Self.onSimplex(d))
        }
    }
}
