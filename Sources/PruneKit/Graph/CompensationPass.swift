import Foundation

/// The walk behind `Graph.compensatingBiases`: in topological order, the constant each removed
/// channel carries at each value (by position along axis 1), folded into the bias of every
/// Conv / Gemm that reads it.
struct CompensationPass {
    struct Constant {
        var value: Float
        var component: Int
    }

    var graph: Graph
    let groups: ChannelGroups
    let shapes: ShapeInference
    private(set) var newSites: [ChannelSite] = []
    private var removed = Set<Int>()
    private var position: [Int: (group: Int, channel: Int)] = [:]
    private var constants: [String: [Int: Constant]] = [:]
    private var into: [Int: Set<String>] = [:]
    private var skipped: [Int: Set<String>] = [:]
    private var changed = Set<String>()
    private let uses: [String: Int]

    init(graph: Graph, groups: ChannelGroups, shapes: ShapeInference, removal: [Int: [Int]], except: [Int: Set<Int>]) {
        self.graph = graph
        self.groups = groups
        self.shapes = shapes
        for g in groups.groups { for (i, c) in g.channels.enumerated() { position[c] = (g.id, i) } }
        for (g, channels) in removal where groups.groups.indices.contains(g) {
            for i in channels where groups.groups[g].channels.indices.contains(i) && !(except[g]?.contains(i) ?? false) {
                removed.insert(groups.groups[g].channels[i])
            }
        }
        var uses: [String: Int] = [:]
        for node in graph.nodes { for v in node.inputs where !v.isEmpty { uses[v, default: 0] += 1 } }
        self.uses = uses
    }

    mutating func run() {
        guard !removed.isEmpty else { return }
        for index in graph.topologicalOrder() { visit(index) }
    }

    func report() -> BiasCompensation {
        let channels = Set(into.keys).union(skipped.keys).compactMap { c -> BiasCompensation.Channel? in
            guard let (g, i) = position[c] else { return nil }
            return .init(group: groups.groups[g].name, channel: i, into: (into[c] ?? []).sorted(), skipped: (skipped[c] ?? []).sorted())
        }
        return BiasCompensation(channels: channels.sorted { ($0.group, $0.channel) < ($1.group, $1.channel) }, tensors: changed.sorted())
    }

    // MARK: walk

    private mutating func visit(_ index: Int) {
        let node = graph.nodes[index]
        let x = node.inputs.first.flatMap { constants[$0] } ?? [:]
        func pass(_ f: (Float) -> Float) {
            constants[node.outputs[0]] = x.mapValues { Constant(value: f($0.value), component: $0.component) }
        }
        switch node.domain.isEmpty || node.domain == "ai.onnx" ? node.opType : "" {
        case "Conv":
            if !x.isEmpty { consume(index, x: x) }
            produce(index)
        case "Gemm":
            if !x.isEmpty { consume(index, x: x) }
            produce(index)
        case _ where x.isEmpty && node.inputs.dropFirst().allSatisfy({ constants[$0] == nil }):
            return
        case "Shape":
            return  // reads dimensions only
        case "Relu": pass { max(0, $0) }
        case "LeakyRelu":
            let alpha = node.float("alpha") ?? 0.01
            pass { $0 < 0 ? alpha * $0 : $0 }
        case "Clip":
            guard let (lo, hi) = clipBounds(node) else { return skip(node) }
            pass { min(max($0, lo), hi) }
        case "Identity", "Dropout", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool":
            pass { $0 }
        case "BatchNormalization":
            let p = (1...4).map { slot in slot < node.inputs.count ? graph.initializers[node.inputs[slot]]?.floats() : nil }
            guard let scale = p[0], let bias = p[1], let mean = p[2], let variance = p[3] else { return skip(node) }
            let eps = node.float("epsilon") ?? 1e-5
            constants[node.outputs[0]] = x.reduce(into: [:]) { r, e in
                let q = e.key
                guard q < scale.count, q < bias.count, q < mean.count, q < variance.count else { return }
                r[q] = Constant(value: scale[q] * (e.value.value - mean[q]) / (variance[q] + eps).squareRoot() + bias[q], component: e.value.component)
            }
        case "Add", "Sub", "Mul", "Div":
            elementwise(node)
        case "Flatten":
            guard (node.int("axis") ?? 1) == 1 else { return skip(node) }
            flatten(node, x: x)
        case "Reshape":
            guard let a = shapes.shape(node.inputs[0]), let b = shapes.shape(node.outputs[0]) else { return skip(node) }
            if a == b { pass { $0 } } else if b.count == 2, a.count >= 2, b[0] == a[0] { flatten(node, x: x) } else { skip(node) }
        case "Concat":
            concat(node)
        default:
            skip(node)
        }
    }

