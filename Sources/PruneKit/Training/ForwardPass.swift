/// How a training forward pass runs batch normalization.
public enum ForwardMode: Sendable {
    /// Running statistics from the state, as in deployment.
    case inference
    /// Each BatchNormalization normalizes with its batch's own statistics and reports them.
    case training
}

/// One forward pass of a `TrainableGraph`: the fetched values, the batch statistics of its
/// BatchNormalization nodes, and what `TrainableGraph.backward` needs.
public struct ForwardPass: Sendable {
    /// The fetched values, by name.
    public var outputs: [String: NDArray<Float>]
    /// One per BatchNormalization node run in `.training` mode, in execution order.
    public var batchStatistics: [BatchStatistics]

    let mode: ForwardMode
    /// The nodes a parameter's gradient flows back through, in execution order.
    let tape: [TapeEntry]
    /// Float values that depend on a parameter (the ones gradients are accumulated for).
    let differentiable: Set<String>
    /// The shape of every value computed or read, to check seeds against.
    let shapes: [String: [Int]]
}

/// A BatchNormalization node's statistics over one batch, for updating its running averages.
public struct BatchStatistics: Sendable {
    /// The node's label.
    public var node: String
    /// Initializer names of the node's running mean and running variance.
    public var meanName: String
    public var varianceName: String
    /// Per channel, over N·H·W values.
    public var mean: NDArray<Float>
    /// Biased (divided by `count`); multiply by count/(count − 1) for the unbiased estimate.
    public var variance: NDArray<Float>
    /// N·H·W.
    public var count: Int

    public init(node: String, meanName: String, varianceName: String, mean: NDArray<Float>, variance: NDArray<Float>, count: Int) {
        self.node = node
        self.meanName = meanName
        self.varianceName = varianceName
        self.mean = mean
        self.variance = variance
        self.count = count
    }
}

/// A node run by a forward pass whose output depends on a parameter: its input values and
/// every kernel result (including ones the node does not declare, such as MaxPool's indices).
struct TapeEntry: Sendable {
    let node: Int
    let inputs: [Interpreter.Value?]
    let results: [Interpreter.Value]
}
