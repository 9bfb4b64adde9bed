import Foundation
import Testing
@testable import PruneKit

/// The association step (nearest reference line per point) against the plain double-precision
/// loop it must reproduce bit for bit, and against geometry.
@Suite struct OptimizeAssociationTests {
    /// The reference: every projection p·w (unit w) in double, component by component, the
    /// first largest kept; distance √(|p|² − (p·w)²).
    static func reference(_ points: [[Double]], _ directions: ReferenceDirections) -> (niche: [Int], distance: [Double]) {
        let units = directions.directions.map { w in
            let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return w.map { $0 / norm }
        }
        var niche: [Int] = []
        var distance: [Double] = []
        for p in points {
            var best = 0, top = -Double.infinity
            for (j, w) in units.enumerated() {
                var d = 0.0
                for k in p.indices { d += p[k] * w[k] }
                if d > top {
                    top = d
                    best = j
                }
            }
            var norm2 = 0.0
            for v in p { norm2 += v * v }
            niche.append(best)
            distance.append(max(0, norm2 - top * top).squareRoot())
        }
        return (niche, distance)
    }

    /// Associates `points` as given (ideal 0, scale 1).
    static func associate(_ points: [[Double]], _ directions: ReferenceDirections) -> (niche: [Int], distance: [Double]) {
        let m = directions.objectiveCount
        let flat = points.flatMap { $0 }
        return flat.withUnsafeBufferPointer {
            ReferenceLineAssociation(directions).associate($0, Array(points.indices), ideal: Array(repeating: 0, count: m),
                                                           scale: Array(repeating: 1, count: m))
        }
    }

    static func expectSame(_ points: [[Double]], _ directions: ReferenceDirections,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        let got = associate(points, directions)
        let want = reference(points, directions)
        #expect(got.niche == want.niche, sourceLocation: sourceLocation)
        #expect(got.distance.map(\.bitPattern) == want.distance.map(\.bitPattern), sourceLocation: sourceLocation)
    }

    @Test(arguments: [2, 3, 5, 8, 10, 15])
    func matchesTheDoubleLoopOnRandomPoints(objectives m: Int) {
        var rng = Xoshiro256StarStar(seed: UInt64(m))
        let directions = ReferenceDirections.deb2014(objectives: m)
        // Spread over magnitudes, with exact zeros (boundary points tie between many lines).
        let points = (0..<203).map { _ in
            (0..<m).map { _ -> Double in
                rng.chance(0.2) ? 0 : rng.nextDouble() * pow(10, Double(rng.nextInt(below: 5)) - 2)
            }
        }
        Self.expectSame(points, directions)
    }

    @Test func nearTiesAreDecidedInDouble() {
        // Points a hair (far below float precision) off the bisector of two lines: the float
        // pass cannot tell the lines apart, the exact pass must pick the right one.
        let directions = ReferenceDirections.dasDennis(objectives: 3, partitions: 4)
        let offsets = stride(from: -8.0, through: 8.0, by: 1).map { $0 * 1e-13 }
        let points = offsets.map { e in [0.5 + e, 0.5 - e, 0.25] }
        Self.expectSame(points, directions)
        // [0.5 + ε, 0.5 − ε, 0.25] is nearest to (0.5, 0.25, 0.25) for ε > 0, to (0.25, 0.5, 0.25)
        // for ε < 0, and on the exact tie to the first of the two (the lattice is in
        // lexicographic order, so (0.25, 0.5, 0.25) comes first).
        let upper = directions.directions.firstIndex(of: [0.5, 0.25, 0.25])!
        let lower = directions.directions.firstIndex(of: [0.25, 0.5, 0.25])!
        #expect(lower < upper)
        #expect(Self.associate(points, directions).niche == offsets.map { $0 > 0 ? upper : lower })
    }

    @Test func linesCloserThanFloatPrecisionAreToldApart() {
        // Pairs of lines whose projections of a point differ by 10⁻⁹ to 10⁻⁷ relative: below
        // float resolution (6·10⁻⁸), above double's. Each point p gets a line a near it and
        // a line b = a + δ·v with v ⟂ p, so p·b/|b| and p·a differ only through |b|.
        var rng = Xoshiro256StarStar(seed: 5)
        let m = 5
        func unit(_ x: [Double]) -> [Double] {
            let norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return x.map { $0 / norm }
        }
        var points: [[Double]] = []
        var lines: [[Double]] = []
        for _ in 0..<150 {
            let p = (0..<m).map { _ in 0.2 + rng.nextDouble() }
            let a = unit(p.map { $0 * (1 + 0.02 * (rng.nextDouble() - 0.5)) })
            var v = (0..<m).map { _ in rng.nextDouble() - 0.5 }
            let pv = zip(p, v).reduce(0) { $0 + $1.0 * $1.1 } / p.reduce(0) { $0 + $1 * $1 }
            v = zip(v, p).map { $0 - pv * $1 }
            let delta = pow(10, -4 - 2 * rng.nextDouble())
            let b = unit(zip(a, v).map { $0 + delta * $1 })
            points.append(p)
            lines += rng.chance(0.5) ? [a, b] : [b, a]
        }
        Self.expectSame(points, ReferenceDirections(objectiveCount: m, directions: lines))
    }

    @Test func oddPointsTakeTheExactPath() {
        let directions = ReferenceDirections.deb2014(objectives: 5)
        let points: [[Double]] = [
            [0, 0, 0, 0, 0],                          // every projection 0: the first line
            [Double.leastNormalMagnitude / 1024, 0, Double.leastNormalMagnitude / 4096, 0, 0],  // subnormal: 1/max overflows
            [1e300, 2e300, 0, 0, 1e299],              // huge
            [1e-200, 3e-200, 0, 2e-200, 0],           // tiny
            [.nan, 1, 0, 0, 0],                       // every projection NaN: the first line
            [.infinity, 1, 0, 0, 0],
            [0.2, 0.2, 0.2, 0.2, 0.2],                // the centre: ties across the lattice
        ]
        Self.expectSame(points, directions)
        #expect(Self.associate(points, directions).niche[0] == 0)
    }

    @Test func negativeDirectionsAreHandledExactly() {
        // Not simplex directions; the float pass's bound assumes non-negative terms.
        let directions = ReferenceDirections(objectiveCount: 3, directions: [[1, -0.5, 0.2], [0.3, 0.3, 0.3], [-1, 2, 0.1], [0, 0, 1]])
        var rng = Xoshiro256StarStar(seed: 77)
        let points = (0..<50).map { _ in (0..<3).map { _ in rng.nextDouble() } }
        Self.expectSame(points, directions)
    }

    @Test func pointsOnALineAreAtDistanceZeroAndOffItAtTheRightDistance() {
        let directions = ReferenceDirections.dasDennis(objectives: 3, partitions: 2)
        // (1, 1, 0)/√2 scaled by 3, then moved 0.1 along (0, 0, 1), orthogonal to that line.
        let on = [3.0, 3.0, 0]
        let off = [3.0, 3.0, 0.1]
        let got = Self.associate([on, off], directions)
        let line = directions.directions.firstIndex(of: [0.5, 0.5, 0])!
        #expect(got.niche == [line, line])
        #expect(got.distance[0] < 1e-7)
        #expect(abs(got.distance[1] - 0.1) < 1e-6)
    }
}
