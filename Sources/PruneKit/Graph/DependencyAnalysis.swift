/// Walks the graph once in topological order and ties channels together with a union-find.
///
/// Every value with a channel axis (axis 1: NCHW activations, [N, F] features) gets a *map*:
/// the channel id carried at each position of that axis. Producers (conv, gemm, matmul,
/// graph inputs, unknown ops) create fresh ids; elementwise ops pass the map on; residual
/// adds union the ids position by position; concat concatenates maps; flatten repeats each
/// id h·w times; grouped convs union the same in-group index across groups. A position may
/// repeat an id (flatten, depthwise multipliers): removing the id removes every position.
struct DependencyAnalysis {
    var parent: [Int] = []
    /// (space, index) of every id; a space is one producer's channel vector.
    private var origin: [(space: Int, index: Int)] = []
    private var spaceNames: [String] = []
    private var blocked: [Int: String] = [:]
    var maps: [String: [Int]] = [:]
    /// The axis a value's map lies on where it is not axis 1: the last axis, after a Transpose
    /// to channels last (ConvNeXt's permute). Only the ops in `DependencyAnalysis+ChannelAxis`
    /// read such values; every other op pins them.
    var channelAxis: [String: Int] = [:]
    /// Flatten outputs whose h·w is unknown: resolved by the consumer's weight width.
    var pendingFlatten: [String: [Int]] = [:]
    var sites: [ChannelSite] = []
    var depthwise: [(node: Int, inputs: [Int])] = []
    var reshapes: [(node: Int, tensor: String, features: [Int])] = []
    /// Counts surgery rewrites (Split sizes, Slice bounds, shuffle reshapes, Resize sizes), channels unresolved.
    var countFixes: [CountFix] = []
    /// Gathers that put a flattened value back as it was (their indices follow the kept channels).
    var identityGathers: [(node: Int, channels: [Int], shape: [Int])] = []
    /// Nodes already accounted for by an earlier node's pattern (the inside of a channel shuffle).
    var claimed: Set<Int> = []

    let graph: Graph
    let shapes: ShapeInference

    static let passThrough: Set<String> = [
        "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "HardSigmoid", "HardSwish", "Elu", "Selu", "Gelu",
        "Identity", "Dropout", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool",
        "Neg", "Abs", "Exp", "Sqrt", "Cast", "Softplus", "Softsign", "Mish", "Erf", "Log", "Reciprocal",
    ]
    /// Integer plumbing around reshapes: reads shapes, carries no channels.
    static let shapeOps: Set<String> = ["Constant", "Gather", "Unsqueeze", "Squeeze", "Slice", "ConstantOfShape"]

    init(graph: Graph, shapes: ShapeInference) {
        self.graph = graph
        self.shapes = shapes
    }

    // MARK: union-find

    mutating func fresh(_ count: Int, name: String, blockedBecause reason: String? = nil) -> [Int] {
        let space = spaceNames.count
        spaceNames.append(name)
        let start = parent.count
        for i in 0..<count {
            parent.append(start + i)
            origin.append((space, i))
            if let reason { blocked[start + i] = reason }
        }
        return Array(start..<(start + count))
    }

    mutating func find(_ x: Int) -> Int {
        var r = x
        while parent[r] != r { r = parent[r] }
        var y = x
        while parent[y] != r { let next = parent[y]; parent[y] = r; y = next }
        return r
    }

    mutating func union(_ a: Int, _ b: Int) {
        let ra = find(a), rb = find(b)
        if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
    }

    mutating func block(_ ids: [Int], _ reason: String) {
        for id in ids where blocked[id] == nil { blocked[id] = reason }
    }

    // MARK: walk

    mutating func run() -> ChannelGroups {
        for input in graph.dataInputs {
            // The channel count may be declared even where the spatial size is not (state_dict graphs).
            if let c = shapes.shape(input.name).flatMap({ $0.count >= 2 ? $0[1] : nil }) ?? input.shape.flatMap({ $0.count >= 2 ? $0[1].value : nil }) {
                maps[input.name] = fresh(c, name: "input \(input.name)", blockedBecause: "\(ChannelGroup.graphInputReason) '\(input.name)'")
            }
        }
        for index in graph.topologicalOrder() { visit(index) }
        for output in graph.outputs {
            if let m = maps[output.name] ?? pendingFlatten[output.name] { block(m, "\(ChannelGroup.graphOutputReason) '\(output.name)'") }
        }
        // A weight shared by several nodes (tied weights) couples their channels position by position.
        var firstSite: [String: Int] = [:]
        for (i, site) in sites.enumerated() {
            let key = "\(site.tensor)#\(site.axis)"
            if let j = firstSite[key] {
                if sites[j].channels.count == site.channels.count {
                    for (a, b) in zip(sites[j].channels, site.channels) { union(a, b) }
                } else {
                    block(site.channels + sites[j].channels, "tensor '\(site.tensor)' is used with different widths")
                }
            } else {
                firstSite[key] = i
            }
        }
        return finish()
    }

