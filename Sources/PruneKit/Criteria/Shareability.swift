/// Shareability (ALGORITHM.md §2): how well a filter could be one physical filter with another.
///
/// Across tasks (T ≥ 2): task models fine-tuned from one backbone keep filter correspondence by
/// index, so channel i of every task is a candidate for one shared filter; the score is the
/// mean cosine similarity of the tasks' channel i over all task pairs. Inside one network
/// (T = 1): the largest cosine similarity of channel i to another channel of its group, the
/// near-twin it could be folded into.
public enum ShareabilityCriterion {
    /// One score per channel, the same for every task: mean over pairs s < u of cos(w_s,i, w_u,i).
    public static func acrossTasks(_ filters: [FilterMatrix]) -> [Double] {
        guard let n = filters.first?.rows else { return [] }
        precondition(filters.allSatisfy { $0.rows == n && $0.width == filters[0].width }, "tasks' filters must have one shape")
        let t = filters.count
        guard t >= 2 else { return Array(repeating: 0, count: n) }
        let pairs = Double(t * (t - 1) / 2)
        return (0..<n).map { i in
            let gram = taskGram(filters, channel: i)
            var sum = 0.0
            for s in 0..<t {
                for u in (s + 1)..<t { sum += cosine(gram, t, s, u) }
            }
            return sum / pairs
        }
    }

    /// One score per channel: max over j ≠ i of cos(w_i, w_j); 0 for a group of one.
    public static func inner(_ geometry: FilterGeometry) -> [Double] {
        let n = geometry.count
        guard n >= 2 else { return Array(repeating: 0, count: n) }
        return (0..<n).map { i in
            var best = -1.0
            for j in 0..<n where j != i { best = max(best, geometry.cosine(i, j)) }
            return best
        }
    }

    /// The T × T dot products of channel i's filters in the T tasks (row-major), in Double.
    public static func taskGram(_ filters: [FilterMatrix], channel i: Int) -> [Double] {
        let t = filters.count
        var gram = [Double](repeating: 0, count: t * t)
        for s in 0..<t {
            let a = filters[s].row(i)
            for u in s..<t {
                let b = filters[u].row(i)
                var d = 0.0
                for (x, y) in zip(a, b) { d += Double(x) * Double(y) }
                gram[s * t + u] = d
                gram[u * t + s] = d
            }
        }
        return gram
    }

    static func cosine(_ gram: [Double], _ t: Int, _ s: Int, _ u: Int) -> Double {
        let d = (gram[s * t + s] * gram[u * t + u]).squareRoot()
        return d > 0 ? min(1, max(-1, gram[s * t + u] / d)) : 0
    }
}
