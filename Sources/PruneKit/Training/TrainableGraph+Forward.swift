extension TrainableGraph {
    /// Runs the graph on `inputs`. `state` overrides initializers by name (parameters and
    /// buffers; each must have its initializer's shape); missing names fall back to the
    /// graph's initializers. `fetching` defaults to the graph outputs.
    ///
    /// Inputs are checked against the declared rank and fixed dimensions except the first,
    /// so a model exported with batch 1 trains on batches of any size.
    public func forward(inputs: [String: NDArray<Float>], state: [String: NDArray<Float>], mode: ForwardMode,
                        fetching: [String]? = nil) throws -> ForwardPass {
        let names = fetching ?? graph.outputs.map(\.name)
        var sources = constants
        for (name, value) in state {
            guard case let .float(original)? = constants[name] else { throw TrainingError.unknownStateEntry(name) }
            guard original.shape == value.shape else {
                throw TrainingError.stateShape(name: name, expected: original.shape, actual: value.shape)
            }
            sources[name] = .float(value)
        }
        try checkInputs(inputs)
        for (name, value) in inputs { sources[name] = .float(value) }
        for name in names where producers[name] == nil && sources[name] == nil {
            if graph.inputs.contains(where: { $0.name == name }) { throw ForwardError.missingInput(name) }
            throw ForwardError.unknownValue(name)
        }
        // schedule() only asks which names are available, so inputs stand in as empty tensors.
        var available = graph.initializers
        for name in inputs.keys { available[name] = Tensor(shape: [0], floats: []) }
        let order = try Interpreter.schedule(graph, producing: names, producers: producers, available: available)

        var recorder = TapeRecorder(graph: graph, mode: mode, parameters: parameterNames)
        var values: [String: Interpreter.Value] = [:]
        var readers: [String: Int] = [:]
        for i in order { for v in graph.nodes[i].inputs where !v.isEmpty { readers[v, default: 0] += 1 } }
        let fetched = Set(names)
        for i in order {
            let node = graph.nodes[i]
            let args = node.inputs.map { $0.isEmpty ? nil : values[$0] ?? sources[$0] }
            let results = try recorder.run(i, args)
            // The tape keeps what the backward needs; everything else is released after its last reader.
            for name in node.inputs where !name.isEmpty {
                readers[name]! -= 1
                if readers[name] == 0, !fetched.contains(name) { values[name] = nil }
            }
            for (name, value) in zip(node.outputs, results) where !name.isEmpty { values[name] = value }
        }
        var outputs: [String: NDArray<Float>] = [:]
        for name in names { outputs[name] = (values[name] ?? sources[name])!.floats }
        return recorder.finish(outputs: outputs)
    }

    private func checkInputs(_ inputs: [String: NDArray<Float>]) throws {
        for (name, value) in inputs {
            guard let info = graph.inputs.first(where: { $0.name == name }) else { throw ForwardError.unexpectedInput(name) }
            guard let declared = info.shape else { continue }
            let fits = declared.count == value.rank
                && zip(declared, value.shape).enumerated().allSatisfy { i, pair in i == 0 || pair.0.value.map { $0 == pair.1 } ?? true }
            if !fits { throw ForwardError.inputShape(name: name, declared: declared, actual: value.shape) }
        }
    }
}

/// Runs nodes for a forward pass and records, for each one a parameter's gradient will flow
/// back through, its inputs and results.
struct TapeRecorder {
    let graph: Graph
    let mode: ForwardMode
    private(set) var tape: [TapeEntry] = []
    private(set) var differentiable: Set<String>
    private(set) var shapes: [String: [Int]] = [:]
    private(set) var statistics: [BatchStatistics] = []

    init(graph: Graph, mode: ForwardMode, parameters: [String]) {
        self.graph = graph
        self.mode = mode
        differentiable = Set(parameters)
    }

    mutating func run(_ index: Int, _ args: [Interpreter.Value?]) throws -> [Interpreter.Value] {
        let node = graph.nodes[index]
        let context = Interpreter.OpContext(node: node, inputs: args, opset: graph.model.defaultOpset)
        let results: [Interpreter.Value]
        if mode == .training, node.opType == "BatchNormalization", node.domain.isEmpty || node.domain == "ai.onnx" {
            results = try trainingBatchNorm(context)
        } else {
            results = try Interpreter.execute(node, context)
        }
        for (name, value) in zip(node.inputs, args) where !name.isEmpty { shapes[name] = value?.shape }
        for (name, value) in zip(node.outputs, results) where !name.isEmpty { shapes[name] = value.shape }
        if let rule = GradientRule.rule(for: node), let output = node.outputs.first, !output.isEmpty,
           case .float? = results.first,
           node.inputs.enumerated().contains(where: { rule.flows(into: $0.offset) && differentiable.contains($0.element) }) {
            differentiable.insert(output)
            tape.append(TapeEntry(node: index, inputs: args, results: results))
        }
        return results
    }

    /// Normalizes with the batch's statistics; results are [Y, batch mean, batch variance].
    private mutating func trainingBatchNorm(_ c: Interpreter.OpContext) throws -> [Interpreter.Value] {
        let node = c.node
        do {
            if try c.int("spatial", 1) == 0 { throw KernelError.unsupported("BatchNormalization spatial=0") }
            let x = try c.floats(0)
            let (y, mean, variance) = try batchNormalizationTraining(x, scale: try c.floats(1), bias: try c.floats(2),
                                                                     epsilon: try c.float("epsilon", 1e-5))
            statistics.append(BatchStatistics(node: node.label, meanName: node.inputs.count > 3 ? node.inputs[3] : "",
                                              varianceName: node.inputs.count > 4 ? node.inputs[4] : "",
                                              mean: mean, variance: variance, count: x.count / max(x.shape[1], 1)))
            return [.float(y), .float(mean), .float(variance)]
        } catch let error as KernelError {
            throw ForwardError.nodeFailed(node: node.label, opType: node.opType, reason: error)
        }
    }

    func finish(outputs: [String: NDArray<Float>]) -> ForwardPass {
        ForwardPass(outputs: outputs, batchStatistics: statistics, mode: mode, tape: tape,
                    differentiable: differentiable, shapes: shapes)
    }
}