    private mutating func visit(_ index: Int) {
        guard !claimed.contains(index) else { return }
        let node = graph.nodes[index]
        let op = node.domain.isEmpty || node.domain == "ai.onnx" ? node.opType : "\(node.domain).\(node.opType)"
        let x = node.inputs.first.flatMap { maps[$0] }
        func out(_ m: [Int], _ slot: Int = 0) {
            if slot < node.outputs.count { maps[node.outputs[slot]] = m; setAxis(node.outputs[slot], axis(of: node.inputs[0])) }
        }
        // Integer arithmetic on constants (shape inference folded it, e.g. PyTorch's pads for F.pad): no channels.
        if node.inputs.allSatisfy({ maps[$0] == nil && pendingFlatten[$0] == nil }),
           !node.outputs.isEmpty, node.outputs.allSatisfy({ shapes.constants[$0] != nil }) { return }

        if node.inputs.contains(where: { maps[$0] != nil && axis(of: $0) != 1 }) {
            return channelsLast(node, op: op, x: x)
        }
        switch op {
        case _ where Self.passThrough.contains(op):
            if let x { out(x) }
            if let p = node.inputs.first.flatMap({ pendingFlatten[$0] }) { pendingFlatten[node.outputs[0]] = p }
        case "Split":
            if let x { split(node, index: index, x: x) }
        case "Slice" where x != nil:
            slice(node, index: index, x: x!)
        case "Transpose":
            if let x { transpose(node, x: x) }
        case "Shape":
            break  // reads only the dimensions, which follow any pruning at run time
        case _ where Self.shapeOps.contains(op):
            // Integer plumbing; but a Slice or Gather of an activation cuts channels we cannot follow.
            if node.inputs.contains(where: { maps[$0] != nil || pendingFlatten[$0] != nil }) {
                unknown(node, why: "\(op) '\(node.label)' indexes into channels")
            }
        case "Conv":
            conv(node, index: index, x: x)
        case "BatchNormalization":
            guard let x else { return unknown(node, why: "BatchNormalization input has no known channels") }
            for (slot, role) in [(1, ChannelSite.Role.bnScale), (2, .perChannel), (3, .perChannel), (4, .perChannel)] {
                perChannelParameter(node, slot: slot, map: x, role: role)
            }
            out(x)
        case "PRelu":
            guard let x else { return unknown(node, why: "PRelu input has no known channels") }
            perChannelParameter(node, slot: 1, map: x, role: .perChannel, broadcastRank: shapes.shape(node.inputs[0])?.count)
            out(x)
        case "LayerNormalization":
            if let x { layerNorm(node, x: x) }
        case "InstanceNormalization":
            guard let x else { return unknown(node, why: "InstanceNormalization input has no known channels") }
            for slot in [1, 2] { perChannelParameter(node, slot: slot, map: x, role: .perChannel) }
            out(x)
        case "Resize", "Upsample":
            if let x { resize(node, index: index, x: x) }
        case "Pad":
            if let x { pad(node, x: x) }
        case "Pow":
            if let x { pow(node, x: x) }
        case "Add", "Sub", "Mul", "Div":
            elementwise(node)
        case "Concat":
            concat(node)
        case "Flatten":
            flatten(node, x: x, axis: node.int("axis") ?? 1)
        case "Reshape":
            reshape(node, index: index, x: x)
        case "Gemm":
            gemm(node)
        case "MatMul":
            matmul(node)
        case "ReduceMean", "ReduceMax", "ReduceSum", "ReduceMin":
            guard let x else { return }
            let rank = shapes.shape(node.inputs[0])?.count
            let axes = ShapeInference.reduceAxes(node, rank: rank, constants: shapes)
            if let rank, let axes, !axes.isEmpty || node.int("noop_with_empty_axes") == 1, !axes.contains(1), node.int("keepdims") ?? 1 == 1 || axes.allSatisfy({ $0 > 1 }) {
                if let s = shapes.shape(node.outputs[0]), s.count >= 2, s[1] == x.count, rank >= 2 { out(x); return }
            }
            unknown(node, why: "\(node.opType) '\(node.label)' reduces over the channel axis")
        case "Softmax", "LogSoftmax":
            guard let x else { return }
            let rank = shapes.shape(node.inputs[0])?.count ?? 2
            var axis = node.int("axis") ?? (graph.model.defaultOpset >= 13 ? -1 : 1)
            if axis < 0 { axis += rank }
            if axis == 1 || graph.model.defaultOpset < 13 {
                block(x, "\(node.opType) '\(node.label)' normalizes across channels")
                if let s = shapes.shape(node.outputs[0]), s.count >= 2 {
                    out(fresh(s[1], name: node.label, blockedBecause: "output of \(node.opType) '\(node.label)'"))
                }
            } else {
                out(x)
            }
        default:
            unknown(node, why: "op '\(op)' of node '\(node.label)' is not one the analysis knows")
        }
    }

