/// Pareto dominance and non-dominated sorting, all objectives minimized.
public enum NondominatedSorting {
    /// a dominates b: no worse in every objective and better in at least one.
    public static func dominates(_ a: [Double], _ b: [Double]) -> Bool {
        precondition(a.count == b.count, "objective vectors differ in length")
        var better = false
        for i in a.indices {
            if a[i] > b[i] { return false }
            if a[i] < b[i] { better = true }
        }
        return better
    }

    /// Deb's constraint domination (Deb 2000): a feasible point dominates an infeasible one,
    /// of two infeasible points the smaller violation dominates, of two feasible ones Pareto
    /// dominance decides.
    public static func constraintDominates(_ a: [Double], violation va: Double, _ b: [Double], violation vb: Double) -> Bool {
        switch (va <= 0, vb <= 0) {
        case (true, true): return dominates(a, b)
        case (true, false): return true
        case (false, true): return false
        case (false, false): return va < vb
        }
    }

    /// The fronts of `points` (indices into it), best first.
    ///
    /// Efficient non-dominated sort, sequential search (ENS-SS, Zhang et al. 2015): in
    /// lexicographic order a point can only be dominated by points before it, so each point
    /// goes to the first front none of whose members dominates it. O(M·N²) at worst like
    /// Deb's fast sort, with no domination lists and far fewer comparisons on typical sets.
    public static func fronts(_ points: [[Double]]) -> [[Int]] {
        guard let m = points.first?.count else { return [] }
        precondition(points.allSatisfy { $0.count == m }, "objective vectors differ in length")
        var flat = [Double]()
        flat.reserveCapacity(points.count * m)
        for p in points { flat.append(contentsOf: p) }
        return flat.withUnsafeBufferPointer { fronts(flat: $0, count: points.count, dimension: m) }
    }

    /// Fronts under constraint domination: the feasible points sorted by Pareto dominance, then
    /// the infeasible ones in fronts of equal violation, smallest violation first.
    public static func fronts(_ points: [[Double]], violations: [Double]) -> [[Int]] {
        precondition(points.count == violations.count, "one violation per point")
        let feasible = points.indices.filter { violations[$0] <= 0 }
        var result = fronts(feasible.map { points[$0] }).map { $0.map { feasible[$0] } }
        let infeasible = points.indices.filter { violations[$0] > 0 }
            .sorted { (violations[$0], $0) < (violations[$1], $1) }
        var i = 0
        while i < infeasible.count {
            var j = i + 1
            while j < infeasible.count, violations[infeasible[j]] == violations[infeasible[i]] { j += 1 }
            result.append(Array(infeasible[i..<j]))
            i = j
        }
        return result
    }

    /// Rank of each point (0 = first front).
    public static func ranks(_ points: [[Double]]) -> [Int] {
        var rank = [Int](repeating: 0, count: points.count)
        for (r, front) in fronts(points).enumerated() {
            for i in front { rank[i] = r }
        }
        return rank
    }

    static func fronts(flat: UnsafeBufferPointer<Double>, count n: Int, dimension m: Int) -> [[Int]] {
        if n == 0 { return [] }
        let order = (0..<n).sorted { a, b in
            for k in 0..<m {
                let x = flat[a &* m &+ k], y = flat[b &* m &+ k]
                if x != y { return x < y }
            }
            return a < b
        }
        var result = m <= 3 ? staircaseFronts(flat, order, m) : sequentialSearchFronts(flat, order, m)
        // Fronts list their members in index order, so that callers see a stable order.
        for f in result.indices { result[f].sort() }
        return result
    }

    /// ENS-SS proper: compare with the members of each front in turn.
    private static func sequentialSearchFronts(_ flat: UnsafeBufferPointer<Double>, _ order: [Int], _ m: Int) -> [[Int]] {
        var result: [[Int]] = []
        for p in order {
            var placed = false
            for f in result.indices {
                // The latest members are the likeliest dominators; scan the front backwards.
                var dominated = false
                var i = result[f].count - 1
                while i >= 0 {
                    if dominatesFlat(flat, result[f][i], p, m) { dominated = true; break }
                    i -= 1
                }
                if !dominated {
                    result[f].append(p)
                    placed = true
                    break
                }
            }
            if !placed { result.append([p]) }
        }
        return result
    }

    /// ENS for two or three objectives, where "is p dominated by a member of this front" is a
    /// binary search. All members precede p in lexicographic order, so their first objective
    /// is no larger; what is left is a question in the plane of the other two (the second alone,
    /// for two objectives: the third is taken as 0). Each front keeps the staircase of its
    /// members' non-dominated (f₁, f₂) pairs: f₁ rising, f₂ falling. A member dominates p iff
    /// the stair with the largest f₁ ≤ p's has f₂ ≤ p's, unless that member equals p.
    private static func staircaseFronts(_ flat: UnsafeBufferPointer<Double>, _ order: [Int], _ m: Int) -> [[Int]] {
        struct Staircase {
            var first: [Double] = []   // f₁ of each stair, strictly rising
            var second: [Double] = []  // f₂ of each stair, strictly falling
            var member: [Int] = []
        }
        var result: [[Int]] = []
        var stairs: [Staircase] = []
        for p in order {
            let p0 = flat[p &* m], p1 = flat[p &* m &+ 1], p2 = m == 3 ? flat[p &* m &+ 2] : 0
            var front = result.count
            var position = 0
            for f in result.indices {
                // position = number of stairs with f₁ ≤ p₁.
                var lo = 0, hi = stairs[f].first.count
                while lo < hi {
                    let mid = (lo &+ hi) >> 1
                    if stairs[f].first[mid] <= p1 { lo = mid &+ 1 } else { hi = mid }
                }
                if lo > 0, stairs[f].second[lo &- 1] <= p2 {
                    let q = stairs[f].member[lo &- 1]
                    let same = flat[q &* m] == p0 && stairs[f].first[lo &- 1] == p1 && stairs[f].second[lo &- 1] == p2
                    if !same { continue }
                }
                front = f
                position = lo
                break
            }
            if front == result.count {
                result.append([])
                stairs.append(Staircase())
            }
            result[front].append(p)
            // p's pair goes in at `position`, replacing the stairs it weakly dominates in the plane.
            if position > 0, stairs[front].first[position &- 1] == p1, stairs[front].second[position &- 1] <= p2 { continue }
            var end = position
            if position > 0, stairs[front].first[position &- 1] == p1 { end = position; position -= 1 }
            while end < stairs[front].first.count, stairs[front].second[end] >= p2 { end &+= 1 }
            stairs[front].first.replaceSubrange(position..<end, with: CollectionOfOne(p1))
            stairs[front].second.replaceSubrange(position..<end, with: CollectionOfOne(p2))
            stairs[front].member.replaceSubrange(position..<end, with: CollectionOfOne(p))
        }
        return result
    }

    /// Whether point q dominates p, for q lexicographically not after p (so q's first
    /// objective is no larger than p's, and only whether it is smaller needs checking).
    @inline(__always)
    private static func dominatesFlat(_ flat: UnsafeBufferPointer<Double>, _ q: Int, _ p: Int, _ m: Int) -> Bool {
        let qb = q &* m, pb = p &* m
        var better = flat[qb] < flat[pb]
        for k in 1..<m {
            let a = flat[qb &+ k], b = flat[pb &+ k]
            if a > b { return false }
            if a < b { better = true }
        }
        return better
    }
}
