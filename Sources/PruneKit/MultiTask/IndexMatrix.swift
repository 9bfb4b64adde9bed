/// The index matrix of one prunable group (ALGORITHM.md §4): which task uses which filter and
/// which filters are one physical filter, and what each task's layer is made of.
///
/// `matrix[t][i] == 1` when task t keeps channel i. `keep[t]` lists those channels ascending
/// (the task's layer width is its length). The group's bank holds its shared filters first
/// (slots `0..<sharedSlots`, one per shared channel, ascending), then each task's own filters;
/// `bank[t][j]` is the slot of task t's j-th kept channel: a shared slot, or `sharedSlots + k`
/// for the task's k-th filter of its own.
public struct IndexMatrix: Sendable, Codable, Equatable {
    /// A channel kept by several tasks and stored once: the magnitude-weighted mean of their filters.
    public struct SharedFilter: Sendable, Codable, Equatable {
        public var slot: Int
        public var channel: Int
        /// Tasks (indices) that use it, ascending.
        public var tasks: [Int]
        /// Weight of each of those tasks' filters in the mean (they sum to 1).
        public var weights: [Double]
    }

    public var name: String
    public var group: Int
    public var channels: Int
    public var matrix: [[Int]]
    public var keep: [[Int]]
    public var bank: [[Int]]
    public var sharedSlots: Int
    public var shared: [SharedFilter]

    /// From a solution's keep and share bits; `weights(channel, tasks)` gives the merge weights.
    public init(name: String, group: Int, keep bits: [[Bool]], share: [Bool], weights: (Int, [Int]) -> [Double]) {
        let n = share.count
        precondition(bits.allSatisfy { $0.count == n }, "one keep bit per channel and task")
        self.name = name
        self.group = group
        channels = n
        matrix = bits.map { $0.map { $0 ? 1 : 0 } }
        keep = bits.map { b in b.indices.filter { b[$0] } }
        var shared: [SharedFilter] = []
        var slotOf = [Int?](repeating: nil, count: n)
        for i in 0..<n where share[i] {
            let tasks = bits.indices.filter { bits[$0][i] }
            guard tasks.count >= 2 else { continue }
            slotOf[i] = shared.count
            shared.append(SharedFilter(slot: shared.count, channel: i, tasks: tasks, weights: weights(i, tasks)))
        }
        self.shared = shared
        sharedSlots = shared.count
        let sharedSlots = shared.count
        bank = keep.map { kept in
            var own = 0
            return kept.map { i in
                if let s = slotOf[i] { return s }
                defer { own += 1 }
                return sharedSlots + own
            }
        }
    }

    /// The shared filter task t uses at channel i, if any.
    public func sharedFilter(channel i: Int, task t: Int) -> SharedFilter? {
        shared.first { $0.channel == i && $0.tasks.contains(t) }
    }
}
