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
    /// Two or three objectives: efficient non-dominated sort (ENS, Zhang et al. 2015): in
    /// lexicographic order a point can only be dominated by points before it, so each point
    /// goes to the first front none of whose members dominates it, found by a binary search on
    /// each front's staircase. Four or more: bit sets of "no worse in every objective", built
    /// from one sort per objective (`bitsetFronts`).
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

    /// Fronts of `n` points stored row-major in `flat`. With `stopAfter`, fronts beyond those
    /// that hold that many points may be left out (survival needs no more).
    static func fronts(flat: UnsafeBufferPointer<Double>, count n: Int, dimension m: Int, stopAfter: Int = .max) -> [[Int]] {
        if n == 0 { return [] }
        if m > 3 { return bitsetFronts(flat, n, m, stopAfter: stopAfter) }
        let order = (0..<n).sorted { a, b in
            for k in 0..<m {
                let x = flat[a &* m &+ k], y = flat[b &* m &+ k]
                if x != y { return x < y }
            }
            return a < b
        }
        var result = staircaseFronts(flat, order, m)
        // Fronts list their members in index order, so that callers see a stable order.
        for f in result.indices { result[f].sort() }
        return result
    }

    /// For four or more objectives, where most points are mutually non-dominated and pairwise
    /// comparison does N² work: bit sets of "no worse in every objective" (Zhou et al.'s
    /// dominance-degree idea in bits). One sweep of each objective's sorted order ANDs into
    /// each point the set of points no worse than it there; what survives all objectives,
    /// less the point itself and its exact copies, are its dominators. Fronts then peel off
    /// by dominator counts. O(M·N log N + (M + F)·N²/64) for F fronts.
    private static func bitsetFronts(_ flat: UnsafeBufferPointer<Double>, _ n: Int, _ m: Int, stopAfter: Int) -> [[Int]] {
        let words = (n &+ 63) >> 6
        var weakStorage = [UInt64](repeating: ~0, count: n &* words)
        var runningStorage = [UInt64](repeating: 0, count: words)
        var countStorage = [Int](repeating: 0, count: n)
        var sorter = RadixSorter(count: n)
        let f = flat.baseAddress!
        return weakStorage.withUnsafeMutableBufferPointer { weakBuffer in
            runningStorage.withUnsafeMutableBufferPointer { runningBuffer in
                countStorage.withUnsafeMutableBufferPointer { countBuffer in
                    let weak = weakBuffer.baseAddress!, running = runningBuffer.baseAddress!
                    for k in 0..<m {
                        let sorted = sorter.sort { f[$0 &* m &+ k] }
                        let sortedKeys = sorter.sortedKeys
                        sorted.withUnsafeBufferPointer { order in
                            for w in 0..<words { running[w] = 0 }
                            var g = 0
                            while g < n {
                                // The points equal to this one in objective k (a NaN equals none).
                                var e = g &+ 1
                                if !f[order[g] &* m &+ k].isNaN {
                                    while e < n, sortedKeys[e] == sortedKeys[g] { e &+= 1 }
                                }
                                for t in g..<e { running[order[t] >> 6] |= 1 << UInt64(order[t] & 63) }
                                for t in g..<e {
                                    let row = weak + order[t] &* words
                                    for w in 0..<words { row[w] &= running[w] }
                                }
                                g = e
                            }
                        }
                    }
                    removeSelfAndEquals(weak, n, words, dominatorCounts: countBuffer)
                    return peelFronts(weak, n, words, countBuffer, stopAfter: stopAfter)
                }
            }
        }
    }

    /// Drops from each point's "no worse" set the point itself and its exact copies (each no
    /// worse than the other), leaving its dominators, and counts them. Equality is symmetric,
    /// so a pair is cleared from both rows when first met; a row is final once visited.
    private static func removeSelfAndEquals(_ weak: UnsafeMutablePointer<UInt64>, _ n: Int, _ words: Int,
                                            dominatorCounts count: UnsafeMutableBufferPointer<Int>) {
        for j in 0..<n {
            let row = weak + j &* words
            let jWord = j >> 6, jBit: UInt64 = 1 << UInt64(j & 63)
            var c = 0
            for w in 0..<words where row[w] != 0 {
                var bits = row[w]
                while bits != 0 {
                    let b = bits.trailingZeroBitCount
                    let other = weak + ((w &* 64 &+ b) &* words &+ jWord)
                    if other.pointee & jBit != 0 {
                        row[w] &= ~(1 << UInt64(b))
                        other.pointee &= ~jBit
                    }
                    bits &= bits &- 1
                }
                c &+= row[w].nonzeroBitCount
            }
            count[j] = c
        }
    }

    /// Fronts by dominator counts: the points with none, then those whose dominators are all
    /// in earlier fronts, and so on.
    private static func peelFronts(_ strict: UnsafeMutablePointer<UInt64>, _ n: Int, _ words: Int,
                                   _ count: UnsafeMutableBufferPointer<Int>, stopAfter: Int) -> [[Int]] {
        var result: [[Int]] = []
        var current = (0..<n).filter { count[$0] == 0 }
        var remaining = (0..<n).filter { count[$0] > 0 }
        var ranked = 0
        var mask = [UInt64](repeating: 0, count: words)
        while !current.isEmpty {
            result.append(current)
            ranked &+= current.count
            if ranked >= stopAfter || remaining.isEmpty { break }
            for w in 0..<words { mask[w] = 0 }
            for i in current { mask[i >> 6] |= 1 << UInt64(i & 63) }
            current.removeAll(keepingCapacity: true)
            remaining.removeAll { j in
                let row = strict + j &* words
                var c = count[j]
                for w in 0..<words { c &-= (row[w] & mask[w]).nonzeroBitCount }
                count[j] = c
                if c == 0 {
                    current.append(j)
                    return true
                }
                return false
            }
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
}
