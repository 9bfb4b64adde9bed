import PruneKit

/// Central finite differences: the independent truth every gradient test compares with.
///
/// An op with an array output is turned into a scalar as L = Σ r·y with fixed random weights
/// r, summed in Double; its analytic gradient is then the op's backward seeded with r.
/// Steps are taken in Float (the kernels' precision) and divided by the step actually taken.
enum GradientCheck {
    /// ∂f/∂x[i] for each listed element (all when nil), (f(x + h·eᵢ) − f(x − h·eᵢ)) / (2h).
    static func numerical(_ x: NDArray<Float>, step: Float = 1e-2, at elements: [Int]? = nil,
                          _ f: (NDArray<Float>) throws -> Double) rethrows -> [Double] {
        var probe = x
        return try (elements ?? Array(0..<x.count)).map { i in
            let v = x.storage[i]
            let (up, down) = (v + step, v - step)
            probe = probe.replacing(i, with: up)
            let fUp = try f(probe)
            probe = probe.replacing(i, with: down)
            let fDown = try f(probe)
            probe = probe.replacing(i, with: v)
            return (fUp - fDown) / (Double(up) - Double(down))
        }
    }

    /// Σ r·y in Double.
    static func dot(_ y: NDArray<Float>, _ r: NDArray<Float>) -> Double {
        precondition(y.count == r.count, "dot of \(y.shape) and \(r.shape)")
        return zip(y.storage, r.storage).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// The worst element's |analytic − numeric| / (absolute + relative·|numeric|): ≤ 1 passes.
    static func error(_ analytic: NDArray<Float>, _ numeric: [Double],
                      absolute: Double = 2e-3, relative: Double = 1e-2) -> Double {
        error(analytic.storage, numeric, absolute: absolute, relative: relative)
    }

    static func error(_ analytic: [Float], _ numeric: [Double], absolute: Double = 2e-3, relative: Double = 1e-2) -> Double {
        guard analytic.count == numeric.count else { return .infinity }
        return zip(analytic, numeric).map { a, n in
            abs(Double(a) - n) / (absolute + relative * abs(n))
        }.max() ?? 0
    }

    /// Checks every input of an op: `backward(inputs, r)` must return, for each input, the
    /// gradient of Σ r·forward(inputs) (nil for inputs it does not differentiate). Returns the
    /// error of each input (nil where skipped).
    static func check(_ inputs: [NDArray<Float>], seed: UInt64 = 99, step: Float = 1e-2,
                      absolute: Double = 2e-3, relative: Double = 1e-2,
                      forward: ([NDArray<Float>]) throws -> NDArray<Float>,
                      backward: ([NDArray<Float>], NDArray<Float>) throws -> [NDArray<Float>?]) throws -> [Double?] {
        let y = try forward(inputs)
        let r = KernelFixtures.random(y.shape, seed: seed)
        let analytic = try backward(inputs, r)
        return try inputs.indices.map { i -> Double? in
            guard i < analytic.count, let grad = analytic[i] else { return nil }
            let numeric = try numerical(inputs[i], step: step) { probe in
                var args = inputs
                args[i] = probe
                return dot(try forward(args), r)
            }
            return error(grad, numeric, absolute: absolute, relative: relative)
        }
    }

    /// Uniform values in [−1, 1] at least `margin` away from each of `kinks` (where the
    /// function's derivative jumps, a central difference straddling it is not the derivative).
    static func random(_ shape: [Int], seed: UInt64, avoiding kinks: [Float] = [], margin: Float = 0.05,
                       in range: ClosedRange<Float> = -1...1) -> NDArray<Float> {
        var g = Xoshiro256StarStar(seed: seed)
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            while true {
                let v = range.lowerBound + (range.upperBound - range.lowerBound) * Float(g.nextDouble())
                if kinks.allSatisfy({ abs($0 - v) >= margin }) { return v }
            }
        }
        return KernelFixtures.array(shape, values)
    }

    /// Distinct values at least `spacing` apart in random order: max pooling's winner stays
    /// the same under any step smaller than half the spacing.
    static func distinct(_ shape: [Int], seed: UInt64, spacing: Float = 0.1) -> NDArray<Float> {
        var g = Xoshiro256StarStar(seed: seed)
        let n = shape.reduce(1, *)
        var values = (0..<n).map { Float($0) * spacing - Float(n) * spacing / 2 }
        g.shuffle(&values)
        return KernelFixtures.array(shape, values)
    }
}

extension NDArray where Element == Float {
    /// The same array with element `i` set to `v`.
    func replacing(_ i: Int, with v: Float) -> NDArray {
        var values = storage
        values[i] = v
        return try! NDArray(shape: shape, storage: values)
    }
}
