/// Lookups over a `ChannelGroups` that the criteria, the MFIS problem and the bundle all need:
/// which group and channel a component is, and which tensor slices follow each group.
public struct ChannelGroupLookup: Sendable {
    /// Group id of each component.
    public let groupOf: [Int]
    /// Channel index (within its group) of each component.
    public let channelOf: [Int]
    /// Indices into `groups.sites`, one per tensor and axis: a weight used by several nodes
    /// (tied weights) is listed once, as surgery slices it once.
    public let uniqueSites: [Int]
    /// Per group id, the unique sites whose channels all belong to it.
    public let sitesOfGroup: [[Int]]

    public init(_ groups: ChannelGroups) {
        var groupOf = Array(repeating: -1, count: groups.componentCount)
        var channelOf = Array(repeating: -1, count: groups.componentCount)
        for g in groups.groups {
            for (i, c) in g.channels.enumerated() {
                groupOf[c] = g.id
                channelOf[c] = i
            }
        }
        var seen = Set<String>()
        var unique: [Int] = []
        for (i, site) in groups.sites.enumerated() where seen.insert("\(site.tensor)#\(site.axis)").inserted {
            unique.append(i)
        }
        var byGroup = Array(repeating: [Int](), count: groups.groups.count)
        for i in unique {
            let site = groups.sites[i]
            guard let first = site.channels.first else { continue }
            let g = groupOf[first]
            if g >= 0, site.channels.allSatisfy({ groupOf[$0] == g }) { byGroup[g].append(i) }
        }
        self.groupOf = groupOf
        self.channelOf = channelOf
        self.uniqueSites = unique
        self.sitesOfGroup = byGroup
    }

    /// The group a site's channels belong to, when they all belong to one (they do for every
    /// site the analysis makes, short of a tensor tied across groups).
    public func group(of site: ChannelSite) -> Int? {
        guard let first = site.channels.first else { return nil }
        let g = groupOf[first]
        return site.channels.allSatisfy({ groupOf[$0] == g }) ? g : nil
    }
}
