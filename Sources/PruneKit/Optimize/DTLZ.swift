import Foundation

/// The scalable test problems of Deb, Thiele, Laumanns & Zitzler (2005), whose Pareto fronts
/// are known: the yardstick for the optimizer.
///
/// n = M + k − 1 variables in [0, 1]; the first M − 1 place a point on the front, the last k
/// set its distance from it (g = 0, or 1 for DTLZ7, on the front).
public struct DTLZ: RealValuedProblem {
    public enum Kind: String, CaseIterable, Sendable {
        case dtlz1, dtlz2, dtlz3, dtlz4, dtlz7
    }

    public let kind: Kind
    public let objectiveCount: Int
    public let k: Int
    /// DTLZ4's bias exponent on the position variables.
    public let alpha: Double

    /// `k` defaults to the values Deb et al. recommend and Deb & Jain used: 5 for DTLZ1, 10
    /// for DTLZ2–4, 20 for DTLZ7.
    public init(_ kind: Kind, objectives: Int, k: Int? = nil) {
        precondition(objectives >= 2, "DTLZ needs at least two objectives")
        self.kind = kind
        self.objectiveCount = objectives
        self.k = k ?? Self.defaultK(kind)
        precondition(self.k >= 1, "k must be positive")
        self.alpha = 100
    }

    public static func defaultK(_ kind: Kind) -> Int {
        switch kind {
        case .dtlz1: return 5
        case .dtlz2, .dtlz3, .dtlz4: return 10
        case .dtlz7: return 20
        }
    }

    public var variableCount: Int { objectiveCount + k - 1 }
    public var bounds: [ClosedRange<Double>] { Array(repeating: 0...1, count: variableCount) }

    public func evaluate(_ x: [Double]) -> Evaluation {
        precondition(x.count == variableCount, "\(kind.rawValue) takes \(variableCount) variables")
        let m = objectiveCount
        let position = x[0..<(m - 1)]
        let distance = x[(m - 1)...]
        switch kind {
        case .dtlz1:
            let g = multimodalG(distance)
            var f = [Double](repeating: 0.5 * (1 + g), count: m)
            for i in 0..<m {
                for j in 0..<(m - 1 - i) { f[i] *= position[j] }
                if i > 0 { f[i] *= 1 - position[m - 1 - i] }
            }
            return Evaluation(objectives: f)
        case .dtlz2:
            return Evaluation(objectives: sphere(position, g: sphereG(distance)))
        case .dtlz3:
            return Evaluation(objectives: sphere(position, g: multimodalG(distance)))
        case .dtlz4:
            return Evaluation(objectives: sphere(position, g: sphereG(distance), exponent: alpha))
        case .dtlz7:
            let g = 1 + 9 / Double(k) * distance.reduce(0, +)
            var f = Array(position)
            var h = Double(m)
            for v in position { h -= v / (1 + g) * (1 + sin(3 * .pi * v)) }
            f.append((1 + g) * h)
            return Evaluation(objectives: f)
        }
    }

    /// DTLZ1 and DTLZ3: Rastrigin-like, 11^k − 1 local fronts.
    private func multimodalG(_ xm: ArraySlice<Double>) -> Double {
        var s = Double(xm.count)
        for v in xm {
            let d = v - 0.5
            s += d * d - cos(20 * .pi * d)
        }
        return 100 * s
    }

    private func sphereG(_ xm: ArraySlice<Double>) -> Double {
        xm.reduce(0) { $0 + ($1 - 0.5) * ($1 - 0.5) }
    }

    /// The sphere of radius 1 + g, at angles xᵢ^exponent·π/2 (DTLZ4 biases them with α).
    private func sphere(_ position: ArraySlice<Double>, g: Double, exponent: Double? = nil) -> [Double] {
        let m = objectiveCount
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * (m - 1)) { trig in
            // Each angle's cosine and sine once (the products below use them O(M²) times).
            for (j, x) in position.enumerated() {
                let angle = (exponent.map { pow(x, $0) } ?? x) * .pi / 2
                trig[2 * j] = cos(angle)
                trig[2 * j + 1] = sin(angle)
            }
            var f = [Double](repeating: 1 + g, count: m)
            for i in 0..<m {
                for j in 0..<(m - 1 - i) { f[i] *= trig[2 * j] }
                if i > 0 { f[i] *= trig[2 * (m - 1 - i) + 1] }
            }
            return f
        }
    }

    /// Where each reference line meets the true front: the points Deb & Jain measure IGD
    /// against. DTLZ1's front is the simplex Σf = 1/2, DTLZ2–4's the unit sphere's orthant.
    /// Nil for DTLZ7, whose disconnected front most lines miss.
    public func targetedPoints(_ directions: ReferenceDirections) -> [[Double]]? {
        precondition(directions.objectiveCount == objectiveCount, "directions must have \(objectiveCount) components")
        switch kind {
        case .dtlz1:
            return directions.directions.map { w in w.map { 0.5 * $0 / w.reduce(0, +) } }
        case .dtlz2, .dtlz3, .dtlz4:
            return directions.directions.map { w in
                let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
                return w.map { $0 / norm }
            }
        case .dtlz7:
            return nil
        }
    }

    /// A sample of the true Pareto front, `partitions` steps per position variable.
    public func paretoFront(partitions: Int) -> [[Double]] {
        precondition(partitions >= 1, "partitions must be positive")
        if kind != .dtlz7 {
            return targetedPoints(ReferenceDirections.dasDennis(objectives: objectiveCount, partitions: partitions))!
        }
        // DTLZ7: g = 1 on the front; keep the non-dominated part of the surface.
        var grid: [[Double]] = [[]]
        for _ in 0..<(objectiveCount - 1) {
            grid = grid.flatMap { prefix in (0...partitions).map { prefix + [Double($0) / Double(partitions)] } }
        }
        let surface = grid.map { x in
            var h = Double(objectiveCount)
            for v in x { h -= v / 2 * (1 + sin(3 * .pi * v)) }
            return x + [2 * h]
        }
        return NondominatedSorting.fronts(surface)[0].map { surface[$0] }
    }
}
