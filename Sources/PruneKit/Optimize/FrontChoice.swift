/// Picking one solution from a front. Both work on objectives scaled to [0, 1] by the front's
/// own ideal and nadir points, so that no objective wins by its units.
public enum FrontChoice {
    /// Index of the point nearest (Euclidean) to the ideal point.
    public static func nearestToIdeal(_ front: [[Double]]) -> Int? {
        guard !front.isEmpty else { return nil }
        let scaled = normalizedToUnitBox(front)
        return scaled.indices.min { a, b in
            (squaredNorm(scaled[a]), a) < (squaredNorm(scaled[b]), b)
        }
    }

    /// Index of the knee: the point farthest beyond the hyperplane through the front's extreme
    /// points, on the ideal side (Das 1999; Deb & Gupta 2011) — where giving up a little of one
    /// objective buys the most of the others. When the extremes span no hyperplane, the plane
    /// Σ f = 1 of the scaled objectives stands in.
    public static func knee(_ front: [[Double]]) -> Int? {
        guard let m = front.first?.count else { return nil }
        let scaled = normalizedToUnitBox(front)
        let zero = [Double](repeating: 0, count: m)
        let extremes = HyperplaneNormalization.extremePoints(scaled, ideal: zero)
        var plane = solveLinearSystem(extremes, [Double](repeating: 1, count: m)) ?? []
        if plane.count != m || !plane.allSatisfy({ $0.isFinite && $0 > 0 }) {
            plane = [Double](repeating: 1, count: m)
        }
        let norm = squaredNorm(plane).squareRoot()
        // Signed distance to {f : plane·f = 1}, positive toward the ideal point.
        func beyond(_ p: [Double]) -> Double {
            var s = 0.0
            for k in 0..<m { s += plane[k] * p[k] }
            return (1 - s) / norm
        }
        return scaled.indices.max { a, b in
            (beyond(scaled[a]), -a) < (beyond(scaled[b]), -b)
        }
    }

    static func normalizedToUnitBox(_ points: [[Double]]) -> [[Double]] {
        guard let m = points.first?.count else { return [] }
        var lo = [Double](repeating: .infinity, count: m)
        var hi = [Double](repeating: -.infinity, count: m)
        for p in points {
            for k in 0..<m {
                lo[k] = min(lo[k], p[k])
                hi[k] = max(hi[k], p[k])
            }
        }
        return points.map { p in
            (0..<m).map { k in hi[k] > lo[k] ? (p[k] - lo[k]) / (hi[k] - lo[k]) : 0 }
        }
    }

    private static func squaredNorm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 } }
}
