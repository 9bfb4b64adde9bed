/// NSGA-III's adaptive normalization (Deb & Jain 2014, §IV-C): objectives are translated by
/// the ideal point and scaled by the intercepts of the hyperplane through the extreme points,
/// so that reference directions on the unit simplex fit fronts of any scale.
///
/// Departures from the paper, as in pymoo and in Deb's later code (Blank, Deb & Roy 2019):
/// the ideal point, the worst point and the extreme points are kept from one generation to
/// the next, so a lucky extreme is never lost; a nadir beyond the worst point ever seen is cut
/// back to it. Without this, normalization jumps on multimodal problems (DTLZ1, DTLZ3) while
/// the population is still far from the front.
struct HyperplaneNormalization: Sendable {
    let dimension: Int
    private(set) var ideal: [Double]
    private(set) var worst: [Double]
    private(set) var extremes: [[Double]] = []
    private(set) var nadir: [Double]

    init(dimension: Int) {
        self.dimension = dimension
        ideal = Array(repeating: .infinity, count: dimension)
        worst = Array(repeating: -.infinity, count: dimension)
        nadir = Array(repeating: .infinity, count: dimension)
    }

    /// Updates the estimate from a population's objectives (row-major, `dimension` per point)
    /// and the indices of its first front.
    mutating func update(_ flat: UnsafeBufferPointer<Double>, firstFront: [Int]) {
        let m = dimension
        let count = flat.count / m
        precondition(count > 0 && !firstFront.isEmpty, "need points and a first front")
        var worstOfPopulation = Array(repeating: -Double.infinity, count: m)
        for i in 0..<count {
            for k in 0..<m {
                let v = flat[i * m + k]
                ideal[k] = min(ideal[k], v)
                worstOfPopulation[k] = max(worstOfPopulation[k], v)
            }
        }
        // Candidates for the extreme points: the previous ones, then the first front, read in
        // place: copying each point out cost an allocation per front member per generation.
        var worstOfFront = Array(repeating: -Double.infinity, count: m)
        var search = ExtremePointSearch(ideal: ideal)
        for e in extremes { e.withUnsafeBufferPointer { search.consider($0) } }
        for i in firstFront {
            let p = UnsafeBufferPointer(rebasing: flat[(i * m)..<(i * m + m)])
            search.consider(p)
            for k in 0..<m { worstOfFront[k] = max(worstOfFront[k], p[k]) }
        }
        let previous = extremes.count
        let chosen = search.best.map { c in
            c < previous ? extremes[c] : Array(flat[(firstFront[c - previous] * m)..<(firstFront[c - previous] * m + m)])
        }
        for k in 0..<m { worst[k] = max(worst[k], worstOfPopulation[k]) }
        extremes = chosen

        if let intercepts = Self.intercepts(extremes, ideal: ideal) {
            nadir = (0..<m).map { min(ideal[$0] + intercepts[$0], worst[$0]) }
        } else {
            nadir = worstOfFront
        }
        for k in 0..<m where nadir[k] - ideal[k] <= 1e-6 {
            nadir[k] = worstOfPopulation[k]
        }
    }

    /// Per objective, the factor that maps [ideal, nadir] onto [0, 1].
    var scale: [Double] {
        (0..<dimension).map { k in
            let range = nadir[k] - ideal[k]
            return 1 / (range > 0 ? range : 1e-12)
        }
    }

    /// For each axis k, the point minimizing the achievement scalarizing function with weight
    /// 1 on k and 10⁻⁶ elsewhere: the point closest to that objective's axis.
    ///
    /// Translated objectives below 10⁻³ count as zero (as pymoo does), so that among points
    /// hugging an axis the one nearest the ideal wins instead of the one with the least noise
    /// in the other objectives.
    static func extremePoints(_ candidates: [[Double]], ideal: [Double]) -> [[Double]] {
        var search = ExtremePointSearch(ideal: ideal)
        for point in candidates { point.withUnsafeBufferPointer { search.consider($0) } }
        return search.best.map { candidates[$0] }
    }

    /// Intercepts of the hyperplane through the extreme points with the translated axes, or
    /// nil when the extremes do not span a hyperplane that cuts every axis on its positive side.
    static func intercepts(_ extremes: [[Double]], ideal: [Double]) -> [Double]? {
        let m = ideal.count
        let a = extremes.map { e in (0..<m).map { e[$0] - ideal[$0] } }
        guard let plane = solveLinearSystem(a, Array(repeating: 1, count: m)) else { return nil }
        // A solution whose residual is not small comes from a near-singular system.
        for i in 0..<m {
            var s = 0.0
            for k in 0..<m { s += a[i][k] * plane[k] }
            if abs(s - 1) > 1e-6 { return nil }
        }
        let intercepts = plane.map { 1 / $0 }
        guard intercepts.allSatisfy({ $0.isFinite && $0 > 1e-6 }) else { return nil }
        return intercepts
    }
}

/// Solves A·x = b by Gaussian elimination with partial pivoting; nil when A is singular.
func solveLinearSystem(_ a: [[Double]], _ b: [Double]) -> [Double]? {
    let n = b.count
    var m = a
    var rhs = b
    var scale = 0.0
    for row in m { for v in row { scale = max(scale, abs(v)) } }
    guard scale > 0 else { return nil }
    for col in 0..<n {
        var pivot = col
        for r in (col + 1)..<n where abs(m[r][col]) > abs(m[pivot][col]) { pivot = r }
        guard abs(m[pivot][col]) > 1e-12 * scale else { return nil }
        if pivot != col {
            m.swapAt(pivot, col)
            rhs.swapAt(pivot, col)
        }
        for r in (col + 1)..<n {
            let f = m[r][col] / m[col][col]
            if f == 0 { continue }
            for c in col..<n { m[r][c] -= f * m[col][c] }
            rhs[r] -= f * rhs[col]
        }
    }
    var x = [Double](repeating: 0, count: n)
    for r in stride(from: n - 1, through: 0, by: -1) {
        var s = rhs[r]
        for c in (r + 1)..<n { s -= m[r][c] * x[c] }
        x[r] = s / m[r][r]
    }
    return x.allSatisfy(\.isFinite) ? x : nil
}

/// The running search behind `HyperplaneNormalization.extremePoints`: candidates go in one at
/// a time, and for each axis the first one with the smallest ASF is kept.
struct ExtremePointSearch {
    let ideal: [Double]
    /// Per axis, the index (in the order considered) of the best candidate so far.
    private(set) var best: [Int]
    private var bestValue: [Double]
    private var translated: [Double]
    private var considered = 0

    init(ideal: [Double]) {
        self.ideal = ideal
        best = Array(repeating: 0, count: ideal.count)
        bestValue = Array(repeating: .infinity, count: ideal.count)
        translated = Array(repeating: 0, count: ideal.count)
    }

    mutating func consider(_ point: UnsafeBufferPointer<Double>) {
        let m = ideal.count
        // ASF for axis a = max(t_a, 10⁶ · max over the other objectives): the largest and
        // second largest t give every axis's "other" maximum in one pass.
        var top = -Double.infinity, second = -Double.infinity, topAxis = -1
        for k in 0..<m {
            var v = point[k] - ideal[k]
            if v < 1e-3 { v = 0 }
            translated[k] = v
            if v > top {
                second = top
                top = v
                topAxis = k
            } else if v > second {
                second = v
            }
        }
        for axis in 0..<m {
            let asf = max(translated[axis], (axis == topAxis ? second : top) * 1e6)
            if asf < bestValue[axis] {
                bestValue[axis] = asf
                best[axis] = considered
            }
        }
        considered += 1
    }
}
