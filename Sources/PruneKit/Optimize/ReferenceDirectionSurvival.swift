/// NSGA-III's environmental selection (Deb & Jain 2014, Algorithm 1): whole fronts while they
/// fit, then from the front that does not fit the members that fill the emptiest reference
/// lines — niche-preserving, so the survivors spread along the directions.
@usableFromInline
struct ReferenceDirectionSurvival: Sendable {
    let dimension: Int
    let directionCount: Int
    let association: ReferenceLineAssociation
    private(set) var normalization: HyperplaneNormalization

    @usableFromInline
    init(_ directions: ReferenceDirections) {
        dimension = directions.objectiveCount
        directionCount = directions.count
        association = ReferenceLineAssociation(directions)
        normalization = HyperplaneNormalization(dimension: directions.objectiveCount)
    }

    /// Indices of the `count` survivors among the points whose objectives `objectives` holds
    /// row-major, `dimension` per point.
    ///
    /// Constraint handling (Deb's constraint domination): feasible members survive first,
    /// selected as above among themselves; the rest of the places go to the infeasible ones
    /// with the smallest violation.
    @usableFromInline
    mutating func select(objectives: [Double], violations: [Double], count n: Int,
                         using rng: inout Xoshiro256StarStar) -> [Int] {
        let total = violations.count
        precondition(objectives.count == total * dimension && n <= total, "cannot select \(n) of \(total)")
        let feasible = violations.indices.filter { violations[$0] <= 0 }
        if feasible.count == total {
            return objectives.withUnsafeBufferPointer { selectFeasible($0, count: n, using: &rng) }
        }
        let infeasible = violations.indices.filter { violations[$0] > 0 }
            .sorted { (violations[$0], $0) < (violations[$1], $1) }
        var survivors: [Int] = []
        if !feasible.isEmpty {
            var flat: [Double] = []
            flat.reserveCapacity(feasible.count * dimension)
            for i in feasible { flat.append(contentsOf: objectives[(i * dimension)..<(i * dimension + dimension)]) }
            let chosen = flat.withUnsafeBufferPointer {
                selectFeasible($0, count: min(n, feasible.count), using: &rng)
            }
            survivors = chosen.map { feasible[$0] }
        }
        survivors.append(contentsOf: infeasible.prefix(n - survivors.count))
        return survivors
    }

    private mutating func selectFeasible(_ points: UnsafeBufferPointer<Double>, count n: Int,
                                         using rng: inout Xoshiro256StarStar) -> [Int] {
        let fronts = NondominatedSorting.fronts(flat: points, count: points.count / dimension, dimension: dimension, stopAfter: n)
        normalization.update(points, firstFront: fronts[0])

        var selected: [Int] = []
        selected.reserveCapacity(n)
        var lastFront: [Int] = []
        for front in fronts {
            if selected.count + front.count <= n {
                selected.append(contentsOf: front)
                if selected.count == n { return selected }
            } else {
                lastFront = front
                break
            }
        }

        let (niche, distance) = association.associate(points, selected + lastFront, ideal: normalization.ideal,
                                                      scale: normalization.scale)
        let base = selected.count  // the last front's associations follow the selected members'
        var nicheCount = [Int](repeating: 0, count: directionCount)
        for i in 0..<base { nicheCount[niche[i]] += 1 }

        // Members of the last front grouped by the reference line they are closest to:
        // line j's candidates are pool[start[j] ..< end[j]]; a pick swaps itself out of range.
        var start = [Int](repeating: 0, count: directionCount + 1)
        for offset in lastFront.indices { start[niche[base + offset] + 1] += 1 }
        for j in 0..<directionCount { start[j + 1] += start[j] }
        var end = Array(start.dropLast())
        var pool = [Int](repeating: 0, count: lastFront.count)  // offsets into lastFront
        for offset in lastFront.indices {
            let j = niche[base + offset]
            pool[end[j]] = offset
            end[j] += 1
        }
        var active = (0..<directionCount).filter { end[$0] > start[$0] }
        var emptiest: [Int] = []

        // The paper serves one random line among the least-served ones at a time; serving all
        // of them in a random order, then looking again, draws from the same distribution and
        // scans the lines once per round instead of once per pick.
        while selected.count < n {
            var least = Int.max
            emptiest.removeAll(keepingCapacity: true)
            for j in active {
                if nicheCount[j] < least {
                    least = nicheCount[j]
                    emptiest.removeAll(keepingCapacity: true)
                }
                if nicheCount[j] == least { emptiest.append(j) }
            }
            rng.shuffle(&emptiest)
            for j in emptiest.prefix(n - selected.count) {
                let pick: Int
                if nicheCount[j] == 0 {
                    // A line nobody serves yet gets the member closest to it.
                    var best = start[j]
                    for k in start[j]..<end[j] where distance[base + pool[k]] < distance[base + pool[best]] { best = k }
                    pick = best
                } else {
                    pick = start[j] + rng.nextInt(below: end[j] - start[j])
                }
                end[j] -= 1
                pool.swapAt(pick, end[j])
                selected.append(lastFront[pool[end[j]]])
                nicheCount[j] += 1
            }
            active.removeAll { end[$0] == start[$0] }
        }
        return selected
    }
}
