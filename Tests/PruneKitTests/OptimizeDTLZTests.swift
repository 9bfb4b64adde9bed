import Foundation
import Testing
@testable import PruneKit

@Suite struct OptimizeDTLZTests {
    static func close(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-12) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
    }

    @Test func objectivesMatchPymoosOnFixedPoints() {
        // Reference values from pymoo 0.6.2's DTLZ problems at the same points.
        let x = [0.1, 0.7, 0.3, 0.9, 0.45, 0.2, 0.65, 0.5, 0.55, 0.8, 0.05, 0.33]
        #expect(Self.close(DTLZ(.dtlz1, objectives: 3).evaluate(Array(x.prefix(7))).objectives,
                           [15.137499999999996, 6.487500000000001, 194.62499999999997]))
        #expect(Self.close(DTLZ(.dtlz2, objectives: 3).evaluate(x).objectives,
                           [0.7348846010316178, 1.4422922383186143, 0.2563804447544344]))
        #expect(Self.close(DTLZ(.dtlz3, objectives: 3).evaluate(x).objectives,
                           [446.5141166341572, 876.3332961625489, 155.7761417930069]))
        let f4 = DTLZ(.dtlz4, objectives: 3).evaluate(x).objectives
        #expect(abs(f4[0] - 1.6389) < 1e-12 && abs(f4[1]) < 1e-14 && abs(f4[2]) < 1e-90)
        let x7 = (0..<22).map { 0.03 + Double($0) * (0.97 - 0.03) / 21 }
        #expect(Self.close(DTLZ(.dtlz7, objectives: 3).evaluate(x7).objectives,
                           [0.03, 0.07476190476190475, 20.54701350938289], 1e-11))
        let x5 = (0..<14).map { 0.1 + Double($0) * 0.8 / 13 }
        #expect(Self.close(DTLZ(.dtlz2, objectives: 5).evaluate(x5).objectives,
                           [1.1853378897563696, 0.5683101500010341, 0.4804512402269858, 0.36295959174084064, 0.2290052464553439]))
    }

    @Test(arguments: DTLZ.Kind.allCases)
    func optimalDistanceVariablesPutPointsOnTheFront(kind: DTLZ.Kind) {
        let problem = DTLZ(kind, objectives: 4)
        var rng = Xoshiro256StarStar(seed: 5)
        for _ in 0..<20 {
            let position = (0..<3).map { _ in rng.nextDouble() }
            let x = position + Array(repeating: kind == .dtlz7 ? 0 : 0.5, count: problem.k)
            let f = problem.evaluate(x).objectives
            switch kind {
            case .dtlz1: #expect(abs(f.reduce(0, +) - 0.5) < 1e-12)
            case .dtlz2, .dtlz3, .dtlz4: #expect(abs(f.reduce(0) { $0 + $1 * $1 } - 1) < 1e-12)
            case .dtlz7:
                var h = 4.0
                for v in position { h -= v / 2 * (1 + sin(3 * Double.pi * v)) }
                #expect(abs(f[3] - 2 * h) < 1e-12)
            }
        }
    }

    @Test func targetedPointsLieOnTheFrontAlongTheDirections() {
        let directions = ReferenceDirections.dasDennis(objectives: 3, partitions: 12)
        let z1 = DTLZ(.dtlz1, objectives: 3).targetedPoints(directions)!
        let z2 = DTLZ(.dtlz2, objectives: 3).targetedPoints(directions)!
        #expect(z1.count == 91 && z2.count == 91)
        #expect(z1.allSatisfy { abs($0.reduce(0, +) - 0.5) < 1e-12 })
        #expect(z2.allSatisfy { abs($0.reduce(0) { $0 + $1 * $1 } - 1) < 1e-12 })
        #expect(DTLZ(.dtlz7, objectives: 3).targetedPoints(directions) == nil)
    }

    @Test func dtlz7FrontIsNonDominatedAndDisconnected() {
        let front = DTLZ(.dtlz7, objectives: 3).paretoFront(partitions: 30)
        #expect(front.count > 100)
        #expect(NondominatedSorting.fronts(front).count == 1)
        // Four separate regions in (f1, f2): no front point has f1 in the gaps around 0.3 and 0.7.
        #expect(!front.contains { $0[0] > 0.27 && $0[0] < 0.6 })
        #expect(DTLZ(.dtlz2, objectives: 3).paretoFront(partitions: 10).count == 66)
    }
}