    /// An op we cannot follow: its input channels are pinned, its outputs are new pinned channels.
    mutating func unknown(_ node: Node, why: String) {
        for v in node.inputs where !v.isEmpty {
            if let m = maps[v] ?? pendingFlatten[v] { block(m, why) }
        }
        for o in node.outputs where !o.isEmpty {
            if let s = shapes.shape(o), s.count >= 2 { maps[o] = fresh(s[1], name: node.label, blockedBecause: why) }
        }
    }

    func initializer(_ node: Node, _ slot: Int) -> Tensor? {
        slot < node.inputs.count ? graph.initializers[node.inputs[slot]] : nil
    }

    mutating func addSite(_ tensor: String, axis: Int, _ channels: [Int], _ role: ChannelSite.Role, _ node: Node) {
        sites.append(ChannelSite(tensor: tensor, axis: axis, channels: channels, role: role, node: node.label))
    }

    /// A parameter input holding one value per channel (BN stats, PRelu slope).
    mutating func perChannelParameter(_ node: Node, slot: Int, map: [Int], role: ChannelSite.Role,
                                              broadcastRank: Int? = nil) {
        guard slot < node.inputs.count, !node.inputs[slot].isEmpty else { return }
        guard let t = initializer(node, slot) else {
            return block(map, "parameter '\(node.inputs[slot])' of '\(node.label)' is computed, not a constant")
        }
        if t.count == 1 { return }
        var axis = 0
        if let rank = broadcastRank, t.rank > 1 { axis = 1 - (rank - t.rank) }
        guard axis >= 0, axis < t.rank, t.shape[axis] == map.count else {
            return block(map, "parameter '\(node.inputs[slot])' of '\(node.label)' has shape \(t.shape), not one value per channel")
        }
        addSite(node.inputs[slot], axis: axis, map, role, node)
    }

    // MARK: groups

    private mutating func finish() -> ChannelGroups {
        // Dense component numbers, in id order (so in graph order).
        var component: [Int: Int] = [:]
        var rootOf: [Int] = []
        for id in 0..<parent.count {
            let r = find(id)
            if component[r] == nil { component[r] = component.count }
            rootOf.append(component[r]!)
        }
        var members = Array(repeating: [Int](), count: component.count)
        for id in 0..<parent.count { members[rootOf[id]].append(id) }
        var reason = Array(repeating: String?.none, count: component.count)
        for (id, why) in blocked.sorted(by: { $0.key < $1.key }) where reason[rootOf[id]] == nil { reason[rootOf[id]] = why }

        // Channels that share the same set of producer spaces form one group.
        var groupOf: [[Int]: Int] = [:]
        var groups: [ChannelGroup] = []
        var firstIndex: [[Int]] = []
        for c in 0..<members.count {
            let spaces = Array(Set(members[c].map { origin[$0].space })).sorted()
            let g: Int
            if let existing = groupOf[spaces] { g = existing } else {
                g = groups.count
                groupOf[spaces] = g
                let producers = spaces.map { spaceNames[$0] }
                groups.append(ChannelGroup(id: g, name: producers.joined(separator: "+"), producers: producers,
                                           channels: [], prunable: true, reason: nil))
                firstIndex.append([])
            }
            groups[g].channels.append(c)
            firstIndex[g].append(members[c].map { origin[$0].index }.min() ?? 0)
            if let why = reason[c], groups[g].prunable { groups[g].prunable = false; groups[g].reason = why }
        }
        for g in groups.indices {
            let order = firstIndex[g].indices.sorted { firstIndex[g][$0] < firstIndex[g][$1] }
            groups[g].channels = order.map { groups[g].channels[$0] }
        }
        let resolvedSites = sites.map { s in
            var s = s
            s.channels = s.channels.map { rootOf[$0] }
            return s
        }
        return ChannelGroups(
            groups: groups,
            sites: resolvedSites,
            depthwiseConvs: depthwise.map { DepthwiseFix(node: $0.node, inputChannels: $0.inputs.map { rootOf[$0] }) },
            flattenReshapes: reshapes.map { ReshapeFix(node: $0.node, shapeTensor: $0.tensor, features: $0.features.map { rootOf[$0] }) },
            countFixes: countFixes.map { fix in
                var fix = fix
                for e in fix.entries.indices { fix.entries[e].channels = fix.entries[e].channels.map { rootOf[$0] } }
                return fix
            },
            componentCount: component.count,
            identityGathers: identityGathers.map { IdentityGatherFix(node: $0.node, channels: $0.channels.map { rootOf[$0] }, shape: $0.shape) }
        )
    }
}

extension ChannelGroups {
    /// Dependency analysis of `graph` (ALGORITHM.md §1).
    public static func analyze(_ graph: Graph, shapes: ShapeInference? = nil) -> ChannelGroups {
        var analysis = DependencyAnalysis(graph: graph, shapes: shapes ?? ShapeInference(graph: graph))
        return analysis.run()
    }
}
