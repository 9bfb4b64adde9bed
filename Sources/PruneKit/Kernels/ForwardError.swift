/// Why the forward pass stopped. Errors at a node name it (its `label`) and its op, so a
/// failed job can say which layer of the user's model is at fault.
public enum ForwardError: Error, Equatable, CustomStringConvertible {
    /// A graph input that the requested values depend on was not given.
    case missingInput(String)
    /// A given input is not one of the graph's inputs.
    case unexpectedInput(String)
    /// A given input does not have the rank or a fixed dimension the graph declares.
    case inputShape(name: String, declared: [Dim], actual: [Int])
    /// An input or initializer whose shape does not match its data.
    case invalidTensor(name: String, reason: KernelError)
    /// A requested value is neither an input, an initializer nor any node's output.
    case unknownValue(String)
    /// A node reads a value nothing defines.
    case undefinedValue(node: String, opType: String, value: String)
    /// The nodes form a cycle (these are the ones that could not be scheduled).
    case cycle(nodes: [String])
    case unsupportedOp(node: String, opType: String, domain: String)
    /// A kernel rejected the node's inputs or attributes.
    case nodeFailed(node: String, opType: String, reason: KernelError)

    public var description: String {
        switch self {
        case let .missingInput(name): return "graph input '\(name)' was not given"
        case let .unexpectedInput(name): return "'\(name)' is not an input of the graph"
        case let .inputShape(name, declared, actual):
            return "input '\(name)' has shape \(actual), the graph declares [\(declared.map(\.description).joined(separator: ", "))]"
        case let .invalidTensor(name, reason): return "tensor '\(name)': \(reason)"
        case let .unknownValue(name): return "no input, initializer or node output is named '\(name)'"
        case let .undefinedValue(node, op, value): return "node \(node) (\(op)) reads '\(value)', which nothing defines"
        case let .cycle(nodes): return "the graph has a cycle through \(nodes.prefix(8).joined(separator: ", "))"
        case let .unsupportedOp(node, op, domain):
            return "node \(node): op \(domain.isEmpty ? "" : domain + ".")\(op) is not supported by the forward pass"
        case let .nodeFailed(node, op, reason): return "node \(node) (\(op)): \(reason)"
        }
    }
}