    /// The constants reaching `node` are lost there.
    private mutating func skip(_ node: Node) {
        for v in node.inputs {
            for c in (constants[v] ?? [:]).values where c.value != 0 { skipped[c.component, default: []].insert("\(node.opType) '\(node.label)'") }
        }
    }

    private func clipBounds(_ node: Node) -> (Float, Float)? {
        func bound(_ slot: Int, attribute: String, default d: Float) -> Float? {
            if slot < node.inputs.count, !node.inputs[slot].isEmpty {
                guard let t = graph.initializers[node.inputs[slot]], t.count == 1 else { return nil }
                return t.floats()[0]
            }
            return node.float(attribute) ?? d
        }
        guard let lo = bound(1, attribute: "min", default: -.infinity), let hi = bound(2, attribute: "max", default: .infinity) else { return nil }
        return (lo, hi)
    }

    private mutating func flatten(_ node: Node, x: [Int: Constant]) {
        guard let s = shapes.shape(node.inputs[0]), s.count >= 2 else { return skip(node) }
        let hw = s.dropFirst(2).reduce(1, *)
        var out: [Int: Constant] = [:]
        for (p, c) in x { for k in 0..<hw { out[p * hw + k] = c } }
        constants[node.outputs[0]] = out
    }

    private mutating func concat(_ node: Node) {
        guard let rank = shapes.shape(node.outputs[0])?.count, var axis = node.int("axis") else { return skip(node) }
        if axis < 0 { axis += rank }
        guard axis == 1 else { return skip(node) }
        var out: [Int: Constant] = [:]
        var offset = 0
        for v in node.inputs {
            guard let s = shapes.shape(v), s.count == rank else { return skip(node) }
            for (p, c) in constants[v] ?? [:] { out[offset + p] = c }
            offset += s[1]
        }
        constants[node.outputs[0]] = out
    }

    /// Add / Sub / Mul / Div: with a constant parameter (scalar or one value per channel), or
    /// with another value whose same positions carry constants too (a residual add of removed
    /// channels). A position constant on one side only is lost.
    private mutating func elementwise(_ node: Node) {
        guard node.inputs.count == 2, let outShape = shapes.shape(node.outputs[0]), outShape.count >= 2 else { return skip(node) }
        let op: (Float, Float) -> Float
        switch node.opType {
        case "Add": op = (+)
        case "Sub": op = (-)
        case "Mul": op = (*)
        default: op = (/)
        }
        func side(_ v: String) -> ((Int) -> Float?)? {
            if let t = graph.initializers[v] {
                let f = t.floats()
                if t.count == 1 { return { _ in f[0] } }
                guard let s = shapes.shape(v) ?? Optional(t.shape), t.count == outShape[1],
                      1 - (outShape.count - s.count) >= 0, s[1 - (outShape.count - s.count)] == outShape[1] else { return nil }
                return { f[$0] }
            }
            let c = constants[v] ?? [:]
            return { c[$0]?.value }
        }
        guard let a = side(node.inputs[0]), let b = side(node.inputs[1]) else { return skip(node) }
        let positions = Set((constants[node.inputs[0]] ?? [:]).keys).union((constants[node.inputs[1]] ?? [:]).keys)
        var out: [Int: Constant] = [:]
        for p in positions {
            let component = (constants[node.inputs[0]]?[p] ?? constants[node.inputs[1]]![p]!).component
            if let u = a(p), let w = b(p) { out[p] = Constant(value: op(u, w), component: component) }
            else if (constants[node.inputs[0]]?[p] ?? constants[node.inputs[1]]![p]!).value != 0 { skipped[component, default: []].insert("\(node.opType) '\(node.label)' (with a kept channel)") }
        }
        constants[node.outputs[0]] = out
    }

    // MARK: producers and consumers

    private func producerSite(_ node: Node) -> ChannelSite? {
        guard node.inputs.count > 1 else { return nil }
        let outAxis = node.opType == "Gemm" ? (node.int("transB") == 1 ? 0 : 1) : 0
        return groups.sites.first { $0.role == .producer && $0.node == node.label && $0.tensor == node.inputs[1] && $0.axis == outAxis }
    }

