/// Quality indicators of an approximation set against a reference set (objectives minimized).
public enum Indicators {
    /// Inverted generational distance: the mean, over the reference points, of the Euclidean
    /// distance to the nearest point of the set. Small when the set is both close to the front
    /// and spread over all of it.
    public static func igd(_ set: [[Double]], reference: [[Double]]) -> Double {
        meanNearest(set, reference) { a, z in
            var s = 0.0
            for k in a.indices {
                let d = a[k] - z[k]
                s += d * d
            }
            return s
        }
    }

    /// IGD+ (Ishibuchi et al. 2015): like IGD, but only the amounts by which a point is worse
    /// than the reference point count, which makes it weakly Pareto compliant.
    public static func igdPlus(_ set: [[Double]], reference: [[Double]]) -> Double {
        meanNearest(set, reference) { a, z in
            var s = 0.0
            for k in a.indices {
                let d = max(a[k] - z[k], 0)
                s += d * d
            }
            return s
        }
    }

    private static func meanNearest(_ set: [[Double]], _ reference: [[Double]],
                                    _ squaredDistance: ([Double], [Double]) -> Double) -> Double {
        precondition(!set.isEmpty && !reference.isEmpty, "IGD needs a set and a reference set")
        var total = 0.0
        for z in reference {
            var best = Double.infinity
            for a in set { best = min(best, squaredDistance(a, z)) }
            total += best.squareRoot()
        }
        return total / Double(reference.count)
    }
}
