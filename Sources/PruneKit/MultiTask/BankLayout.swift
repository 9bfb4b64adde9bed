/// Where the filters of each shareable tensor sit: the filter tensors (producer weights of a
/// prunable group, of one shape in every task; biases stay per task) whose rows the bundle
/// stores once when tasks share them. Computed from the first task; the tasks are aligned, so
/// positions mean the same in all of them.
struct BankLayout: Sendable {
    struct Entry: Sendable {
        var tensor: String
        var rowAxis: Int
        /// Group id of the rows.
        var group: Int
        /// Per channel of the group: its positions along the row axis, ascending.
        var rowPositions: [[Int]]
        /// Owner channel of each row position.
        var rowOwner: [Int]
        /// Every other axis that follows channels: per position, its (group id, channel).
        var columns: [(axis: Int, owners: [(group: Int, channel: Int)])]
    }

    var entries: [Entry]

    init(_ aligned: AlignedTasks, sharing: Bool) {
        guard sharing, aligned.count >= 2 else {
            entries = []
            return
        }
        let task = aligned.tasks[0]
        var sitesOf: [String: [ChannelSite]] = [:]
        for s in task.lookup.uniqueSites { sitesOf[task.groups.sites[s].tensor, default: []].append(task.groups.sites[s]) }
        entries = CostModel.bankable(aligned).sorted { $0.key < $1.key }.compactMap { name, rowAxis in
            guard let sites = sitesOf[name], let rowSite = sites.first(where: { $0.axis == rowAxis }),
                  let g = task.lookup.group(of: rowSite) else { return nil }
            var positions = Array(repeating: [Int](), count: task.groups.groups[g].size)
            let owner = rowSite.channels.map { task.lookup.channelOf[$0] }
            for (q, i) in owner.enumerated() { positions[i].append(q) }
            let columns = sites.filter { $0.axis != rowAxis }.sorted { $0.axis < $1.axis }.map { site in
                (axis: site.axis, owners: site.channels.map { (group: task.lookup.groupOf[$0], channel: task.lookup.channelOf[$0]) })
            }
            return Entry(tensor: name, rowAxis: rowAxis, group: g, rowPositions: positions, rowOwner: owner, columns: columns)
        }
    }
}
