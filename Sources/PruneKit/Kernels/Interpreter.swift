/// Runs a `Graph` forward on the CPU: the reference that proves channel surgery leaves a
/// model's function intact, and the engine behind accuracy checks.
///
/// Nodes run in dependency order whatever their order in the file, and only those the
/// requested values need. Each intermediate is released after its last reader. Floating-point
/// values are computed and returned as F32; integer values (shapes, indices) keep their dtype.
public struct Interpreter: Sendable {
    public init() {}

    /// The graph's outputs, by name.
    public func run(_ graph: Graph, inputs: [String: Tensor]) throws -> [String: Tensor] {
        try run(graph, inputs: inputs, fetching: graph.outputs.map(\.name))
    }

    /// Any values of the graph (outputs, intermediates, initializers, inputs), by name.
    public func run(_ graph: Graph, inputs: [String: Tensor], fetching names: [String]) throws -> [String: Tensor] {
        let inputNames = Set(graph.inputs.map(\.name))
        for name in inputs.keys where !inputNames.contains(name) { throw ForwardError.unexpectedInput(name) }
        // A given input overrides an initializer of the same name (ONNX lets graph inputs do that).
        var sources: [String: Tensor] = graph.initializers
        for (name, tensor) in inputs { sources[name] = tensor }

        let producers = graph.producers()
        for name in names where producers[name] == nil && sources[name] == nil {
            if inputNames.contains(name) { throw ForwardError.missingInput(name) }
            throw ForwardError.unknownValue(name)
        }
        let order = try Self.schedule(graph, producing: names, producers: producers, available: sources)
        try Self.checkInputs(graph, inputs, order: order, fetching: names)

        // Readers left per value; a fetched value is never released.
        var readers: [String: Int] = [:]
        for i in order { for v in graph.nodes[i].inputs where !v.isEmpty { readers[v, default: 0] += 1 } }
        let fetched = Set(names)
        var values: [String: Value] = [:]
        let opset = graph.model.defaultOpset

        for i in order {
            let node = graph.nodes[i]
            let args = try node.inputs.map { name -> Value? in
                guard !name.isEmpty else { return nil }
                if let v = values[name] { return v }
                let v = try Self.decode(name, sources[name]!)  // schedule() proved every other input is a source
                values[name] = v
                return v
            }
            let results = try Self.execute(node, OpContext(node: node, inputs: args, opset: opset))
            for name in node.inputs where !name.isEmpty {
                readers[name]! -= 1
                if readers[name] == 0, !fetched.contains(name) { values[name] = nil }
            }
            for (name, value) in zip(node.outputs, results) where !name.isEmpty {
                values[name] = value
            }
        }
        var out: [String: Tensor] = [:]
        for name in names { out[name] = try values[name]?.tensor ?? Self.decode(name, sources[name]!).tensor }
        return out
    }

    static func decode(_ name: String, _ tensor: Tensor) throws -> Value {
        do {
            return try Value(checking: tensor)
        } catch let error as KernelError {
            throw ForwardError.invalidTensor(name: name, reason: error)
        }
    }

    /// Runs one node, naming it in any error, and checks it produced every output it declares.
    static func execute(_ node: Node, _ context: OpContext) throws -> [Value] {
        guard node.domain.isEmpty || node.domain == "ai.onnx", let kernel = kernels[node.opType] else {
            throw ForwardError.unsupportedOp(node: node.label, opType: node.opType, domain: node.domain)
        }
        do {
            let results = try kernel(context)
            if let missing = node.outputs.indices.first(where: { $0 >= results.count && !node.outputs[$0].isEmpty }) {
                throw KernelError.unsupported("output #\(missing) ('\(node.outputs[missing])')")
            }
            return results
        } catch let error as KernelError {
            throw ForwardError.nodeFailed(node: node.label, opType: node.opType, reason: error)
        }
    }

    /// The nodes that `names` depend on, in an order where each runs after the producers of
    /// its inputs (file order among independent nodes).
    static func schedule(_ graph: Graph, producing names: [String], producers: [String: Int],
                         available: [String: Tensor]) throws -> [Int] {
        var needed = Set<Int>()
        var pending = names
        while let name = pending.popLast() {
            guard let p = producers[name], needed.insert(p).inserted else { continue }
            pending.append(contentsOf: graph.nodes[p].inputs.filter { !$0.isEmpty })
        }
        var waiting: [Int: Int] = [:]  // node -> inputs whose producer has not run
        var dependents: [Int: [Int]] = [:]
        for i in needed.sorted() {
            let node = graph.nodes[i]
            var seen = Set<String>()
            for name in node.inputs where !name.isEmpty && seen.insert(name).inserted {
                if let p = producers[name] {
                    waiting[i, default: 0] += 1
                    dependents[p, default: []].append(i)
                } else if available[name] == nil {
                    if graph.inputs.contains(where: { $0.name == name }) { throw ForwardError.missingInput(name) }
                    throw ForwardError.undefinedValue(node: node.label, opType: node.opType, value: name)
                }
            }
        }
        var ready = needed.filter { waiting[$0] == nil }.sorted()
        var order: [Int] = []
        order.reserveCapacity(needed.count)
        var head = 0
        while head < ready.count {
            let i = ready[head]
            head += 1
            order.append(i)
            for d in dependents[i] ?? [] {
                waiting[d]! -= 1
                if waiting[d] == 0 { ready.append(d) }
            }
        }
        guard order.count == needed.count else {
            let stuck = needed.subtracting(order).sorted().map { graph.nodes[$0].label }
            throw ForwardError.cycle(nodes: stuck)
        }
        return order
    }

    /// Every graph input the scheduled nodes read must be given, with the declared rank and
    /// fixed dimensions.
    static func checkInputs(_ graph: Graph, _ inputs: [String: Tensor], order: [Int], fetching names: [String]) throws {
        var read = Set(names)
        for i in order { read.formUnion(graph.nodes[i].inputs) }
        for info in graph.inputs where read.contains(info.name) {
            guard let given = inputs[info.name] else {
                if graph.initializers[info.name] != nil { continue }
                throw ForwardError.missingInput(info.name)
            }
            guard let declared = info.shape else { continue }
            let fits = declared.count == given.shape.count
                && zip(declared, given.shape).allSatisfy { d, n in d.value.map { $0 == n } ?? true }
            if !fits { throw ForwardError.inputShape(name: info.name, declared: declared, actual: given.shape) }
        }
    }
}
