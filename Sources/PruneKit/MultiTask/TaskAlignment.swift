/// T task models of one backbone, analyzed and lined up group by group, so that channel i of
/// group g means the same filter position in every task (ALGORITHM.md §2: models fine-tuned
/// from one backbone keep filter correspondence by index).
///
/// The models must have the same nodes (op, inputs, outputs, in order) and the same weights
/// by name and rank. A weight's shape may differ between tasks only where it is a task head:
/// the differing axis carries a channel group, which is then pinned in every task ("not
/// pruned on its output side"). Any other difference means the models are not of one
/// backbone, and the error names the first node or tensor that differs.
public struct AlignedTasks: Sendable {
    public struct Task: Sendable {
        public var name: String
        /// With constants as initializers, as the analysis and surgery see it.
        public var graph: Graph
        public var shapes: ShapeInference
        public var groups: ChannelGroups
        public var lookup: ChannelGroupLookup
    }

    public var tasks: [Task]
    /// Task 0's groups, with a group prunable only when it is prunable in every task and no
    /// task head runs through it.
    public var groups: [ChannelGroup]

    public var count: Int { tasks.count }
    public var prunableGroups: [ChannelGroup] { groups.filter(\.prunable) }

    public struct Mismatch: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public init(names: [String], graphs: [Graph], inputShapes: [String: [Int]] = [:]) throws {
        precondition(!graphs.isEmpty && names.count == graphs.count, "one name per graph, at least one graph")
        tasks = zip(names, graphs).map { name, original in
            let graph = original.constantsAsInitializers()
            let shapes = ShapeInference(graph: graph, inputShapes: inputShapes)
            let groups = ChannelGroups.analyze(graph, shapes: shapes)
            return Task(name: name, graph: graph, shapes: shapes, groups: groups, lookup: ChannelGroupLookup(groups))
        }
        groups = tasks[0].groups.groups
        for t in tasks.indices.dropFirst() { try align(t) }
    }

    private mutating func align(_ t: Int) throws {
        let a = tasks[0], b = tasks[t]
        func mismatch(_ what: String) -> Mismatch {
            Mismatch(message: "models '\(a.name)' and '\(b.name)' are not of one backbone: \(what)")
        }
        for (x, y) in zip(a.graph.nodes, b.graph.nodes) where x.opType != y.opType || x.inputs != y.inputs || x.outputs != y.outputs {
            throw mismatch("node '\(x.label)' (\(x.opType)) differs from node '\(y.label)' (\(y.opType)) in op, inputs or outputs")
        }
        if a.graph.nodes.count != b.graph.nodes.count {
            let (longer, shorter) = a.graph.nodes.count > b.graph.nodes.count ? (a, b) : (b, a)
            let extra = longer.graph.nodes[shorter.graph.nodes.count]
            throw mismatch("node '\(extra.label)' (\(extra.opType)) of '\(longer.name)' has no counterpart in '\(shorter.name)' "
                + "(\(a.graph.nodes.count) nodes against \(b.graph.nodes.count))")
        }
        // Axes whose length differs, by tensor: allowed only where a channel group is a task head.
        var headGroups: [Int: String] = [:]
        for name in a.graph.initializerOrder {
            guard let x = a.graph.initializers[name] else { continue }
            guard let y = b.graph.initializers[name] else { throw mismatch("tensor '\(name)' is missing from '\(b.name)'") }
            guard x.shape != y.shape else { continue }
            guard x.rank == y.rank else { throw mismatch("tensor '\(name)' has shape \(x.shape) in '\(a.name)' and \(y.shape) in '\(b.name)'") }
            for axis in 0..<x.rank where x.shape[axis] != y.shape[axis] {
                let site = a.groups.sites.first { $0.tensor == name && $0.axis == axis }
                guard let site, let g = a.lookup.group(of: site) else {
                    throw mismatch("tensor '\(name)' has shape \(x.shape) in '\(a.name)' and \(y.shape) in '\(b.name)'")
                }
                headGroups[g] = headGroups[g] ?? name
            }
        }
        if let extra = b.graph.initializerOrder.first(where: { a.graph.initializers[$0] == nil }) {
            throw mismatch("tensor '\(extra)' is missing from '\(a.name)'")
        }
        guard a.groups.groups.count == b.groups.groups.count else {
            throw mismatch("\(a.groups.groups.count) channel groups against \(b.groups.groups.count)")
        }
        for (x, y) in zip(a.groups.groups, b.groups.groups) {
            guard x.name == y.name else { throw mismatch("channel group '\(x.name)' lines up with '\(y.name)'") }
            if x.size != y.size && headGroups[x.id] == nil {
                throw mismatch("channel group '\(x.name)' has \(x.size) channels against \(y.size)")
            }
            if let tensor = headGroups[x.id], groups[x.id].prunable {
                groups[x.id].prunable = false
                groups[x.id].reason = "task head: '\(tensor)' differs in shape between the tasks"
            } else if !y.prunable, groups[x.id].prunable {
                groups[x.id].prunable = false
                groups[x.id].reason = "in '\(b.name)': \(y.reason ?? "not prunable")"
            }
        }
    }
}
