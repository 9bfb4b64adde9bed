/// A classifier graph prepared to run mini-batches of a data file: one image input fed from
/// `input`, the first graph output read as logits (N × classes) — or, when that output is a
/// Softmax / LogSoftmax, the values it normalizes (cross-entropy and distillation want logits).
///
/// Exported models usually declare batch 1; here the batch dimension of the input and outputs
/// is symbolic, and constant Reshape targets that carry the batch are made batch-free
/// (`BatchFreeReshapes`), so that any batch size runs. `graph` is what recalibration,
/// correction and fine-tuning change; `exportable` puts the declared shapes and the model's
/// own Reshape targets back for writing.
public struct ClassifierGraph: Sendable {
    public var graph: Graph
    public let inputName: String
    public let logitsName: String
    private let declaredInputs: [ValueInfo]
    private let declaredOutputs: [ValueInfo]
    private let reshapes: BatchFreeReshapes

    /// Throws when the graph has no single data input, or `sampleShape` (C×H×W) does not fit it.
    public init(_ graph: Graph, sampleShape: [Int]) throws(TrainingDataError) {
        let inputs = graph.dataInputs
        guard inputs.count == 1, let input = inputs.first, let output = graph.outputs.first else {
            throw .modelInputs(names: inputs.map(\.name))
        }
        if let declared = input.shape {
            let fits = declared.count == sampleShape.count + 1
                && zip(declared.dropFirst(), sampleShape).allSatisfy { d, n in d.value.map { $0 == n } ?? true }
            if !fits { throw .inputMismatch(graphInput: input.name, declared: declared, sample: sampleShape) }
        }
        declaredInputs = graph.inputs
        declaredOutputs = graph.outputs
        var flexible = graph
        for i in flexible.inputs.indices where flexible.inputs[i].name == input.name {
            flexible.inputs[i].shape = flexible.inputs[i].shape.map { Self.batchSymbolic($0) }
        }
        for i in flexible.outputs.indices { flexible.outputs[i].shape = flexible.outputs[i].shape.map { Self.batchSymbolic($0) } }
        flexible.valueInfo = []  // recorded intermediate shapes carry the old batch too
        reshapes = BatchFreeReshapes(&flexible, input: input.name, sampleShape: sampleShape)
        self.graph = flexible
        inputName = input.name
        let producer = graph.nodes.first { $0.outputs.first == output.name }
        let normalizes = producer.map { ["Softmax", "LogSoftmax"].contains($0.opType) && $0.domain.isEmpty && $0.inputs.count == 1 } ?? false
        logitsName = normalizes ? producer!.inputs[0] : output.name
    }

    private static func batchSymbolic(_ dims: [Dim]) -> [Dim] {
        dims.isEmpty ? dims : [.symbolic("batch")] + dims.dropFirst()
    }

    /// The graph as it is now, with the input and output shapes the model declared.
    public var exportable: Graph {
        var g = graph
        g.inputs = declaredInputs
        g.outputs = declaredOutputs
        reshapes.restore(&g)
        return g
    }

    /// Runs one batch (inference mode: BN uses its running statistics) and returns `names`.
    public func run(_ batch: NDArray<Float>, fetching names: [String]) throws -> [String: NDArray<Float>] {
        let out = try Interpreter().run(graph, inputs: [inputName: Tensor(batch)], fetching: names)
        return out.mapValues { NDArray<Float>($0) }
    }

    /// The logits of one batch, checked to be N × classes.
    public func logits(_ batch: NDArray<Float>) throws -> NDArray<Float> {
        let logits = try run(batch, fetching: [logitsName])[logitsName]!
        guard logits.rank == 2, logits.shape[0] == batch.shape[0], logits.shape[1] > 0 else {
            throw TrainingDataError.logitsShape(output: logitsName, shape: logits.shape, batch: batch.shape[0])
        }
        return logits
    }
}
