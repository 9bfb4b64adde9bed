import Foundation

/// The model as a dataflow graph: what the ONNX reader produces, what the safetensors
/// inference builds, what analysis, surgery and the forward pass work on, and what the
/// writers serialize. It mirrors ONNX's GraphProto closely so that a model read and written
/// without changes comes back with the same nodes, attributes and tensors.
public struct Graph: Sendable, Equatable {
    public var name: String
    public var nodes: [Node]
    /// Constant tensors by name; `initializerOrder` keeps the file's order for output.
    public var initializers: [String: Tensor]
    public var initializerOrder: [String]
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]
    /// Shapes the file recorded for intermediate values (kept for values surgery does not touch).
    public var valueInfo: [ValueInfo]
    public var model: ModelInfo

    public init(name: String = "graph", nodes: [Node] = [], initializers: [(String, Tensor)] = [],
                inputs: [ValueInfo] = [], outputs: [ValueInfo] = [], valueInfo: [ValueInfo] = [],
                model: ModelInfo = ModelInfo()) {
        self.name = name
        self.nodes = nodes
        self.initializers = Dictionary(initializers, uniquingKeysWith: { _, last in last })
        self.initializerOrder = []
        var seen = Set<String>()
        for (n, _) in initializers where seen.insert(n).inserted { initializerOrder.append(n) }
        self.inputs = inputs
        self.outputs = outputs
        self.valueInfo = valueInfo
        self.model = model
    }

    /// Adds or replaces an initializer, keeping the order of first insertion.
    public mutating func setInitializer(_ name: String, _ tensor: Tensor) {
        if initializers.updateValue(tensor, forKey: name) == nil { initializerOrder.append(name) }
    }

    public mutating func removeInitializer(_ name: String) {
        if initializers.removeValue(forKey: name) != nil { initializerOrder.removeAll { $0 == name } }
    }

    /// Initializers in file order.
    public var orderedInitializers: [(name: String, tensor: Tensor)] {
        initializerOrder.compactMap { n in initializers[n].map { (n, $0) } }
    }

    /// Graph inputs that are not initializers (old ONNX files list weights as inputs too).
    public var dataInputs: [ValueInfo] { inputs.filter { initializers[$0.name] == nil } }

    /// The node that produces each value.
    public func producers() -> [String: Int] {
        var map: [String: Int] = [:]
        for (i, node) in nodes.enumerated() { for o in node.outputs where !o.isEmpty { map[o] = i } }
        return map
    }

    /// The nodes (and input slots) that read each value.
    public func consumers() -> [String: [(node: Int, slot: Int)]] {
        var map: [String: [(node: Int, slot: Int)]] = [:]
        for (i, node) in nodes.enumerated() {
            for (slot, v) in node.inputs.enumerated() where !v.isEmpty { map[v, default: []].append((i, slot)) }
        }
        return map
    }
}

/// File-level facts kept for output: ONNX ir_version, opsets, producer, metadata.
public struct ModelInfo: Sendable, Equatable {
    public var irVersion: Int = 8
    public var opsets: [Opset] = [Opset(domain: "", version: 17)]
    public var producerName: String = "pruned"
    public var producerVersion: String = ""
    public var domain: String = ""
    public var modelVersion: Int = 0
    public var docString: String = ""
    public var metadata: [(key: String, value: String)] = []

    public init() {}

    public static func == (a: ModelInfo, b: ModelInfo) -> Bool {
        a.irVersion == b.irVersion && a.opsets == b.opsets && a.producerName == b.producerName
            && a.producerVersion == b.producerVersion && a.domain == b.domain && a.modelVersion == b.modelVersion
            && a.docString == b.docString && a.metadata.map(\.key) == b.metadata.map(\.key)
            && a.metadata.map(\.value) == b.metadata.map(\.value)
    }

    /// Opset version of the default ("" or "ai.onnx") domain.
    public var defaultOpset: Int {
        opsets.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }?.version ?? 17
    }
}

public struct Opset: Sendable, Equatable {
    public var domain: String
    public var version: Int
    public init(domain: String, version: Int) { self.domain = domain; self.version = version }
}

public struct Node: Sendable, Equatable {
    public var name: String
    public var opType: String
    public var domain: String
    /// Value names; an empty string is an omitted optional input, as in ONNX.
    public var inputs: [String]
    public var outputs: [String]
    /// In file order, so a round trip keeps it.
    public var attributes: [Attribute]
    public var docString: String

    public init(name: String, opType: String, domain: String = "", inputs: [String], outputs: [String],
                attributes: [Attribute] = [], docString: String = "") {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
        self.docString = docString
    }

    public subscript(attribute name: String) -> AttributeValue? {
        get { attributes.first { $0.name == name }?.value }
        set {
            if let i = attributes.firstIndex(where: { $0.name == name }) {
                if let v = newValue { attributes[i].value = v } else { attributes.remove(at: i) }
            } else if let v = newValue {
                attributes.append(Attribute(name, v))
            }
        }
    }

    public func int(_ name: String) -> Int? {
        if case let .int(v)? = self[attribute: name] { return v }
        return nil
    }

    public func ints(_ name: String) -> [Int]? {
        if case let .ints(v)? = self[attribute: name] { return v }
        return nil
    }

    public func float(_ name: String) -> Float? {
        if case let .float(v)? = self[attribute: name] { return v }
        return nil
    }

    public func string(_ name: String) -> String? {
        if case let .string(v)? = self[attribute: name] { return v }
        return nil
    }

    public func tensor(_ name: String) -> Tensor? {
        if case let .tensor(v)? = self[attribute: name] { return v }
        return nil
    }

    /// A readable identifier for errors and reports: the node's name, or its op and first output.
    public var label: String { name.isEmpty ? "\(opType)(\(outputs.first ?? "?"))" : name }
}

public struct Attribute: Sendable, Equatable {
    public var name: String
    public var value: AttributeValue
    public init(_ name: String, _ value: AttributeValue) { self.name = name; self.value = value }
}

public enum AttributeValue: Sendable, Equatable {
    case int(Int)
    case float(Float)
    case string(String)
    case ints([Int])
    case floats([Float])
    case strings([String])
    case tensor(Tensor)
    /// An attribute kind we do not interpret (a subgraph, a sparse tensor, a type proto):
    /// its serialized `AttributeProto`, written back unchanged.
    case opaque(Data)
}

/// A graph input, output or recorded intermediate: its element type and shape, where known.
public struct ValueInfo: Sendable, Equatable {
    public var name: String
    public var elementType: DType?
    /// nil when the file gives no shape at all.
    public var shape: [Dim]?

    public init(name: String, elementType: DType? = .f32, shape: [Dim]?) {
        self.name = name
        self.elementType = elementType
        self.shape = shape
    }
}

/// One dimension of a declared shape.
public enum Dim: Sendable, Equatable, CustomStringConvertible {
    case fixed(Int)
    case symbolic(String)
    case unknown

    public var value: Int? { if case let .fixed(v) = self { return v } else { return nil } }

    public var description: String {
        switch self {
        case let .fixed(v): return String(v)
        case let .symbolic(s): return s
        case .unknown: return "?"
        }
    }
}
