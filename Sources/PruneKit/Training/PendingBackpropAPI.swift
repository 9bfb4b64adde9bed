// TEMPORARY, deleted when branch `backprop` is merged: the agreed autodiff API
// (notes/training-api.md, as committed on `backprop`), declared so that fine-tuning compiles
// against it meanwhile. Every entry point throws; nothing here computes a gradient.

public enum ForwardMode: Sendable { case inference, training }

public struct BatchStatistics: Sendable {
    public var node: String
    public var meanName: String
    public var varianceName: String
    public var mean: NDArray<Float>
    public var variance: NDArray<Float>
    public var count: Int
}

public struct ForwardPass: Sendable {
    public var outputs: [String: NDArray<Float>]
    public var batchStatistics: [BatchStatistics]
}

public enum TrainingError: Error, Equatable, CustomStringConvertible {
    case unsupportedOp(node: String, opType: String)
    public var description: String {
        switch self {
        case let .unsupportedOp(node, op): return "node \(node): op \(op) has no backward pass (the backward passes are not merged yet)"
        }
    }
}

public struct TrainableGraph: Sendable {
    public let graph: Graph
    public let parameterNames: [String]
    public init(_ graph: Graph, parameters: Set<String>? = nil) throws {
        throw TrainingError.unsupportedOp(node: graph.nodes.first?.label ?? "-", opType: graph.nodes.first?.opType ?? "-")
    }
    public func initialState() -> [String: NDArray<Float>] { [:] }
    public func forward(inputs: [String: NDArray<Float>], state: [String: NDArray<Float>], mode: ForwardMode,
                        fetching: [String]? = nil) throws -> ForwardPass {
        throw TrainingError.unsupportedOp(node: "-", opType: "-")
    }
    public func backward(_ pass: ForwardPass, seeds: [String: NDArray<Float>]) throws -> [String: NDArray<Float>] {
        throw TrainingError.unsupportedOp(node: "-", opType: "-")
    }
}

public func softmaxCrossEntropy(logits: NDArray<Float>, labels: [Int]) throws -> (loss: Float, gradient: NDArray<Float>) {
    throw TrainingError.unsupportedOp(node: "-", opType: "softmaxCrossEntropy")
}

public func distillationLoss(student: NDArray<Float>, teacher: NDArray<Float>, temperature: Float) throws -> (loss: Float, gradient: NDArray<Float>) {
    throw TrainingError.unsupportedOp(node: "-", opType: "distillationLoss")
}
