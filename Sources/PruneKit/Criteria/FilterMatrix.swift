/// The filters of one channel group as rows of a matrix: row i is channel i's producer
/// weights, the slices of every producer of the group that carry the channel, concatenated
/// in site order (a residual group's row spans all the convs that add into it; a depthwise
/// conv's rows join its input channel's); or, `consumers`, the weights its readers take it
/// with. What irreplaceability and shareability compare.
public struct FilterMatrix: Sendable, Equatable {
    public let rows: Int
    public let width: Int
    /// Row-major, `rows × width`.
    public var values: [Float]

    public init(rows: Int, width: Int, values: [Float]) {
        precondition(values.count == rows * width, "FilterMatrix: \(values.count) values for \(rows)×\(width)")
        self.rows = rows
        self.width = width
        self.values = values
    }

    public func row(_ i: Int) -> ArraySlice<Float> { values[(i * width)..<((i + 1) * width)] }

    /// The Gram matrix W·Wᵀ (`rows × rows`), through the GEMM kernel. It is symmetric, so only
    /// the blocks on and above the diagonal are multiplied (nearly half the work for large
    /// groups) and mirrored below.
    public func gram() -> [Float] {
        let n = rows
        var g = [Float](repeating: 0, count: n * n)
        guard n > 0, width > 0 else { return g }
        let block = 128
        values.withUnsafeBufferPointer { w in
            g.withUnsafeMutableBufferPointer { c in
                for i0 in stride(from: 0, to: n, by: block) {
                    for j0 in stride(from: i0, to: n, by: block) {
                        let m = min(block, n - i0), cols = min(block, n - j0)
                        gemm(transA: false, transB: true, m: m, n: cols, k: width, alpha: 1,
                             a: w.baseAddress! + i0 * width, lda: width, b: w.baseAddress! + j0 * width, ldb: width,
                             beta: 0, c: c.baseAddress! + i0 * n + j0, ldc: n)
                    }
                }
                for i in 0..<n {
                    for j in 0..<i where j / block < i / block { c[i * n + j] = c[j * n + i] }
                }
            }
        }
        return g
    }

    /// The producer rows of every channel of group `g` in `graph`. Channels whose rows are
    /// narrower than the widest (none in the graphs the analysis makes) are padded with zeros.
    public static func producers(ofGroup g: Int, groups: ChannelGroups, lookup: ChannelGroupLookup, graph: Graph) -> FilterMatrix {
        rows(ofGroup: g, role: .producer, groups: groups, lookup: lookup, graph: graph)
    }

    /// The consumer rows of every channel of group `g`: what the next layers read it with (next
    /// convs' input slices, a linear's h·w columns), concatenated in site order. `outputGains`
    /// scales a reader's output rows as `MagnitudeCriterion.consumerL1` does (a BN after the
    /// reader folded in), so that a kept-BN export and its folded export give the same rows.
    public static func consumers(ofGroup g: Int, groups: ChannelGroups, lookup: ChannelGroupLookup, graph: Graph,
                                 outputGains: [String: [Float]] = [:]) -> FilterMatrix {
        rows(ofGroup: g, role: .consumer, groups: groups, lookup: lookup, graph: graph, outputGains: outputGains)
    }

    static func rows(ofGroup g: Int, role: ChannelSite.Role, groups: ChannelGroups, lookup: ChannelGroupLookup, graph: Graph,
                     outputGains: [String: [Float]] = [:]) -> FilterMatrix {
        let size = groups.groups[g].size
        let sites = lookup.sitesOfGroup[g].map { groups.sites[$0] }.filter { $0.role == role }
        var widths = Array(repeating: 0, count: size)
        var slices: [(site: ChannelSite, tensor: Tensor)] = []
        for site in sites {
            guard let t = graph.initializers[site.tensor], t.dtype.isFloatingPoint else { continue }
            let sliceSize = t.count / max(1, t.shape[site.axis])
            for c in site.channels { widths[lookup.channelOf[c]] += sliceSize }
            slices.append((site, t))
        }
        let width = widths.max() ?? 0
        var values = [Float](repeating: 0, count: size * width)
        var filled = Array(repeating: 0, count: size)
        for (site, t) in slices {
            let v = t.floats()
            let dim = t.shape[site.axis]
            let outer = t.shape[..<site.axis].reduce(1, *)
            let inner = t.shape[(site.axis + 1)...].reduce(1, *)
            let gains = outputGains[site.node].flatMap { $0.count == outer && outer > 1 ? $0 : nil }
            // Position p's slices go to its channel's row, outer index by outer index; where they
            // start is fixed first, so that the tensor is read in order (a consumer's slices of one
            // channel are strided by a whole output row).
            let start = site.channels.map { c -> Int in
                let i = lookup.channelOf[c]
                defer { filled[i] += outer * inner }
                return i * width + filled[i]
            }
            v.withUnsafeBufferPointer { from in
                values.withUnsafeMutableBufferPointer { to in
                    for o in 0..<outer {
                        let gain = gains?[o] ?? 1
                        for p in 0..<dim {
                            let a = (o * dim + p) * inner, b = start[p] + o * inner
                            for k in 0..<inner { to[b + k] = gain * from[a + k] }
                        }
                    }
                }
            }
        }
        return FilterMatrix(rows: size, width: width, values: values)
    }
}
