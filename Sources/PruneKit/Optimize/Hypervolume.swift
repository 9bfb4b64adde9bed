/// The volume of objective space that a set dominates and that dominates a reference point.
public struct Hypervolume: Sendable, Equatable {
    public var value: Double
    /// Standard error of a Monte-Carlo estimate; 0 when exact.
    public var standardError: Double
    public var isExact: Bool

    /// Exact for up to `exactUpTo` objectives (default 4), a Monte-Carlo estimate with
    /// `samples` points beyond, where the exact volume costs exponentially more.
    public static func of(_ set: [[Double]], reference: [Double], exactUpTo: Int = 4,
                          samples: Int = 100_000, seed: UInt64 = 0) -> Hypervolume {
        if reference.count <= exactUpTo {
            return Hypervolume(value: exact(set, reference: reference), standardError: 0, isExact: true)
        }
        return monteCarlo(set, reference: reference, samples: samples, seed: seed)
    }

    /// Hypervolume by slicing objectives (While et al. 2006): sweep the last objective and sum
    /// slab height × the volume of the points below, one dimension down; in two dimensions a
    /// staircase sweep. O(n^(M−1) log n): meant for M ≤ 4.
    public static func exact(_ set: [[Double]], reference: [Double]) -> Double {
        let m = reference.count
        precondition(set.allSatisfy { $0.count == m }, "points must have \(m) objectives")
        let inside = set.filter { p in (0..<m).allSatisfy { p[$0] < reference[$0] } }
        return slice(inside, reference, dimension: m)
    }

    private static func slice(_ points: [[Double]], _ ref: [Double], dimension d: Int) -> Double {
        if points.isEmpty { return 0 }
        if d == 1 { return ref[0] - points.map { $0[0] }.min()! }
        if d == 2 {
            let sorted = points.sorted { ($0[0], $0[1]) < ($1[0], $1[1]) }
            var volume = 0.0
            var ceiling = ref[1]
            for p in sorted where p[1] < ceiling {
                volume += (ref[0] - p[0]) * (ceiling - p[1])
                ceiling = p[1]
            }
            return volume
        }
        let last = d - 1
        let sorted = points.sorted { $0[last] < $1[last] }
        var volume = 0.0
        var below: [[Double]] = []
        for (i, p) in sorted.enumerated() {
            below = nondominatedInsert(Array(p[0..<last]), into: below)
            let top = i + 1 < sorted.count ? sorted[i + 1][last] : ref[last]
            let height = top - p[last]
            if height > 0 { volume += height * slice(below, ref, dimension: last) }
        }
        return volume
    }

    /// Adds `p` to a mutually non-dominated set, dropping what it dominates (or itself when
    /// dominated): keeps the slices small.
    private static func nondominatedInsert(_ p: [Double], into set: [[Double]]) -> [[Double]] {
        var out: [[Double]] = []
        out.reserveCapacity(set.count + 1)
        for q in set {
            if q == p || NondominatedSorting.dominates(q, p) { return set }
            if !NondominatedSorting.dominates(p, q) { out.append(q) }
        }
        out.append(p)
        return out
    }

    /// Uniform samples in the box from the set's ideal point to the reference point; the
    /// dominated fraction times the box's volume, with its binomial standard error.
    public static func monteCarlo(_ set: [[Double]], reference: [Double], samples: Int = 100_000, seed: UInt64 = 0) -> Hypervolume {
        let m = reference.count
        precondition(samples > 0, "need at least one sample")
        let inside = set.filter { p in p.count == m && (0..<m).allSatisfy { p[$0] < reference[$0] } }
        guard !inside.isEmpty else { return Hypervolume(value: 0, standardError: 0, isExact: true) }
        var lower = reference
        for p in inside { for k in 0..<m { lower[k] = min(lower[k], p[k]) } }
        var box = 1.0
        for k in 0..<m { box *= reference[k] - lower[k] }

        var rng = Xoshiro256StarStar(seed: seed)
        var sample = [Double](repeating: 0, count: m)
        var hits = 0
        for _ in 0..<samples {
            for k in 0..<m { sample[k] = lower[k] + rng.nextDouble() * (reference[k] - lower[k]) }
            for p in inside where (0..<m).allSatisfy({ p[$0] <= sample[$0] }) {
                hits += 1
                break
            }
        }
        let fraction = Double(hits) / Double(samples)
        let error = box * (fraction * (1 - fraction) / Double(samples)).squareRoot()
        return Hypervolume(value: box * fraction, standardError: error, isExact: false)
    }
}
