import Foundation

/// Simulated binary crossover and polynomial mutation (Deb & Agrawal 1995; Deb & Goyal 1996),
/// in the bounded form of Deb's reference code that NSGA-III was published with.
public struct RealVariation: Variation {
    public var bounds: [ClosedRange<Double>]
    /// Probability that a pair is recombined at all (Deb & Jain: 1).
    public var crossoverProbability: Double
    /// Probability that SBX touches a given variable of a recombined pair.
    public var variableCrossoverProbability: Double
    /// SBX distribution index; large keeps children near their parents (Deb & Jain: 30).
    public var crossoverEta: Double
    /// Probability that a child is mutated at all. Deb & Jain mutate every child; pymoo's
    /// default 0.9 leaves some children as crossover made them, which measured better on
    /// DTLZ1-4 (100 seeds each; see Benchmarks/RESULTS-optimizer.md).
    public var childMutationProbability: Double
    /// Per-variable mutation probability in a mutated child (Deb & Jain: 1/n).
    public var mutationProbability: Double
    /// Polynomial mutation distribution index (Deb & Jain: 20).
    public var mutationEta: Double

    public init(bounds: [ClosedRange<Double>], crossoverProbability: Double = 1, variableCrossoverProbability: Double = 0.5,
                crossoverEta: Double = 30, childMutationProbability: Double = 0.9, mutationProbability: Double? = nil,
                mutationEta: Double = 20) {
        precondition(!bounds.isEmpty, "need at least one variable")
        self.bounds = bounds
        self.crossoverProbability = crossoverProbability
        self.variableCrossoverProbability = variableCrossoverProbability
        self.crossoverEta = crossoverEta
        self.childMutationProbability = childMutationProbability
        self.mutationProbability = mutationProbability ?? 1 / Double(bounds.count)
        self.mutationEta = mutationEta
    }

    public func sample(using rng: inout Xoshiro256StarStar) -> [Double] {
        bounds.map { $0.lowerBound + rng.nextDouble() * ($0.upperBound - $0.lowerBound) }
    }

    public func offspring(_ a: [Double], _ b: [Double], using rng: inout Xoshiro256StarStar) -> ([Double], [Double]) {
        var (c1, c2) = rng.chance(crossoverProbability) ? simulatedBinaryCrossover(a, b, using: &rng) : (a, b)
        if rng.chance(childMutationProbability) { polynomialMutation(&c1, using: &rng) }
        if rng.chance(childMutationProbability) { polynomialMutation(&c2, using: &rng) }
        return (c1, c2)
    }

    public func simulatedBinaryCrossover(_ a: [Double], _ b: [Double], using rng: inout Xoshiro256StarStar) -> ([Double], [Double]) {
        precondition(a.count == bounds.count && b.count == bounds.count, "parents must have \(bounds.count) variables")
        var c1 = a, c2 = b
        let exponent = 1 / (crossoverEta + 1)
        for i in bounds.indices {
            guard rng.chance(variableCrossoverProbability) else { continue }
            let lo = bounds[i].lowerBound, hi = bounds[i].upperBound
            let y1 = min(a[i], b[i]), y2 = max(a[i], b[i])
            guard y2 - y1 > 1e-14 else { continue }
            let u = rng.nextDouble()
            // Spread factor whose distribution is cut at the bound on each side, so that the
            // child falls inside [lo, hi] with the parent-centred density SBX intends.
            func betaq(_ beta: Double) -> Double {
                let alpha = 2 - 1 / power(beta, crossoverEta + 1)
                return u <= 1 / alpha ? pow(u * alpha, exponent) : pow(1 / (2 - u * alpha), exponent)
            }
            let d = y2 - y1
            var lower = 0.5 * ((y1 + y2) - betaq(1 + 2 * (y1 - lo) / d) * d)
            var upper = 0.5 * ((y1 + y2) + betaq(1 + 2 * (hi - y2) / d) * d)
            lower = min(max(lower, lo), hi)
            upper = min(max(upper, lo), hi)
            if rng.chance(0.5) {
                c1[i] = upper
                c2[i] = lower
            } else {
                c1[i] = lower
                c2[i] = upper
            }
        }
        return (c1, c2)
    }

    public func polynomialMutation(_ x: inout [Double], using rng: inout Xoshiro256StarStar) {
        let exponent = 1 / (mutationEta + 1)
        for i in bounds.indices {
            guard rng.chance(mutationProbability) else { continue }
            let lo = bounds[i].lowerBound, hi = bounds[i].upperBound
            let range = hi - lo
            guard range > 0 else { continue }
            let y = x[i]
            let u = rng.nextDouble()
            let deltaq: Double
            if u <= 0.5 {
                let xy = 1 - (y - lo) / range
                let val = 2 * u + (1 - 2 * u) * power(xy, mutationEta + 1)
                deltaq = pow(val, exponent) - 1
            } else {
                let xy = 1 - (hi - y) / range
                let val = 2 * (1 - u) + 2 * (u - 0.5) * power(xy, mutationEta + 1)
                deltaq = 1 - pow(val, exponent)
            }
            x[i] = min(max(y + deltaq * range, lo), hi)
        }
    }
}

/// x^e, by repeated squaring when e is a small whole number (the usual distribution indices
/// η + 1 = 31 and 21 are): a few multiplications instead of a call to pow.
@inline(__always)
func power(_ x: Double, _ e: Double) -> Double {
    guard e >= 0, e <= 64, e == e.rounded() else { return pow(x, e) }
    var n = Int(e)
    var base = x
    var result = 1.0
    while n > 0 {
        if n & 1 == 1 { result *= base }
        base *= base
        n >>= 1
    }
    return result
}
