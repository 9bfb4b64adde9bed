/// Why a graph cannot be prepared for training, or a forward/backward call was refused.
/// Forward-pass failures inside a node are the interpreter's `ForwardError`s, naming the node.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    /// A node between a parameter and an output (or on the backward sweep) whose op has no backward.
    case unsupportedOp(node: String, opType: String)
    /// A requested parameter is not a floating-point initializer of the graph.
    case notAParameter(String)
    /// A `state` entry names no floating-point initializer of the graph.
    case unknownStateEntry(String)
    /// A `state` entry whose shape differs from the initializer it overrides.
    case stateShape(name: String, expected: [Int], actual: [Int])
    /// A seed names a value the forward pass did not compute or read.
    case unknownSeed(String)
    /// A seed whose shape differs from its value's.
    case seedShape(name: String, expected: [Int], actual: [Int])
    /// A backward kernel rejected the node's values.
    case backwardFailed(node: String, opType: String, reason: KernelError)

    public var description: String {
        switch self {
        case let .unsupportedOp(node, op): return "node \(node): op \(op) has no backward pass, and a parameter's gradient flows through it"
        case let .notAParameter(name): return "'\(name)' is not a floating-point initializer of the graph"
        case let .unknownStateEntry(name): return "state entry '\(name)' is not a floating-point initializer of the graph"
        case let .stateShape(name, expected, actual): return "state entry '\(name)' has shape \(actual), the graph's initializer \(expected)"
        case let .unknownSeed(name): return "seed '\(name)' is not a value of the forward pass"
        case let .seedShape(name, expected, actual): return "seed '\(name)' has shape \(actual), the value \(expected)"
        case let .backwardFailed(node, op, reason): return "backward of node \(node) (\(op)): \(reason)"
        }
    }
}
