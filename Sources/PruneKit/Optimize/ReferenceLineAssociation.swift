/// For each point (normalized objectives, all ≥ 0), the reference line nearest to it and the
/// perpendicular distance to it: NSGA-III's association step, the bulk of a generation's
/// arithmetic at many objectives (every member against every direction).
///
/// With unit directions w, d² = |p|² − (p·w)², and since p ≥ 0 and w ≥ 0 the nearest line is
/// the one with the largest projection p·w. The result is exactly that of computing every
/// projection in double precision, component by component, and keeping the first largest:
/// the float pass below only decides which directions need that computation.
///
/// Why float: the package builds for baseline x86-64 (SSE2, no FMA), where a vector holds two
/// doubles but four floats, and the scalar double loop already kept the arithmetic units busy.
/// A float pass over all directions, four members by eight directions at a time, finds the
/// largest float projection F; since every term is non-negative its relative error is at most
/// about (M + 4)·2⁻²⁴, so only directions within four times that of F can hold the largest
/// double projection. Those few (one or two, more on exact ties) are recomputed in double.
/// On random points at M = 10 (552 points, 275 directions) this ran 2.1× as fast as the scalar
/// double loop, where vectors of doubles reached 1.4×.
struct ReferenceLineAssociation: Sendable {
    let dimension: Int
    let directionCount: Int
    /// Unit directions, row-major (component k of direction j at j·M + k): the exact pass.
    let unitDirections: [Double]
    /// The same as floats, by component (component k of direction j at k·stride + j), padded
    /// with zero directions to a multiple of sixteen (two vectors of eight per step).
    private let floatDirections: [Float]
    private let stride: Int
    /// False when some direction has a negative or non-finite component: the float pass's
    /// error bound assumes non-negative terms, so every member takes the exact pass.
    private let filterable: Bool

    init(_ directions: ReferenceDirections) {
        let m = directions.objectiveCount
        let h = directions.count
        dimension = m
        directionCount = h
        unitDirections = directions.directions.flatMap { w in
            let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return w.map { $0 / norm }
        }
        stride = (h + 15) & ~15
        var byComponent = [Float](repeating: 0, count: m * stride)
        for j in 0..<h {
            for k in 0..<m { byComponent[k * stride + j] = Float(unitDirections[j * m + k]) }
        }
        floatDirections = byComponent
        filterable = unitDirections.allSatisfy { $0 >= 0 && $0.isFinite }
    }

    /// Nearest line and distance for each of `members` (indices of points in `points`, which
    /// holds `dimension` values per point), after mapping each value v of objective k to
    /// (v − ideal[k])·scale[k].
    func associate(_ points: UnsafeBufferPointer<Double>, _ members: [Int], ideal: [Double],
                   scale: [Double]) -> (niche: [Int], distance: [Double]) {
        let m = dimension
        var niche = [Int](repeating: 0, count: members.count)
        var distance = [Double](repeating: 0, count: members.count)
        // Four members in flight: their normalized objectives p (double), the same divided by
        // their largest component q (float: no overflow, no underflow but of negligible
        // terms), and their float projections on every direction.
        let p = UnsafeMutableBufferPointer<Double>.allocate(capacity: 4 * m)
        let q = UnsafeMutableBufferPointer<Float>.allocate(capacity: 4 * m)
        let rows = UnsafeMutableBufferPointer<Float>.allocate(capacity: 4 * stride)
        defer {
            p.deallocate()
            q.deallocate()
            rows.deallocate()
        }
        let tolerance = Float(4 * (m + 4)) * 0x1p-24
        unitDirections.withUnsafeBufferPointer { exactW in
            floatDirections.withUnsafeBufferPointer { floatW in
                var r = 0
                while r < members.count {
                    let used = min(4, members.count - r)
                    // Per lane, the largest component, or 0 where the float pass cannot be trusted.
                    var largest = SIMD4<Double>()
                    for lane in 0..<4 {
                        // Spare lanes repeat the last member; their results are dropped.
                        let i = members[r + min(lane, used - 1)]
                        let point = UnsafeMutableBufferPointer(rebasing: p[(lane * m)..<(lane * m + m)])
                        var s = 0.0
                        var usable = filterable
                        for k in 0..<m {
                            let v = (points[i &* m &+ k] - ideal[k]) * scale[k]
                            point[k] = v
                            if !(v >= 0 && v.isFinite) { usable = false }
                            s = max(s, v)
                        }
                        // A zero vector, odd values or a subnormal largest component (whose
                        // inverse overflows): the exact pass over all directions.
                        var inverse = 1 / s
                        if !usable || !(s > 0) || !inverse.isFinite {
                            s = 0
                            inverse = 0
                        }
                        for k in 0..<m { q[lane &* m &+ k] = Float(point[k] * inverse) }
                        largest[lane] = s
                    }
                    floatProjections(q, floatW, rows)
                    for lane in 0..<used {
                        let point = UnsafeBufferPointer(rebasing: p[(lane * m)..<(lane * m + m)])
                        let row = UnsafeBufferPointer(rebasing: rows[(lane * stride)..<(lane * stride + stride)])
                        let (j, projection) = largest[lane] > 0
                            ? nearestAmongCandidates(point, exactW, row, tolerance)
                            : nearestExact(point, exactW)
                        var norm2 = 0.0
                        for k in 0..<m { norm2 += point[k] * point[k] }
                        niche[r + lane] = j
                        distance[r + lane] = max(0, norm2 - projection * projection).squareRoot()
                    }
                    r += used
                }
            }
        }
        return (niche, distance)
    }

