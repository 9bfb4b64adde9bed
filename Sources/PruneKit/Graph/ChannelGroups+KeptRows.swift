extension ChannelGroups {
    /// For every producer weight (conv / gemm / matmul output rows), the original positions of
    /// the rows that survive `removal` (channel indices per group, as surgery takes them), in
    /// order: row j of the pruned tensor is row `keptRows[w][j]` of the original. Training
    /// needs it to compare a pruned layer's channels with the unpruned model's.
    public func keptRows(removing removal: [Int: [Int]]) -> [String: [Int]] {
        var removed = Set<Int>()
        for (g, channels) in removal where groups.indices.contains(g) {
            for c in channels where groups[g].channels.indices.contains(c) { removed.insert(groups[g].channels[c]) }
        }
        var kept: [String: [Int]] = [:]
        for site in sites where site.role == .producer && kept[site.tensor] == nil {
            kept[site.tensor] = site.channels.indices.filter { !removed.contains(site.channels[$0]) }
        }
        return kept
    }
}
