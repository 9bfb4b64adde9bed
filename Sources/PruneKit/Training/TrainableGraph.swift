/// A graph prepared for gradient computation: forward passes that record what the backward
/// needs (a tape), and a backward sweep in reverse execution order that accumulates
/// dLoss/dValue, summing where a value has several readers (residual adds, concat branches).
///
/// The forward runs the interpreter's kernels; only BatchNormalization in `.training` mode
/// runs differently (batch statistics). Integer values (shapes, indices) are computed but
/// never differentiated. Dropout is the identity in both modes.
public struct TrainableGraph: Sendable {
    public let graph: Graph
    /// Sorted.
    public let parameterNames: [String]
    /// Every initializer, decoded once.
    let constants: [String: Interpreter.Value]
    let producers: [String: Int]

    /// `parameters` defaults to every float initializer of rank ≥ 1 read where a gradient
    /// flows: weights and biases of Conv, Gemm, MatMul, BatchNormalization's scale and B, and
    /// operands of Add, Mul, ... Never BatchNormalization's running mean and variance, Clip's
    /// bounds or integer tensors. Rank-0 initializers are left out: exporters emit scalar
    /// constants (GELU's 0.5, a normalization's epsilon) that way; name them to train them.
    ///
    /// Throws `TrainingError.unsupportedOp` naming the node when an op on the path from a
    /// parameter to a graph output has no backward, and `.notAParameter` for a requested
    /// name that is not a float initializer.
    public init(_ graph: Graph, parameters: Set<String>? = nil) throws {
        self.graph = graph
        var constants: [String: Interpreter.Value] = [:]
        for (name, tensor) in graph.initializers { constants[name] = try Interpreter.decode(name, tensor) }
        self.constants = constants
        producers = graph.producers()
        if let parameters {
            for name in parameters {
                guard case .float? = constants[name] else { throw TrainingError.notAParameter(name) }
            }
            parameterNames = parameters.sorted()
        } else {
            parameterNames = Self.defaultParameters(graph, constants).sorted()
        }
        try checkBackwardPath()
    }

    /// Every float initializer decoded (parameters and buffers such as BN running statistics).
    public func initialState() -> [String: NDArray<Float>] {
        constants.compactMapValues { if case let .float(a) = $0 { return a } else { return nil } }
    }

    private static func defaultParameters(_ graph: Graph, _ constants: [String: Interpreter.Value]) -> Set<String> {
        var names = Set<String>()
        for node in graph.nodes {
            guard let rule = GradientRule.rule(for: node) else { continue }
            for (slot, name) in node.inputs.enumerated() where rule.flows(into: slot) {
                if case let .float(a)? = constants[name], a.rank >= 1 { names.insert(name) }
            }
        }
        return names
    }

    /// Follows values that depend on a parameter forward, and values the outputs need
    /// backward; a node in both without a backward rule is refused now rather than mid-training.
    private func checkBackwardPath() throws {
        var dependent = Set(parameterNames)
        var changed = true
        while changed {
            changed = false
            for node in graph.nodes {
                let rule = GradientRule.rule(for: node)
                let reached = node.inputs.enumerated().contains { slot, name in
                    dependent.contains(name) && (rule?.flows(into: slot) ?? true)
                }
                // An op without a rule might pass gradient to any output; one with a rule to output 0.
                let outputs = rule == nil || rule?.allOutputs == true ? node.outputs : Array(node.outputs.prefix(1))
                for name in outputs where reached && !name.isEmpty && dependent.insert(name).inserted { changed = true }
            }
        }
        var needed = Set(graph.outputs.map(\.name))
        var pending = Array(needed)
        while let name = pending.popLast() {
            guard let p = producers[name] else { continue }
            for input in graph.nodes[p].inputs where !input.isEmpty && needed.insert(input).inserted { pending.append(input) }
        }
        for node in graph.nodes where GradientRule.rule(for: node) == nil {
            let passes = node.inputs.contains(where: dependent.contains) && node.outputs.contains(where: needed.contains)
            if passes { throw TrainingError.unsupportedOp(node: node.label, opType: node.opType) }
        }
    }
}