    /// A Conv (group 1) or Gemm reading constants at some input positions: their contribution,
    /// per output, added to its bias (made when it has none).
    private mutating func consume(_ index: Int, x: [Int: Constant]) {
        let node = graph.nodes[index]
        guard x.values.contains(where: { $0.value != 0 }) else { return }
        guard node.inputs.count > 1, let w = graph.initializers[node.inputs[1]], w.dtype.isFloatingPoint else { return skip(node) }
        // In position order: the sums come out the same in every run.
        let x = x.sorted { $0.key < $1.key }
        let weights = w.floats()
        var delta: [Float]
        if node.opType == "Conv" {
            guard (node.int("group") ?? 1) == 1, w.rank >= 3 else { return skip(node) }
            let (outs, ins, window) = (w.shape[0], w.shape[1], w.shape[2...].reduce(1, *))
            delta = [Float](repeating: 0, count: outs)
            for (p, c) in x where p < ins {
                for o in 0..<outs {
                    let base = (o * ins + p) * window
                    var s: Float = 0
                    for k in 0..<window { s += weights[base + k] }
                    delta[o] += c.value * s
                }
            }
        } else {
            let alpha = node.float("alpha") ?? 1, beta = node.float("beta") ?? 1
            guard w.rank == 2, node.int("transA") != 1, beta != 0 else { return skip(node) }
            let transB = node.int("transB") == 1
            let (ins, outs) = transB ? (w.shape[1], w.shape[0]) : (w.shape[0], w.shape[1])
            delta = [Float](repeating: 0, count: outs)
            for (p, c) in x where p < ins {
                for o in 0..<outs { delta[o] += alpha / beta * c.value * weights[transB ? o * ins + p : p * outs + o] }
            }
        }
        guard addToBias(index, delta) else { return skip(node) }
        for (_, c) in x where c.value != 0 { into[c.component, default: []].insert(node.label) }
    }

    private mutating func addToBias(_ index: Int, _ delta: [Float]) -> Bool {
        let node = graph.nodes[index]
        if node.inputs.count > 2, !node.inputs[2].isEmpty {
            let name = node.inputs[2]
            guard let b = graph.initializers[name], b.count == delta.count, uses[name] == 1 else { return false }
            var v = b.floats()
            for o in v.indices { v[o] += delta[o] }
            graph.initializers[name] = Tensor(shape: b.shape, floats: v, dtype: b.dtype)
            changed.insert(name)
            return true
        }
        guard delta.contains(where: { $0 != 0 }) else { return true }
        if addToBatchNormShift(after: node, delta) { return true }
        guard let site = producerSite(node), let dtype = graph.initializers[node.inputs[1]]?.dtype else { return false }
        var name = "\(node.outputs[0]).compensation_bias"
        while graph.initializers[name] != nil { name += "_" }
        graph.setInitializer(name, Tensor(shape: [delta.count], floats: delta, dtype: dtype))
        if graph.nodes[index].inputs.count > 2 { graph.nodes[index].inputs[2] = name } else { graph.nodes[index].inputs.append(name) }
        newSites.append(ChannelSite(tensor: name, axis: 0, channels: site.channels, role: .perChannel, node: node.label))
        changed.insert(name)
        return true
    }

    /// A conv without bias straight into a BatchNormalization (the legacy export of conv-BN):
    /// BN(y + d) = BN(y) + γ d / √(σ² + ε), so the shift takes it and no parameter is added.
    private mutating func addToBatchNormShift(after node: Node, _ delta: [Float]) -> Bool {
        guard let out = node.outputs.first, uses[out] == 1,
              let bn = graph.nodes.first(where: { $0.opType == "BatchNormalization" && $0.inputs.first == out }), bn.inputs.count == 5,
              let scale = graph.initializers[bn.inputs[1]]?.floats(), let shift = graph.initializers[bn.inputs[2]],
              let variance = graph.initializers[bn.inputs[4]]?.floats(), uses[bn.inputs[2]] == 1,
              scale.count == delta.count, shift.count == delta.count, variance.count == delta.count else { return false }
        let eps = bn.float("epsilon") ?? 1e-5
        var v = shift.floats()
        for o in v.indices { v[o] += scale[o] * delta[o] / (variance[o] + eps).squareRoot() }
        graph.initializers[bn.inputs[2]] = Tensor(shape: shift.shape, floats: v, dtype: shift.dtype)
        changed.insert(bn.inputs[2])
        return true
    }

    /// The removed output channels of a Conv / Gemm output their bias (with no bias: zero).
    private mutating func produce(_ index: Int) {
        let node = graph.nodes[index]
        guard let site = producerSite(node), let out = node.outputs.first else { return }
        var bias: [Float]?
        if node.inputs.count > 2, !node.inputs[2].isEmpty, let b = graph.initializers[node.inputs[2]], b.count == site.channels.count {
            let scale = node.opType == "Gemm" ? node.float("beta") ?? 1 : 1
            bias = b.floats().map { $0 * scale }
        }
        var result: [Int: Constant] = [:]
        for (p, c) in site.channels.enumerated() where removed.contains(c) {
            let v = bias?[p] ?? 0
            result[p] = Constant(value: v, component: c)
        }
        if !result.isEmpty { constants[out] = result }
    }
}
