/// Rewrites every BatchNormalization node into plain ops that normalize with the batch's own
/// statistics (training mode), exposing the batch mean and variance as values to fetch.
/// The inference forward pass then runs a training-mode forward without any new kernel.
enum TrainingModeBatchNorm {
    struct Probe {
        var node: String
        var channels: Int
        /// Initializer names of the node's running statistics.
        var runningMean: String
        var runningVariance: String
        /// Values of the rewritten graph: batch mean and biased variance (1×C×1×…), input shape.
        var meanValue: String
        var varianceValue: String
        var shapeValue: String
    }

    /// y = scale·(x − m)/√(v + ε) + B with m, v the mean and biased variance of x over every
    /// axis but 1 — the same y as the node in training mode.
    static func rewrite(_ graph: Graph) throws -> (Graph, [Probe]) {
        var g = graph
        var probes: [Probe] = []
        var nodes: [Node] = []
        let shapes = ShapeInference(graph: graph)
        for node in graph.nodes {
            guard node.opType == "BatchNormalization", node.domain.isEmpty || node.domain == "ai.onnx" else {
                nodes.append(node)
                continue
            }
            guard node.inputs.count == 5, let scale = graph.initializers[node.inputs[1]], let bias = graph.initializers[node.inputs[2]],
                  graph.initializers[node.inputs[3]] != nil, graph.initializers[node.inputs[4]] != nil
            else {
                throw CalibrationError.batchNormParameters(node: node.label)
            }
            let p = "__recalibration.\(probes.count)"
            let rank = shapes.shape(node.inputs[0])?.count ?? 4
            let x = node.inputs[0]
            let trailing = [Int](repeating: 1, count: max(rank - 2, 0))
            g.setInitializer("\(p).axes", Tensor(shape: [rank - 1], int64s: [0] + (2..<rank).map(Int64.init)))
            g.setInitializer("\(p).epsilon", Tensor(shape: [], floats: [node.float("epsilon") ?? 1e-5]))
            g.setInitializer("\(p).scale", Tensor(shape: [scale.count] + trailing, floats: scale.floats()))
            g.setInitializer("\(p).bias", Tensor(shape: [bias.count] + trailing, floats: bias.floats()))
            func op(_ type: String, _ inputs: [String], _ output: String) {
                nodes.append(Node(name: "\(p).\(output)", opType: type, inputs: inputs, outputs: [output]))
            }
            op("Shape", [x], "\(p).shape")
            op("ReduceMean", [x, "\(p).axes"], "\(p).mean")
            op("Sub", [x, "\(p).mean"], "\(p).centered")
            op("Mul", ["\(p).centered", "\(p).centered"], "\(p).squared")
            op("ReduceMean", ["\(p).squared", "\(p).axes"], "\(p).variance")
            op("Add", ["\(p).variance", "\(p).epsilon"], "\(p).shifted")
            op("Sqrt", ["\(p).shifted"], "\(p).deviation")
            op("Div", ["\(p).centered", "\(p).deviation"], "\(p).normalized")
            op("Mul", ["\(p).normalized", "\(p).scale"], "\(p).scaled")
            op("Add", ["\(p).scaled", "\(p).bias"], node.outputs[0])
            probes.append(Probe(node: node.label, channels: scale.count, runningMean: node.inputs[3], runningVariance: node.inputs[4],
                                meanValue: "\(p).mean", varianceValue: "\(p).variance", shapeValue: "\(p).shape"))
        }
        g.nodes = nodes
        return (g, probes)
    }
}

/// Why recalibration or the folded-BN correction cannot run on a model.
public enum CalibrationError: Error, Equatable, CustomStringConvertible {
    /// A BN whose scale, bias or running statistics are computed, not stored: nothing to update.
    case batchNormParameters(node: String)
    /// A layer the correction must scale whose weight is computed, not stored.
    case layerParameters(node: String)

    public var description: String {
        switch self {
        case let .batchNormParameters(node):
            return "BatchNormalization \(node): scale, bias, mean and variance must be initializers to recalibrate"
        case let .layerParameters(node):
            return "layer \(node): its weight (and bias) must be initializers, and its output one row per channel, to give it back the BN its export folded in"
        }
    }
}
