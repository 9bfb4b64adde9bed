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
