/// Distances and angles between the filters of one group in one task, all from one Gram
/// matrix (`‖a − b‖² = ‖a‖² + ‖b‖² − 2a·b`), so that every pairwise quantity costs one GEMM.
public struct FilterGeometry: Sendable {
    public let count: Int
    /// `count × count`, row-major: the filters' dot products.
    public let gram: [Float]
    /// Euclidean norm of each filter.
    public let norms: [Double]

    public init(_ filters: FilterMatrix) {
        let n = filters.rows
        let g = filters.gram()
        count = n
        gram = g
        norms = (0..<n).map { Double(max(0, g[$0 * n + $0])).squareRoot() }
    }

    @inline(__always)
    public func dot(_ i: Int, _ j: Int) -> Double { Double(gram[i * count + j]) }

    /// ‖w_i − w_j‖₂; rounding can make the expansion a hair negative for twins, hence the clamp.
    public func distance(_ i: Int, _ j: Int) -> Double {
        max(0, norms[i] * norms[i] + norms[j] * norms[j] - 2 * dot(i, j)).squareRoot()
    }

    /// cos ∠(w_i, w_j); 0 when either filter is zero.
    public func cosine(_ i: Int, _ j: Int) -> Double {
        let d = norms[i] * norms[j]
        return d > 0 ? min(1, max(-1, dot(i, j) / d)) : 0
    }
}
