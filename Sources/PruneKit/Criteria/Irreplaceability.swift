/// Irreplaceability (He et al. 2019, "Filter Pruning via Geometric Median", FPGM): a filter
/// near the geometric median of its group is the one the others can stand in for. FPGM's
/// approximation scores filter i by its summed distance to the others, `Σ_j ‖w_i − w_j‖₂`:
/// small means replaceable, so the low scorers are the ones to drop.
public enum IrreplaceabilityCriterion {
    public static func fpgm(_ geometry: FilterGeometry) -> [Double] {
        let n = geometry.count
        var scores = [Double](repeating: 0, count: n)
        for i in 0..<n {
            for j in (i + 1)..<n {
                let d = geometry.distance(i, j)
                scores[i] += d
                scores[j] += d
            }
        }
        return scores
    }
}
