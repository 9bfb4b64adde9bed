extension TrainableGraph {
    /// dLoss/dParameter for every name in `parameterNames` (zeros where no gradient reaches),
    /// given dLoss/dValue for values of the pass in `seeds` (usually the fetched outputs).
    public func backward(_ pass: ForwardPass, seeds: [String: NDArray<Float>]) throws -> [String: NDArray<Float>] {
        var gradients = GradientAccumulator()
        for (name, seed) in seeds {
            guard let shape = pass.shapes[name] ?? pass.outputs[name]?.shape else { throw TrainingError.unknownSeed(name) }
            guard shape == seed.shape else { throw TrainingError.seedShape(name: name, expected: shape, actual: seed.shape) }
            if pass.differentiable.contains(name) { gradients.add(seed, to: name) }
        }
        let opset = graph.model.defaultOpset
        // Reverse execution order: every reader of a value has passed its gradient back
        // before the value's producer is reached.
        for entry in pass.tape.reversed() {
            let node = graph.nodes[entry.node]
            guard let rule = GradientRule.rule(for: node),
                  let dys = rule.allOutputs ? gradients.takeAll(node.outputs, shapes: entry.results.map(\.shape))
                                            : gradients.take(node.outputs[0]).map({ [$0] }) else { continue }
            let wanted = node.inputs.enumerated().map { slot, name in
                rule.flows(into: slot) && pass.differentiable.contains(name)
            }
            guard wanted.contains(true) else { continue }
            let context = GradientContext(op: Interpreter.OpContext(node: node, inputs: entry.inputs, opset: opset),
                                          results: entry.results, gradOutput: dys[0], gradOutputs: dys, wanted: wanted, mode: pass.mode)
            let inputGradients: [NDArray<Float>?]
            do {
                inputGradients = try rule.compute(context)
            } catch let error as KernelError {
                throw TrainingError.backwardFailed(node: node.label, opType: node.opType, reason: error)
            }
            for (slot, gradient) in inputGradients.enumerated() where slot < wanted.count && wanted[slot] {
                guard let gradient else { continue }
                let name = node.inputs[slot]
                guard gradient.shape == entry.inputs[slot]?.shape else {
                    throw TrainingError.backwardFailed(node: node.label, opType: node.opType,
                                                       reason: .shape("gradient \(gradient.shape) for input '\(name)' of shape \(entry.inputs[slot]?.shape ?? [])"))
                }
                gradients.add(gradient, to: name)
            }
        }
        var result: [String: NDArray<Float>] = [:]
        for name in parameterNames {
            if let g = gradients.take(name) {
                result[name] = g
            } else if case let .float(value)? = constants[name] {
                result[name] = NDArray(uncheckedShape: value.shape, storage: [Float](repeating: 0, count: value.count))
            }
        }
        return result
    }
}

/// dLoss/dValue by value name, summed over the value's readers.
struct GradientAccumulator {
    private var sums: [String: NDArray<Float>] = [:]

    /// The gradients of `names` (zeros of `shapes` where none came back); nil when none did.
    mutating func takeAll(_ names: [String], shapes: [[Int]]) -> [NDArray<Float>]? {
        let taken = names.map { $0.isEmpty ? nil : take($0) }
        guard taken.contains(where: { $0 != nil }) else { return nil }
        return zip(taken, shapes).map { g, shape in
            g ?? NDArray(uncheckedShape: shape, storage: [Float](repeating: 0, count: shape.reduce(1, *)))
        }
    }

    mutating func add(_ gradient: NDArray<Float>, to name: String) {
        guard var sum = sums.removeValue(forKey: name) else {
            sums[name] = gradient
            return
        }
        sum.storage.withUnsafeMutableBufferPointer { s in
            gradient.storage.withUnsafeBufferPointer { g in
                for i in s.indices { s[i] += g[i] }
            }
        }
        sums[name] = sum
    }

    /// Removes and returns a value's gradient.
    mutating func take(_ name: String) -> NDArray<Float>? { sums.removeValue(forKey: name) }
}
