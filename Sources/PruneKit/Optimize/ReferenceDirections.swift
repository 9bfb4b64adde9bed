/// Points on the unit simplex (components ≥ 0, summing to 1) that NSGA-III spreads its
/// population along: one reference line from the ideal point through each of them.
public struct ReferenceDirections: Sendable, Equatable {
    public let objectiveCount: Int
    public let directions: [[Double]]

    public var count: Int { directions.count }

    public init(objectiveCount: Int, directions: [[Double]]) {
        precondition(objectiveCount >= 1, "need at least one objective")
        precondition(directions.allSatisfy { $0.count == objectiveCount }, "every direction needs \(objectiveCount) components")
        self.objectiveCount = objectiveCount
        self.directions = directions
    }

    /// Das & Dennis (1998) simplex lattice: every vector of multiples of 1/p summing to 1.
    public static func dasDennis(objectives m: Int, partitions p: Int) -> ReferenceDirections {
        precondition(m >= 1 && p >= 0, "objectives ≥ 1, partitions ≥ 0")
        var out: [[Double]] = []
        out.reserveCapacity(dasDennisCount(objectives: m, partitions: p) ?? 0)
        if p == 0 {
            // A lattice without partitions is only the centroid; callers use it as an inside layer.
            return ReferenceDirections(objectiveCount: m, directions: [Array(repeating: 1 / Double(m), count: m)])
        }
        var current = [Int](repeating: 0, count: m)
        func fill(_ position: Int, _ left: Int) {
            if position == m - 1 {
                current[position] = left
                out.append(current.map { Double($0) / Double(p) })
                return
            }
            for k in 0...left {
                current[position] = k
                fill(position + 1, left - k)
            }
        }
        fill(0, p)
        return ReferenceDirections(objectiveCount: m, directions: out)
    }

    /// C(p + m − 1, m − 1), the number of Das-Dennis points; nil when it overflows.
    public static func dasDennisCount(objectives m: Int, partitions p: Int) -> Int? {
        binomial(p + m - 1, m - 1)
    }

    /// Deb & Jain 2014 §V: for many objectives a boundary lattice with few partitions plus an
    /// inside lattice shrunk toward the centroid (w' = τ·w + (1 − τ)/m, τ = 1/2), so that the
    /// directions do not all lie on the simplex's boundary.
    public static func twoLayer(objectives m: Int, boundaryPartitions p1: Int, insidePartitions p2: Int,
                                insideScale tau: Double = 0.5) -> ReferenceDirections {
        precondition(tau > 0 && tau < 1, "insideScale must be in (0, 1)")
        let boundary = dasDennis(objectives: m, partitions: p1).directions
        let inside = dasDennis(objectives: m, partitions: p2).directions.map { w in
            w.map { tau * $0 + (1 - tau) / Double(m) }
        }
        return ReferenceDirections(objectiveCount: m, directions: boundary + inside)
    }

    /// The directions Deb & Jain 2014 (Table I) used for 3, 5, 8, 10 and 15 objectives. Other
    /// counts are our choice, a lattice of comparable size: one layer up to 7 objectives, two
    /// layers (p = 2 and 1) beyond.
    public static func deb2014(objectives m: Int) -> ReferenceDirections {
        switch m {
        case 3: return dasDennis(objectives: 3, partitions: 12)
        case 5: return dasDennis(objectives: 5, partitions: 6)
        case 8: return twoLayer(objectives: 8, boundaryPartitions: 3, insidePartitions: 2)
        case 10: return twoLayer(objectives: 10, boundaryPartitions: 3, insidePartitions: 2)
        case 15: return twoLayer(objectives: 15, boundaryPartitions: 2, insidePartitions: 1)
        case ...2: return dasDennis(objectives: max(m, 1), partitions: 99)
        case 4: return dasDennis(objectives: 4, partitions: 8)
        case 6, 7: return dasDennis(objectives: m, partitions: 4)
        default: return twoLayer(objectives: m, boundaryPartitions: 2, insidePartitions: 1)
        }
    }

    /// Deb & Jain's population size for H directions (their Table I): the smallest multiple
    /// of 4 not below H.
    public static func populationSize(forDirections h: Int) -> Int {
        (h + 3) / 4 * 4
    }
}

func binomial(_ n: Int, _ k: Int) -> Int? {
    guard k >= 0, n >= k else { return 0 }
    let k = min(k, n - k)
    var result = 1
    for i in 0..<k {
        // result · (n − i) / (i + 1) stays integral at each step.
        let (mul, overflow) = result.multipliedReportingOverflow(by: n - i)
        if overflow { return nil }
        result = mul / (i + 1)
    }
    return result
}
