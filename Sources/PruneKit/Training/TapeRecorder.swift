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
            for name in rule.allOutputs ? node.outputs : [output] where !name.isEmpty { differentiable.insert(name) }
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
