/// The first population (ALGORITHM.md §3): criterion rankings under many weightings, so that
/// the front starts wide instead of climbing out of random masks.
///
/// A seed ranks each task's channels of a group by a weighted sum of the normalized criteria,
/// optionally pulled toward the tasks' mean ranking (so that tasks keep the same channels and
/// can share them), keeps the top ones (the rate's count, or a rate of its own when the rate is
/// free), and sets share bits where the tasks' filters are alike enough.
extension MFISProblem {
    struct SeedRecipe {
        var magnitudeWeight: Double
        var shareWeight: Double
        /// 0: each task ranks alone; 1: every task ranks by the tasks' mean.
        var consensus: Double
        /// Share channels whose across-task cosine is at least this (above 1: share nothing).
        var shareFrom: Double
        var rate: Double
    }

    /// At most `limit` seeds, spread evenly over the recipes.
    func seeds(limit: Int) -> [[Bool]] {
        let recipes = seedRecipes()
        guard !recipes.isEmpty, limit > 0 else { return [] }
        let picked = recipes.count <= limit ? Array(recipes.indices)
            : (0..<limit).map { $0 * recipes.count / limit }
        // Recipes often agree on a mask; a copy would only take a place in the population.
        var seen = Set<[Bool]>()
        return picked.map { seed(recipes[$0]) }.filter { seen.insert($0).inserted }
    }

    func seedRecipes() -> [SeedRecipe] {
        let criteria = options.criteria
        let both = options.hasSignalObjective && criteria.contains(.irreplaceability)
        let magnitudeWeights = both ? [1, 0.75, 0.5, 0.25, 0] : [options.hasSignalObjective ? 1.0 : 0]
        let shareWeights = criteria.contains(.shareability) ? [0, 0.5] : [0.0]
        let consensus = taskCount >= 2 ? [0, 0.5, 1] : [0.0]
        let shareFrom = hasShareBits ? [2, 0.95, 0.8, 0.5, -1] : [2.0]
        let rates: [Double]
        switch options.target {
        case let .rate(r): rates = [r]
        case .budget: rates = budgetRates()
        case .adaptive: rates = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0]
        }
        var recipes: [SeedRecipe] = []
        // Rates vary slowest-but-one so that an even pick still covers every rate.
        for w in magnitudeWeights {
            for c in shareWeights {
                for l in consensus {
                    for s in shareFrom {
                        for r in rates {
                            recipes.append(SeedRecipe(magnitudeWeight: w, shareWeight: c, consensus: l, shareFrom: s, rate: r))
                        }
                    }
                }
            }
        }
        return recipes
    }

    func seed(_ recipe: SeedRecipe) -> [Bool] {
        let T = taskCount, P = groupCount
        var x = [Bool](repeating: false, count: layout.bitCount)
        for (p, e) in evidence.enumerated() {
            let n = e.size
            let worth: [[Double]] = (0..<T).map { t in
                let s = e.normalized[t]
                return (0..<n).map { i in
                    let base = recipe.magnitudeWeight * s.magnitude[i] + (1 - recipe.magnitudeWeight) * s.irreplaceability[i]
                    guard recipe.shareWeight > 0 else { return base }
                    // One task: a channel with a near-twin is worth less (the twin can stand in).
                    // Several: a channel alike across tasks is worth more (it can be shared).
                    return T == 1 ? base * (1 - recipe.shareWeight * max(0, e.scores[t].shareability[i]))
                        : base + recipe.shareWeight * s.shareability[i]
                }
            }
            let mean = (0..<n).map { i in worth.reduce(0) { $0 + $1[i] } / Double(T) }
            let count = targetCounts?[p]
                ?? Self.roundedCount(RateSelection.keepCount(size: n, rate: recipe.rate), size: n, roundTo: options.roundTo)
            for t in 0..<T {
                let score = (0..<n).map { (1 - recipe.consensus) * worth[t][$0] + recipe.consensus * mean[$0] }
                let best = score.indices.sorted { (score[$0], -$0) > (score[$1], -$1) }.prefix(count)
                for i in best { x[keepOffset[t * P + p] + i] = true }
            }
            guard hasShareBits else { continue }
            for i in 0..<n where e.scores[0].shareability[i] >= recipe.shareFrom {
                x[shareOffset[p] + i] = true
            }
        }
        return x
    }

    /// For a budget: the uniform rate that just meets it, and two a little above.
    func budgetRates() -> [Double] {
        var lo = 0.0, hi = 0.99
        if budgetViolation(uniformCounts(rate: 0)) <= 0 { return [0, 0.05, 0.1] }
        for _ in 0..<30 {
            let mid = (lo + hi) / 2
            if budgetViolation(uniformCounts(rate: mid)) <= 0 { hi = mid } else { lo = mid }
        }
        return [hi, min(0.99, hi + 0.03), min(0.99, hi + 0.06)]
    }

    /// The counts of keeping `keepCount(N, rate)` channels of every group in every task, no sharing.
    func uniformCounts(rate: Double) -> KeptCounts {
        let kept = (0..<taskCount).flatMap { _ in
            sizes.map { Self.roundedCount(RateSelection.keepCount(size: $0, rate: rate), size: $0, roundTo: options.roundTo) }
        }
        return KeptCounts(kept: kept, union: Array(kept.prefix(groupCount)), shared: Array(repeating: 0, count: groupCount),
                          sharedKept: Array(repeating: 0, count: kept.count))
    }
}