    /// Float projections of four members (`q`, M floats each) on every direction, into
    /// `rows` (`stride` floats per member).
    @inline(__always)
    private func floatProjections(_ q: UnsafeMutableBufferPointer<Float>, _ w: UnsafeBufferPointer<Float>,
                                  _ rows: UnsafeMutableBufferPointer<Float>) {
        let m = dimension
        let q = q.baseAddress!, w = w.baseAddress!, rows = rows.baseAddress!
        var j = 0
        while j < stride {
            var d0 = SIMD8<Float>(), d1 = d0, d2 = d0, d3 = d0
            for k in 0..<m {
                let wk = UnsafeRawPointer(w + (k &* stride &+ j)).loadUnaligned(as: SIMD8<Float>.self)
                d0 += q[k] * wk
                d1 += q[m &+ k] * wk
                d2 += q[2 &* m &+ k] * wk
                d3 += q[3 &* m &+ k] * wk
            }
            UnsafeMutableRawPointer(rows + j).storeBytes(of: d0, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(rows + (stride &+ j)).storeBytes(of: d1, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(rows + (2 &* stride &+ j)).storeBytes(of: d2, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(rows + (3 &* stride &+ j)).storeBytes(of: d3, as: SIMD8<Float>.self)
            j &+= 8
        }
    }

    /// The exact pass over the directions whose float projection is within `tolerance` (relative)
    /// of the largest one.
    @inline(__always)
    private func nearestAmongCandidates(_ point: UnsafeBufferPointer<Double>, _ w: UnsafeBufferPointer<Double>,
                                        _ row: UnsafeBufferPointer<Float>, _ tolerance: Float) -> (Int, Double) {
        let base = row.baseAddress!
        // Two running maxima, so that consecutive maxps do not wait on each other.
        var top0 = SIMD8<Float>(repeating: 0), top1 = top0
        var c = 0
        while c < stride {
            let v0 = UnsafeRawPointer(base + c).loadUnaligned(as: SIMD8<Float>.self)
            let v1 = UnsafeRawPointer(base + (c &+ 8)).loadUnaligned(as: SIMD8<Float>.self)
            top0.replace(with: v0, where: v0 .> top0)
            top1.replace(with: v1, where: v1 .> top1)
            c &+= 16
        }
        top0.replace(with: top1, where: top1 .> top0)
        let top4 = SIMD4(top0[0], top0[1], top0[2], top0[3])
        var top2 = SIMD4(top0[4], top0[5], top0[6], top0[7])
        top2.replace(with: top4, where: top4 .> top2)
        let largest = max(max(top2[0], top2[1]), max(top2[2], top2[3]))
        // The absolute slack covers float underflow of tiny components.
        let threshold = SIMD8<Float>(repeating: largest - largest * tolerance - 1e-30)
        var best = 0
        var bestProjection = -Double.infinity
        c = 0
        while c < stride {
            let near = UnsafeRawPointer(base + c).loadUnaligned(as: SIMD8<Float>.self) .>= threshold
            // any(near), folded by hand: the library's any() became a call to a generic min().
            let lanes = unsafeBitCast(near, to: SIMD8<Int32>.self)
            let half = lanes.lowHalf | lanes.highHalf
            let quarter = half.lowHalf | half.highHalf
            if quarter[0] | quarter[1] != 0 {
                for lane in 0..<8 where near[lane] && c &+ lane < directionCount {
                    let d = projection(point, w, c &+ lane)
                    if d > bestProjection {
                        bestProjection = d
                        best = c &+ lane
                    }
                }
            }
            c &+= 8
        }
        return (best, bestProjection)
    }

    /// The first direction with the largest exact projection.
    private func nearestExact(_ point: UnsafeBufferPointer<Double>, _ w: UnsafeBufferPointer<Double>) -> (Int, Double) {
        var best = 0
        var bestProjection = -Double.infinity
        for j in 0..<directionCount {
            let d = projection(point, w, j)
            if d > bestProjection {
                bestProjection = d
                best = j
            }
        }
        return (best, bestProjection)
    }

    /// p·w_j in double, component by component from the first: the one definition of the
    /// projection that both passes share.
    @inline(__always)
    private func projection(_ point: UnsafeBufferPointer<Double>, _ w: UnsafeBufferPointer<Double>, _ j: Int) -> Double {
        let m = dimension
        let base = j &* m
        var d = 0.0
        for k in 0..<m { d += point[k] * w[base &+ k] }
        return d
    }
}
